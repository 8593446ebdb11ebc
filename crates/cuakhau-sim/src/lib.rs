//! Capacity planning: a deterministic discrete-event simulator that drives cuakhau's core —
//! call-forward policies, slot capacity and booking buckets, the clearance state machine — with
//! virtual time and a seed.
//!
//! `simulate` compiles a [`Scenario`], runs every variant × replication on all cores (the same
//! seeds for every variant: common random numbers), and summarises. Same scenario and seed, same
//! result, bit for bit.

pub mod engine;
pub mod model;
pub mod report;
pub mod scenario;
pub mod stats;

pub use engine::{Arrival, RunOptions, RunStats, generate, run};
pub use model::Model;
pub use report::{SummaryOut, VariantOut};
pub use scenario::Scenario;

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("scenario: {0}")]
    Scenario(String),
    #[error("limit reached: {0}")]
    Limit(String),
    #[error("writing results: {0}")]
    Output(String),
}

/// What to override from the scenario file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub seed: Option<u64>,
    pub replications: Option<u32>,
    pub threads: Option<usize>,
}

/// Progress of a running simulation: simulated microseconds done out of `total`.
#[derive(Debug, Default)]
pub struct Progress {
    pub done: AtomicU64,
    pub total: AtomicU64,
}

impl Progress {
    pub fn fraction(&self) -> f64 {
        let t = self.total.load(Ordering::Relaxed);
        if t == 0 { 0.0 } else { (self.done.load(Ordering::Relaxed) as f64 / t as f64).min(1.0) }
    }
}

/// The seed of replication `r`: the same for every variant.
pub fn replication_seed(seed: u64, r: u32) -> u64 {
    let mut z = seed ^ (r as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Compiles the baseline and every variant; a variant's error names the variant.
pub fn compile_variants(variants: &[(String, Scenario)], base_dir: &Path) -> Result<Vec<Model>, SimError> {
    variants
        .iter()
        .enumerate()
        .map(|(i, (name, s))| {
            Model::compile(s, base_dir).map_err(|e| match e {
                SimError::Scenario(m) if i > 0 => SimError::Scenario(format!("variant {name}: {m}")),
                e => e,
            })
        })
        .collect()
}

/// Runs all variants and replications of `scenario`; `base_dir` resolves relative files.
pub fn simulate(
    scenario: &Scenario,
    base_dir: &Path,
    o: &Overrides,
    progress: &Progress,
) -> Result<(SummaryOut, Vec<report::VariantRuns>), SimError> {
    let mut scenario = scenario.clone();
    if let Some(s) = o.seed {
        scenario.seed = s;
    }
    if let Some(r) = o.replications {
        scenario.replications = r;
    }
    let variants = scenario.variants();
    let models = compile_variants(&variants, base_dir)?;
    let reps = scenario.replications;
    let jobs: Vec<(usize, u32)> = (0..models.len()).flat_map(|v| (0..reps).map(move |r| (v, r))).collect();
    progress.total.store(models.iter().map(|m| m.horizon_us as u64 * reps as u64).sum(), Ordering::Relaxed);
    let threads = o.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).clamp(1, jobs.len().max(1));
    let next = AtomicUsize::new(0);
    type JobResult = Option<Result<(RunStats, f64), SimError>>;
    let results: Mutex<Vec<JobResult>> = Mutex::new((0..jobs.len()).map(|_| None).collect());
    // The run's own wall time is a figure in the summary, never an input: the model runs on
    // virtual time alone.
    #[allow(clippy::disallowed_methods)]
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let j = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(v, r)) = jobs.get(j) else { break };
                    #[allow(clippy::disallowed_methods)] // measured, as above
                    let t0 = Instant::now();
                    let opts = RunOptions { record_series: r == 0, progress: Some(&progress.done), ..Default::default() };
                    let res = run(&models[v], replication_seed(scenario.seed, r), &opts).map(|s| (s, t0.elapsed().as_secs_f64()));
                    results.lock().expect("no thread panicked while holding it")[j] = Some(res);
                }
            });
        }
    });
    let wall_s = started.elapsed().as_secs_f64();
    let mut results = results.into_inner().expect("no thread panicked while holding it").into_iter();
    let mut runs = Vec::new();
    for (name, _) in &variants {
        let mut vr = report::VariantRuns { name: name.clone(), runs: vec![], run_s: vec![] };
        for _ in 0..reps {
            let (s, secs) = results.next().flatten().expect("every job ran")?;
            vr.runs.push(s);
            vr.run_s.push(secs);
        }
        runs.push(vr);
    }
    let outs = runs
        .iter()
        .enumerate()
        .map(|(i, v)| report::summarise(v, if i == 0 { None } else { Some(&runs[0]) }, &scenario.wait_thresholds_h))
        .collect();
    let summary = SummaryOut {
        scenario: scenario.name.clone(),
        description: scenario.description.clone(),
        assumptions: scenario.assumptions.clone(),
        sources: scenario.sources.clone(),
        seed: scenario.seed,
        replications: reps,
        horizon_days: scenario.horizon_days,
        warmup_days: scenario.warmup_days,
        policy: scenario.policy.clone(),
        wall_s,
        variants: outs,
    };
    Ok((summary, runs))
}
