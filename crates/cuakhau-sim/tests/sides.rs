//! Each side's own risk selection and each side's own yard policy.
//!
//! Each side's customs draws its own channel (independently, with its own shares and names), and
//! each side's yards call trucks by that side's policy — the exit yard and the queue before the
//! entry lanes alike.

use cuakhau_sim::{Model, RunOptions, Scenario, generate, run};
use std::path::Path;

/// Exports through one gate pair open round the clock; customs on each side takes 1 minute on
/// its first channel and 60 on any other, so a step's time tells its channel.
const BASE: &str = r#"
name = "sides"
start = "2027-03-01T00:00:00+07:00"
horizon_days = 20
seed = 5
[[gate_pairs]]
id = "g"
travel_time_min = 0
[gate_pairs.vn]
opens = "00:00"
closes = "24:00"
lanes = [{ direction = "export", count = 30 }]
[gate_pairs.cn]
opens = "00:00"
closes = "24:00"
lanes = [{ direction = "export", count = 30 }]
[[flows]]
direction = "export"
trucks_per_day = 500
[[commodities]]
name = "general"
share = 1
[channels]
green = 0.5
yellow = 0
red = 0.5
[[service]]
side = "VN"
agency = "customs"
channel = "green"
time = { kind = "deterministic", value = 1 }
[[service]]
side = "VN"
agency = "customs"
channel = "red"
time = { kind = "deterministic", value = 60 }
[[service]]
side = "CN"
agency = "customs"
channel = "green"
time = { kind = "deterministic", value = 1 }
[[service]]
side = "CN"
agency = "customs"
channel = "red"
time = { kind = "deterministic", value = 60 }
"#;

fn model(text: &str) -> Model {
    Model::compile(&Scenario::from_toml(text).unwrap(), Path::new(".")).unwrap()
}

/// Export steps: VN customs, VN border guard, hand-over, CN customs, CN border guard.
const VN_CUSTOMS: usize = 0;
const CN_CUSTOMS: usize = 3;

#[test]
fn each_side_draws_its_own_channel() {
    let independent = generate(&model(BASE), 1);
    let n = independent.len() as f64;
    assert!(n > 9000.0);
    let same = independent.iter().filter(|a| a.channels[0] == a.channels[1]).count() as f64 / n;
    assert!((same - 0.5).abs() < 0.02, "independent draws agree half the time: {same}");
    for a in &independent {
        // The service time follows each side's own channel.
        assert_eq!(a.step_us[VN_CUSTOMS], if a.channels[0] == 0 { 60_000_000 } else { 3_600_000_000 });
        assert_eq!(a.step_us[CN_CUSTOMS], if a.channels[1] == 0 { 60_000_000 } else { 3_600_000_000 });
    }
    let shared = generate(&model(&BASE.replace("red = 0.5", "red = 0.5\nshared = true")), 1);
    assert!(shared.iter().all(|a| a.channels[0] == a.channels[1]), "one draw decides both");
    // Vietnam's draws are the same either way (common random numbers): only China's differ.
    assert!(shared.iter().zip(&independent).all(|(s, i)| s.channels[0] == i.channels[0] && s.step_us[VN_CUSTOMS] == i.step_us[VN_CUSTOMS]));
}

#[test]
fn a_side_may_name_its_own_channels_and_shares() {
    let text = BASE
        .replace("side = \"CN\"\nagency = \"customs\"\nchannel = \"green\"", "side = \"CN\"\nagency = \"customs\"\nchannel = \"released\"")
        .replace("side = \"CN\"\nagency = \"customs\"\nchannel = \"red\"", "side = \"CN\"\nagency = \"customs\"\nchannel = \"inspected\"")
        + "\n[[side_channels]]\nside = \"CN\"\nshares = { released = 0.9, inspected = 0.1 }\n";
    let m = model(&text);
    assert_eq!(m.channels[1].names, ["inspected", "released"]);
    let drawn = generate(&m, 2);
    let inspected = drawn.iter().filter(|a| m.channels[1].names[a.channels[1]] == "inspected").count() as f64 / drawn.len() as f64;
    assert!((inspected - 0.1).abs() < 0.01, "{inspected}");
    for a in &drawn {
        let want = if m.channels[1].names[a.channels[1]] == "released" { 60_000_000 } else { 3_600_000_000 };
        assert_eq!(a.step_us[CN_CUSTOMS], want);
    }
    // A service naming a channel the side does not have is refused, naming both.
    let bad = text.replace("channel = \"inspected\"", "channel = \"red\"");
    let e = Model::compile(&Scenario::from_toml(&bad).unwrap(), Path::new(".")).unwrap_err();
    assert!(e.to_string().contains("service CN customs: channel 'red' must be one of the CN side's: inspected, released"), "{e}");
    let e =
        Model::compile(&Scenario::from_toml(&text.replace("red = 0.5", "red = 0.5\nshared = true")).unwrap(), Path::new(".")).unwrap_err();
    assert!(e.to_string().contains("channels.shared"), "{e}");
    let e = Model::compile(&Scenario::from_toml(&text.replace("inspected = 0.1", "inspected = nan")).unwrap(), Path::new(".")).unwrap_err();
    assert!(e.to_string().contains("side_channels CN: shares.inspected = NaN"), "{e}");
}

/// The entry side is the bottleneck: one Chinese lane, exponential 10-minute customs, 5.5 trucks
/// an hour (ρ ≈ 0.92); 30 % of the trucks carry fruit that spoils after 3 hours.
fn bottleneck(policies: &str) -> Model {
    model(&format!(
        r#"
name = "entry bottleneck"
start = "2027-03-01T00:00:00+07:00"
horizon_days = 60
seed = 8
{policies}
[[gate_pairs]]
id = "g"
travel_time_min = 0
[gate_pairs.vn]
opens = "00:00"
closes = "24:00"
lanes = [{{ direction = "export", count = 10 }}]
[gate_pairs.cn]
opens = "00:00"
closes = "24:00"
lanes = [{{ direction = "export", count = 1 }}]
[[flows]]
direction = "export"
trucks_per_day = 132
[[commodities]]
name = "fruit"
share = 0.3
perishable = true
shelf_life_h = 3
[[commodities]]
name = "general"
share = 0.7
[[service]]
side = "CN"
agency = "customs"
time = {{ kind = "exponential", mean = 10 }}
"#
    ))
}

#[test]
fn the_entry_sides_yard_follows_its_own_policy() {
    let opts = RunOptions::default();
    let fifo = run(&bottleneck(""), 3, &opts).unwrap();
    // The exit side's policy does not reach the entry side's queue.
    let exit_only = run(&bottleneck("policy = \"perishables-first\""), 3, &opts).unwrap();
    assert_eq!((exit_only.spoiled, exit_only.wait_entry.mean_s()), (fifo.spoiled, fifo.wait_entry.mean_s()));
    for p in ["perishables-first", "perishables-fifo"] {
        let cn = run(&bottleneck(&format!("[policies]\nCN = \"{p}\"")), 3, &opts).unwrap();
        assert_eq!(cn.arrived, fifo.arrived, "the same trucks");
        assert!(fifo.spoiled > 100 && cn.spoiled * 10 < fifo.spoiled, "{p}: {} spoiled against {} under FIFO", cn.spoiled, fifo.spoiled);
        // Reordering does not change the work: the mean wait stays about the same.
        let (a, b) = (cn.wait_entry.mean_s(), fifo.wait_entry.mean_s());
        assert!((a - b).abs() < 0.05 * b, "{p}: mean entry wait {a} against {b}");
    }
    // The Vietnamese side's policy orders only Vietnam's yards.
    let vn = run(&bottleneck("[policies]\nVN = \"perishables-first\""), 3, &opts).unwrap();
    assert_eq!(vn.spoiled, fifo.spoiled);
}

#[test]
fn a_bad_side_policy_names_its_field() {
    let text = BASE.replace("seed = 5", "seed = 5\n[policies]\nCN = \"fastest\"");
    let e = Model::compile(&Scenario::from_toml(&text).unwrap(), Path::new(".")).unwrap_err();
    assert!(e.to_string().contains("policies.CN 'fastest'"), "{e}");
}
