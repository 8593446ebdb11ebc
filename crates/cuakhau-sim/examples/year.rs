//! Times one replication of each variant of a scenario in-process (default: the benchmark's
//! one-year model), as `bench/simulator_vs_simpy.sh` counts `sim_s`; for profiling the engine.
//!
//! `cargo run --release -p cuakhau-sim --example year [-- SCENARIO [RUNS]]`

// A benchmark measures wall time: it reads the timer itself.
#![allow(clippy::disallowed_methods)]

use cuakhau_sim::{RunOptions, Scenario, compile_variants, replication_seed, run};
use std::path::Path;
use std::time::Instant;

// A profiling tool: its figures go to standard output.
#[allow(clippy::print_stdout)]
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let file = args.get(1).map_or("bench/simulator/year.toml", String::as_str);
    let runs: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5);
    let text = std::fs::read_to_string(file).expect("a readable scenario");
    let s = Scenario::from_toml(&text).expect("a valid scenario");
    let models = compile_variants(&s.variants(), Path::new(".")).expect("compiles");
    for (v, m) in models.iter().enumerate() {
        let mut best = f64::MAX;
        let mut events = 0;
        let mut wait = 0.0;
        for _ in 0..runs {
            let t0 = Instant::now();
            let r = run(m, replication_seed(s.seed, 0), &RunOptions { record_series: true, ..Default::default() }).expect("runs");
            best = best.min(t0.elapsed().as_secs_f64());
            events = r.events;
            wait = r.wait_total.mean_s() / 3600.0;
        }
        println!("variant {v}: best of {runs} {best:.4} s, {events} events, {:.0} events/s, mean wait {wait:.3} h", events as f64 / best);
    }
}
