//! The simulator against queueing theory, and its determinism.
//!
//! An M/M/c configuration (Poisson arrivals, exponential service, c lanes, always open) must
//! reproduce Erlang C's mean wait within the confidence interval over replications; Little's law
//! must hold; the same seed must repeat bit for bit and different seeds must differ.

use cuakhau_sim::{Model, Overrides, Progress, RunOptions, Scenario, replication_seed, run};
use std::path::Path;

fn mmc(lambda_per_h: f64, mean_service_min: f64, c: u32, days: f64, reps: u32) -> Scenario {
    Scenario::from_toml(&format!(
        r#"
name = "M/M/{c}"
start = "2027-01-01T00:00:00+07:00"
horizon_days = {days}
replications = {reps}
seed = 11
[[gate_pairs]]
id = "mmc"
travel_time_min = 0
[gate_pairs.vn]
opens = "00:00"
closes = "24:00"
lanes = [{{ direction = "export", count = {c} }}]
[gate_pairs.cn]
opens = "00:00"
closes = "24:00"
[[flows]]
direction = "export"
trucks_per_day = {tpd}
[[commodities]]
name = "general"
share = 1
[[service]]
side = "VN"
agency = "customs"
time = {{ kind = "exponential", mean = {mean_service_min} }}
"#,
        tpd = lambda_per_h * 24.0
    ))
    .unwrap()
}

/// Erlang C: the probability that an arrival waits, P(W > 0).
fn erlang_c(lambda: f64, mu: f64, c: u32) -> f64 {
    erlang_c_wq_h(lambda, mu, c) * (c as f64 * mu - lambda)
}

/// Erlang C mean waiting time in hours.
fn erlang_c_wq_h(lambda: f64, mu: f64, c: u32) -> f64 {
    let a = lambda / mu;
    let rho = a / c as f64;
    let mut term = 1.0;
    let mut sum = 1.0; // k = 0
    for k in 1..c {
        term *= a / k as f64;
        sum += term;
    }
    let last = term * a / c as f64 / (1.0 - rho); // a^c / c! / (1 - rho)
    let p_wait = last / (sum + last);
    p_wait / (c as f64 * mu - lambda)
}

#[test]
fn erlang_c_is_reproduced_within_the_confidence_interval() {
    // λ = 10 trucks/h, 15-minute lanes (μ = 4/h), 3 lanes: ρ ≈ 0.83.
    let (lambda, mu, c) = (10.0, 4.0, 3);
    let want = erlang_c_wq_h(lambda, mu, c);
    assert!((want - 0.3511).abs() < 1e-3, "Erlang C itself: {want}");
    let (summary, _) =
        cuakhau_sim::simulate(&mmc(lambda, 15.0, c, 120.0, 12), Path::new("."), &Overrides::default(), &Progress::default()).unwrap();
    let ci = summary.variants[0].wait_h_mean_ci;
    assert!((ci.mean - want).abs() <= ci.half_width, "simulated {:.4} ± {:.4} h, Erlang C {want:.4} h", ci.mean, ci.half_width);
    assert!(ci.half_width < 0.1 * want, "the interval is tight enough to mean something: ±{:.4}", ci.half_width);
}

#[test]
fn littles_law_holds() {
    let m = Model::compile(&mmc(10.0, 15.0, 3, 400.0, 1), Path::new(".")).unwrap();
    let r = run(&m, 5, &RunOptions::default()).unwrap();
    let l = r.mean_queue;
    let lw = r.arrival_rate_h * r.wait_exit.mean_s() / 3600.0;
    assert!(((l - lw) / l).abs() < 0.02, "L = {l:.4}, λW = {lw:.4}");
}

#[test]
fn the_same_seed_repeats_exactly_and_other_seeds_differ() {
    let m = Model::compile(&mmc(10.0, 15.0, 3, 60.0, 1), Path::new(".")).unwrap();
    let fingerprint = |seed| {
        let r = run(&m, seed, &RunOptions { record_series: true, ..Default::default() }).unwrap();
        (r.events, r.served, r.wait_total.mean_s().to_bits(), r.wait_total.quantile_s(0.95).to_bits(), r.queue_series.clone())
    };
    assert_eq!(fingerprint(replication_seed(1, 0)), fingerprint(replication_seed(1, 0)));
    assert_ne!(fingerprint(replication_seed(1, 0)).2, fingerprint(replication_seed(1, 1)).2);
    assert_ne!(replication_seed(1, 0), replication_seed(2, 0));
}

#[test]
fn a_variant_equal_to_the_baseline_differs_by_exactly_zero() {
    let mut s = mmc(10.0, 15.0, 3, 30.0, 4);
    s.variants.push(cuakhau_sim::scenario::VariantSpec { name: "same".into(), ..Default::default() });
    s.variants.push(cuakhau_sim::scenario::VariantSpec {
        name: "+1 lane".into(),
        add_lanes: vec![cuakhau_sim::scenario::AddLanes {
            gate_pair: "mmc".into(),
            side: "VN".into(),
            direction: "export".into(),
            class: "general".into(),
            count: 1,
            opens: None,
            closes: None,
        }],
        ..Default::default()
    });
    let (summary, _) = cuakhau_sim::simulate(&s, Path::new("."), &Overrides::default(), &Progress::default()).unwrap();
    let same = summary.variants[1].vs_baseline.as_ref().unwrap();
    assert_eq!((same.mean_wait_h.mean, same.mean_wait_h.half_width), (0.0, 0.0), "common random numbers");
    let more = summary.variants[2].vs_baseline.as_ref().unwrap();
    assert!(more.mean_wait_h.mean + more.mean_wait_h.half_width < 0.0, "a fourth lane cuts the wait: {:?}", more.mean_wait_h);
    assert_eq!(summary.variants[2].arrived, summary.variants[0].arrived, "the same trucks arrive in every variant");
}

/// P(W > 0) = C(c, λ/μ) and P(W > t) = C · e^(−(cμ − λ)t), after a warm-up, within the 95 %
/// intervals over replications, for a light and a heavy load.
#[test]
fn the_probability_of_waiting_follows_erlang_c() {
    for (lambda, mean_min, c) in [(10.0, 15.0, 3), (6.0, 30.0, 4)] {
        let mu = 60.0 / mean_min;
        let mut s = mmc(lambda, mean_min, c, 200.0, 30);
        s.warmup_days = 5.0;
        s.wait_thresholds_h = vec![0.25, 1.0];
        let (summary, _) = cuakhau_sim::simulate(&s, Path::new("."), &Overrides::default(), &Progress::default()).unwrap();
        let v = &summary.variants[0];
        let p0 = erlang_c(lambda, mu, c);
        let got = v.p_wait_positive;
        assert!((got.mean - p0).abs() <= got.half_width, "M/M/{c}: P(W > 0) {:.4} ± {:.4}, Erlang C {p0:.4}", got.mean, got.half_width);
        assert!(got.half_width < 0.05 * p0, "tight enough: ±{:.4}", got.half_width);
        for w in &v.p_wait_over {
            let want = p0 * (-(c as f64 * mu - lambda) * w.t_h).exp();
            assert!(
                (w.p.mean - want).abs() <= w.p.half_width,
                "M/M/{c}: P(W > {} h) {:.4} ± {:.4}, theory {want:.4}",
                w.t_h,
                w.p.mean,
                w.p.half_width
            );
        }
        assert!(v.measured > 0.0 && v.measured < v.served, "the warm-up's trucks are left out of the statistics");
    }
}

/// With a warm-up, statistics describe only what follows it: the queue's time average and the
/// lanes' busy share are taken over the measured time.
#[test]
fn a_warm_up_leaves_the_start_out() {
    let mut s = mmc(10.0, 15.0, 3, 20.0, 1);
    let m = Model::compile(&s, Path::new(".")).unwrap();
    let whole = run(&m, 3, &RunOptions::default()).unwrap();
    s.warmup_days = 10.0;
    let m = Model::compile(&s, Path::new(".")).unwrap();
    let warm = run(&m, 3, &RunOptions::default()).unwrap();
    assert_eq!((warm.arrived, warm.served), (whole.arrived, whole.served), "counts cover the whole horizon");
    assert!(warm.wait_total.n() < whole.wait_total.n() * 6 / 10 && warm.wait_total.n() > whole.wait_total.n() * 4 / 10);
    assert_eq!(warm.measured, warm.wait_total.n());
    // Utilisation ρ = λ / cμ ≈ 0.83 either way.
    for r in [&whole, &warm] {
        let u = r.lanes.iter().map(|l| l.4).sum::<f64>() / r.lanes.len() as f64;
        assert!((u - 10.0 / 12.0).abs() < 0.04, "{u}");
    }
    s.warmup_days = 20.0;
    let e = Model::compile(&s, Path::new(".")).unwrap_err();
    assert!(e.to_string().contains("warmup_days = 20 must be"), "{e}");
    s.warmup_days = 0.0;
    s.wait_thresholds_h = vec![f64::NAN];
    let e = Model::compile(&s, Path::new(".")).unwrap_err();
    assert!(e.to_string().contains("wait_thresholds_h: NaN"), "{e}");
}
