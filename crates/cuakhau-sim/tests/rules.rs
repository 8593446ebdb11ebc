//! The border's rules inside the simulator: hours in each side's zone, closures and holidays,
//! booked slots and no-shows, the far side's limit, AGV lanes, replayed arrivals, limits, and
//! clear errors for bad scenarios.

use cuakhau_sim::{Model, RunOptions, Scenario, SimError, run};
use std::path::Path;

const BASE: &str = r#"
name = "rules"
start = "2027-02-01T00:00:00+07:00"
horizon_days = 28
seed = 3
policy = "perishables-first"
[[gate_pairs]]
id = "a"
travel_time_min = 10
[gate_pairs.vn]
opens = "07:00"
closes = "19:00"
holidays = ["2027-02-06", "2027-02-07"]
closures = [{ from = "2027-02-10T12:00:00+07:00", until = "2027-02-11T12:00:00+07:00" }]
lanes = [{ direction = "export", count = 2 }, { direction = "export", class = "agv", count = 1, opens = "19:00", closes = "07:00" }, { direction = "import", count = 2 }, { direction = "import", class = "agv", count = 1 }]
[gate_pairs.cn]
opens = "08:00"
closes = "20:00"
lanes = [{ direction = "export", count = 2 }, { direction = "export", class = "agv", count = 1, opens = "19:00", closes = "07:00" }, { direction = "import", count = 2 }, { direction = "import", class = "agv", count = 1 }]
[[gate_pairs]]
id = "b"
[gate_pairs.vn]
opens = "00:00"
closes = "24:00"
lanes = [{ direction = "export", count = 1 }, { direction = "export", class = "agv", count = 1 }]
[gate_pairs.cn]
opens = "00:00"
closes = "24:00"
[[flows]]
direction = "export"
trucks_per_day = 60
split = { a = 3, b = 1 }
booked_share = 0.5
no_show_rate = 0.1
seasons = [{ name = "durian", from = "02-15", to = "03-15", multiplier = 2 }]
[[flows]]
direction = "import"
trucks_per_day = 20
[[commodities]]
name = "durian"
share = 0.4
perishable = true
shelf_life_h = 72
age_h = { kind = "empirical", values = [6, 12, 24] }
value_usd = 40000
[[commodities]]
name = "agv-containers"
share = 0.1
agv = true
[[commodities]]
name = "electronics"
share = 0.5
[channels]
green = 0.6
yellow = 0.3
red = 0.1
[[service]]
side = "VN"
agency = "customs"
time = { kind = "lognormal", mean = 12, sigma = 0.6 }
[[service]]
side = "VN"
agency = "quarantine"
time = { kind = "deterministic", value = 8 }
[[service]]
side = "CN"
agency = "customs"
time = { kind = "exponential", mean = 10 }
"#;

fn model(text: &str) -> Result<Model, SimError> {
    Model::compile(&Scenario::from_toml(text)?, Path::new("."))
}

#[test]
fn a_month_with_every_rule_keeps_its_invariants() {
    let m = model(BASE).unwrap();
    // The run asserts its invariants after every event; reaching the end is the first check.
    let r = run(&m, 9, &RunOptions { record_series: true, ..Default::default() }).unwrap();
    assert_eq!(r.arrived, r.served + r.in_system_end, "trucks are conserved");
    assert!(r.no_shows > 0, "some booked trucks did not come");
    assert!(r.served > 1000);
    // The AGV lane of pair a carried trucks; no other lane class carried them.
    let agv = r.lanes.iter().find(|(p, d, s, c, _)| p == "a" && *d == "export" && *s == "VN" && *c == "agv").unwrap();
    assert!(agv.4 > 0.0);
    // Holidays and the closure leave the Vietnamese side idle; the queue peaks then.
    assert!(r.queue_series.iter().any(|(_, n)| *n > 20), "the closure builds a queue");
}

#[test]
fn the_far_side_limit_holds_trucks_back() {
    let free = run(&model(BASE).unwrap(), 9, &RunOptions::default()).unwrap();
    let limited =
        run(&model(&BASE.replace("travel_time_min = 10", "travel_time_min = 10\nfar_side_limit = 1")).unwrap(), 9, &RunOptions::default())
            .unwrap();
    assert!(limited.wait_exit.mean_s() > 2.0 * free.wait_exit.mean_s(), "{} vs {}", limited.wait_exit.mean_s(), free.wait_exit.mean_s());
}

#[test]
fn replayed_arrivals_come_as_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("time,gate_pair,commodity,booked\n");
    for i in 0..50 {
        csv.push_str(&format!("2027-02-0{}T0{}:30:00+07:00,a,electronics,false\n", 1 + i % 5, i % 9));
    }
    std::fs::write(dir.path().join("arrivals.csv"), csv).unwrap();
    let text = BASE.replace("trucks_per_day = 20", "arrivals_csv = \"arrivals.csv\"").replace("trucks_per_day = 60", "trucks_per_day = 0");
    let m = Model::compile(&Scenario::from_toml(&text).unwrap(), dir.path()).unwrap();
    let r = run(&m, 1, &RunOptions::default()).unwrap();
    assert_eq!(r.arrived, 50);
    assert_eq!(r.served, 50, "a month is long enough to clear them");
}

#[test]
fn limits_stop_a_runaway() {
    let m = model(&format!("{BASE}\n[limits]\nmax_events = 1000\nmax_queue = 1000000\nmax_horizon_days = 100\nmax_replications = 10\n"))
        .unwrap();
    assert!(matches!(run(&m, 1, &RunOptions::default()), Err(SimError::Limit(_))));
    let m = model(&format!("{BASE}\n[limits]\nmax_events = 100000000\nmax_queue = 3\nmax_horizon_days = 100\nmax_replications = 10\n"))
        .unwrap();
    assert!(run(&m, 1, &RunOptions::default()).unwrap().turned_away > 0);
    let e = model(&BASE.replace("horizon_days = 28", "horizon_days = 100000")).unwrap_err();
    assert!(e.to_string().contains("horizon_days"), "{e}");
}

#[test]
fn bad_scenarios_are_refused_with_a_reason() {
    let cases = [
        (BASE.replace("policy = \"perishables-first\"", "policy = \"fastest\""), "policy 'fastest'"),
        (BASE.replace("closes = \"19:00\"", "closes = \"06:00\""), "closes must be after opens"),
        (BASE.replace("split = { a = 3, b = 1 }", "split = { a = 3, c = 1 }"), "unknown gate pair c"),
        (BASE.replace("shelf_life_h = 72", ""), "needs shelf_life_h"),
        (BASE.replace("kind = \"lognormal\", mean = 12", "kind = \"lognormal\", mean = -1"), "service VN customs: time: mean = -1"),
        (BASE.replace("2027-02-06", "06/02/2027"), "holiday"),
        (BASE.replace("seed = 3", "seed = 3\ncolour = \"red\""), "unknown field `colour`"),
        (BASE.replace("trucks_per_day = 20", "trucks_per_day = 20\nsplit = { b = 1 }"), "no import AGV lane on the CN side"),
        (BASE.replace("{ direction = \"import\", class = \"agv\", count = 1 }]", "]"), "no import AGV lane"),
        // Inputs that used to be accepted and silently lie.
        (BASE.replace("green = 0.6", "green = nan"), "channels.green = NaN"),
        (BASE.replace("red = 0.1", "red = -0.1"), "channels.red = -0.1"),
        (BASE.replace("share = 0.4", "share = nan"), "commodity durian: share = NaN"),
        (BASE.replace("\"electronics\"\nshare = 0.5", "\"electronics\"\nshare = -0.5"), "commodity electronics: share = -0.5"),
        (BASE.replace("booked_share = 0.5", "booked_share = nan"), "flow 1: booked_share = NaN"),
        (BASE.replace("value_usd = 40000", "value_usd = inf"), "commodity durian: value_usd = inf"),
        (BASE.replace("multiplier = 2", "multiplier = -1"), "flow 1: season durian: multiplier = -1"),
        (BASE.replace("multiplier = 2", "multiplier = 1e300"), "flow 1: season durian: multiplier = 1"),
        (BASE.replace("multiplier = 2", "multiplier = nan"), "flow 1: season durian: multiplier = NaN"),
        (
            BASE.replace("trucks_per_day = 60", "trucks_per_day = 9000000"),
            "flow 1: trucks_per_day with its hourly, weekday and season peaks",
        ),
        (
            BASE.replace("kind = \"deterministic\", value = 8", "kind = \"deterministic\", value = 1e300"),
            "service VN quarantine: time: value = 1",
        ),
        (BASE.replace("kind = \"exponential\", mean = 10", "kind = \"exponential\", mean = 1e300"), "service CN customs: time: mean = 1"),
        (BASE.replace("mean = 12, sigma = 0.6", "mean = 12, sigma = 40"), "service VN customs: time: sigma = 40"),
        (BASE.replace("values = [6, 12, 24]", "values = [6, 1e300]"), "commodity durian: age_h: values = 1"),
        (BASE.replace("shelf_life_h = 72", "shelf_life_h = nan"), "commodity durian: shelf_life_h = NaN"),
        (BASE.replace("shelf_life_h = 72", "shelf_life_h = 1e300"), "commodity durian: shelf_life_h = 1"),
        (BASE.replace("travel_time_min = 10", "travel_time_min = 1e300"), "gate pair a: travel_time_min = 1"),
        (BASE.replace("horizon_days = 28", "horizon_days = 1e12"), "horizon_days = 1000000000000 must be"),
        (
            format!("{BASE}\n[limits]\nmax_events = 1000\nmax_queue = 10\nmax_horizon_days = 1e13\nmax_replications = 10\n")
                .replace("horizon_days = 28", "horizon_days = 1e12"),
            "limits.max_horizon_days = 10000000000000 must be",
        ),
        (BASE.replace("horizon_days = 28", "horizon_days = 1e-9"), "horizon_days = 0.000000001 must be"),
        (BASE.replace("travel_time_min = 10", "travel_time_min = 10\nfar_side_limit = 0"), "gate pair a: far_side_limit = 0"),
        (
            BASE.replace(
                "closes = \"20:00\"\nlanes = [{ direction = \"export\", count = 2 }",
                "closes = \"20:00\"\nlanes = [{ direction = \"export\", count = 0 }",
            ),
            "gate pair a, CN side: lanes (export general) count = 0",
        ),
        (BASE.replace("split = { a = 3, b = 1 }", "split = { a = 3, b = nan }"), "flow 1: split.b = NaN"),
        (BASE.replace("until = \"2027-02-11T12:00:00+07:00\"", "until = \"2027-02-09T12:00:00+07:00\""), "closures: a closure's until"),
        // Distributions named in the schema, with their own checks.
        (BASE.replace("kind = \"deterministic\", value = 8", "kind = \"uniform\", min = 9, max = 8"), "min must not be above its max"),
        (BASE.replace("kind = \"deterministic\", value = 8", "kind = \"triangular\", min = 1, mode = 9, max = 8"), "min ≤ mode ≤ max"),
        (
            BASE.replace("values = [6, 12, 24]", "values = [6, 12, 24], weights = [1, 2]"),
            "commodity durian: age_h: weights needs one weight per value",
        ),
        (BASE.replace("values = [6, 12, 24]", "values = [6, 12, 24], weights = [1, -2, 1]"), "commodity durian: age_h: weights must be"),
        (BASE.replace("values = [6, 12, 24]", "values = [6, 12, 24], weights = [0, 0, 0]"), "commodity durian: age_h: weights must be"),
        // Weekday windows: named days, one way of giving the hours, no overlaps.
        (
            BASE.replace("opens = \"08:00\"\ncloses = \"20:00\"", "windows = [{ days = \"mon-fry\", opens = \"08:00\", closes = \"09:00\" }]"),
            "gate pair a, CN side: windows: days 'mon-fry'",
        ),
        (
            BASE.replace("closes = \"20:00\"\nlanes", "closes = \"20:00\"\nwindows = [{ days = \"daily\", opens = \"08:00\", closes = \"09:00\" }]\nlanes"),
            "gate pair a, CN side: give the hours either as opens/closes or as windows",
        ),
        (
            BASE.replace(
                "opens = \"08:00\"\ncloses = \"20:00\"",
                "windows = [{ days = \"mon-fri\", opens = \"08:00\", closes = \"12:00\" }, { days = \"fri\", opens = \"11:00\", closes = \"13:00\" }]",
            ),
            "gate pair a, CN side: windows: overlapping windows on weekday 4",
        ),
        (BASE.replace("opens = \"08:00\"\ncloses = \"20:00\"", "opens = \"08:00\""), "gate pair a, CN side: closes"),
    ];
    for (text, want) in cases {
        let e = match Scenario::from_toml(&text) {
            Err(e) => e,
            Ok(s) => Model::compile(&s, Path::new(".")).unwrap_err(),
        };
        assert!(e.to_string().contains(want), "want '{want}' in: {e}");
    }
}

#[test]
fn a_bad_variant_is_refused_with_its_name() {
    let text = format!("{BASE}\n[[variants]]\nname = \"no crossing\"\nfar_side_limit = 0\n");
    let e =
        cuakhau_sim::simulate(&Scenario::from_toml(&text).unwrap(), Path::new("."), &Default::default(), &Default::default()).unwrap_err();
    assert!(e.to_string().contains("variant no crossing: gate pair a: far_side_limit = 0"), "{e}");
    let text = format!("{BASE}\n[[variants]]\nname = \"negative\"\ndemand_multiplier = -2\n");
    let e =
        cuakhau_sim::simulate(&Scenario::from_toml(&text).unwrap(), Path::new("."), &Default::default(), &Default::default()).unwrap_err();
    assert!(e.to_string().contains("variant negative: flow 1: trucks_per_day = -120"), "{e}");
}

#[test]
fn an_unwritable_output_names_its_path() {
    let s = Scenario::from_toml(&BASE.replace("horizon_days = 28", "horizon_days = 1")).unwrap();
    let (summary, runs) = cuakhau_sim::simulate(&s, Path::new("."), &Default::default(), &Default::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let out = file.join("results");
    let e = cuakhau_sim::report::write_all(&out, &summary, &runs).unwrap_err();
    assert!(e.to_string().contains(&out.display().to_string()), "{e}");
}

#[test]
fn seasons_raise_demand() {
    let m = model(&BASE.replace("multiplier = 2", "multiplier = 1")).unwrap();
    let plain = run(&m, 4, &RunOptions::default()).unwrap();
    let season = run(&model(BASE).unwrap(), 4, &RunOptions::default()).unwrap();
    assert!(season.arrived as f64 > plain.arrived as f64 * 1.2, "{} vs {}", season.arrived, plain.arrived);
    assert_eq!(cuakhau_sim::engine::day_of_year(0), 1);
    assert_eq!(cuakhau_sim::engine::day_of_year(59), 60, "1970-03-01");
    assert_eq!(cuakhau_sim::engine::day_of_year(365 + 365 + 59), 60, "1972-02-29 in a leap year");
}

/// The demo day's generator draws the same trucks as a run with the same seed.
#[test]
fn generated_arrivals_are_the_runs_own() {
    let m = model(BASE).unwrap();
    let drawn = cuakhau_sim::generate(&m, 11);
    let stats = run(&m, 11, &RunOptions::default()).unwrap();
    let showed = drawn.iter().filter(|a| !a.no_show).count() as u64;
    assert_eq!(drawn.iter().filter(|a| a.no_show).count() as u64, stats.no_shows);
    // Booked trucks whose slot falls after the horizon never reach the run's yard; the rest do.
    assert!(stats.arrived + stats.turned_away <= showed && showed - stats.arrived < showed / 100, "{showed} vs {}", stats.arrived);
    assert!(drawn.windows(2).all(|w| w[0].at_us <= w[1].at_us), "in time order");
    assert_eq!(cuakhau_sim::generate(&m, 11), drawn, "reproducible from the seed");
    assert_ne!(cuakhau_sim::generate(&m, 12), drawn);
}
