//! Capacity-planning simulations as background jobs: start one with a scenario, watch its
//! progress, fetch its summary and plots; and the scenarios shipped with cuakhau.
//!
//! Jobs live in memory (the last 20); at most `Config::simulation_slots` run at once, each within
//! limits, so a planner cannot starve the live gate.

use crate::{App, AppError, ConflictKind, Principal, Result, What};
use cuakhau_core::auth::Action;
use cuakhau_sim::{Overrides, Progress, Scenario};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Limits for simulations run through the app (the CLI runs any).
pub const MAX_HORIZON_DAYS: f64 = 5.0 * 366.0;
pub const MAX_REPLICATIONS: u32 = 50;
const KEEP: usize = 20;

/// The simulation use cases.
#[derive(Debug, Clone, Copy)]
pub struct Simulations<'a>(pub(crate) &'a App);

/// The jobs of this process.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    next: AtomicU64,
    running: AtomicUsize,
    jobs: Mutex<BTreeMap<u64, Arc<Job>>>,
}

/// A finished job: the summary as JSON and the plots as (name, SVG).
type Finished = std::result::Result<(serde_json::Value, Vec<(&'static str, String)>), String>;

#[derive(Debug)]
struct Job {
    owner: String,
    progress: Progress,
    result: Mutex<Option<Finished>>,
}

/// A job's state.
#[derive(Debug, Clone)]
pub struct JobState {
    pub id: u64,
    pub owner: String,
    /// 0 to 1.
    pub progress: f64,
    /// `None` while running.
    pub outcome: Option<Outcome>,
}

/// How a job ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The summary (as `cuakhau simulate` writes to summary.json) and the names of the plots.
    Done {
        summary: serde_json::Value,
        plots: Vec<&'static str>,
    },
    Failed(String),
}

fn state(id: u64, job: &Job) -> JobState {
    let outcome = job.result.lock().expect("not poisoned").as_ref().map(|r| match r {
        Ok((summary, svgs)) => Outcome::Done { summary: summary.clone(), plots: svgs.iter().map(|(n, _)| *n).collect() },
        Err(e) => Outcome::Failed(e.clone()),
    });
    JobState { id, owner: job.owner.clone(), progress: job.progress.fraction(), outcome }
}

/// The scenarios shipped with cuakhau (`scenarios/*.toml`), for planners to start from.
pub const SHIPPED: [(&str, &str); 4] = [
    ("huu-nghi-durian-season.toml", include_str!("../../../scenarios/huu-nghi-durian-season.toml")),
    ("kim-thanh-extended-hours.toml", include_str!("../../../scenarios/kim-thanh-extended-hours.toml")),
    ("mong-cai-bac-luan.toml", include_str!("../../../scenarios/mong-cai-bac-luan.toml")),
    ("tan-thanh-agv-night.toml", include_str!("../../../scenarios/tan-thanh-agv-night.toml")),
];

impl Simulations<'_> {
    /// Starts a simulation of a TOML scenario in the background (planners and officers).
    pub fn start(&self, who: &Principal, toml: &str) -> Result<JobState> {
        let user = who.require(Action::RunSimulation)?;
        let bad = |e: &dyn std::fmt::Display| AppError::InvalidScenario(e.to_string());
        let scenario = Scenario::from_toml(toml).map_err(|e| bad(&e))?;
        if scenario.horizon_days > MAX_HORIZON_DAYS || scenario.replications > MAX_REPLICATIONS {
            return Err(bad(&format!(
                "through the API, horizon_days ≤ {MAX_HORIZON_DAYS} and replications ≤ {MAX_REPLICATIONS}; use the CLI for more"
            )));
        }
        if scenario.flows.iter().any(|f| f.arrivals_csv.is_some()) {
            return Err(bad(&"arrivals_csv replays a file and is only available from the CLI"));
        }
        // Compile every variant now, so a bad scenario is refused at once instead of failing later.
        for (_, s) in scenario.variants() {
            cuakhau_sim::Model::compile(&s, std::path::Path::new(".")).map_err(|e| bad(&e))?;
        }
        let sims = &self.0.inner.sims;
        let slots = self.0.config().simulation_slots;
        if sims.running.fetch_add(1, Ordering::SeqCst) >= slots {
            sims.running.fetch_sub(1, Ordering::SeqCst);
            return Err(AppError::Conflict(ConflictKind::SimulationsBusy { slots }));
        }
        let id = sims.next.fetch_add(1, Ordering::SeqCst) + 1;
        let job = Arc::new(Job { owner: user.username.clone(), progress: Progress::default(), result: Mutex::new(None) });
        {
            let mut jobs = sims.jobs.lock().expect("not poisoned");
            jobs.insert(id, job.clone());
            while jobs.len() > KEEP {
                let Some(oldest) = jobs.iter().find(|(_, j)| j.result.lock().expect("not poisoned").is_some()).map(|(k, _)| *k) else {
                    break;
                };
                jobs.remove(&oldest);
            }
        }
        let worker = job.clone();
        let app = self.0.clone();
        tokio::task::spawn_blocking(move || {
            let threads = Some(1.max(std::thread::available_parallelism().map_or(1, |n| n.get()) / 2));
            let r =
                cuakhau_sim::simulate(&scenario, std::path::Path::new("."), &Overrides { threads, ..Default::default() }, &worker.progress)
                    .map_err(|e| e.to_string())
                    .and_then(|(summary, runs)| {
                        let svgs = cuakhau_sim::report::render_svgs(&summary, &runs).map_err(|e| e.to_string())?;
                        Ok((serde_json::to_value(&summary).map_err(|e| e.to_string())?, svgs))
                    });
            *worker.result.lock().expect("not poisoned") = Some(r);
            app.inner.sims.running.fetch_sub(1, Ordering::SeqCst);
        });
        tracing::info!(id, owner = %user.username, "simulation started");
        Ok(state(id, &job))
    }

    fn find(&self, who: &Principal, id: u64) -> Result<Arc<Job>> {
        who.require(Action::RunSimulation)?;
        self.0.inner.sims.jobs.lock().expect("not poisoned").get(&id).cloned().ok_or(AppError::NotFound(What::Simulation(id)))
    }

    pub fn status(&self, who: &Principal, id: u64) -> Result<JobState> {
        Ok(state(id, &*self.find(who, id)?))
    }

    /// A finished job's plot as SVG (`queue`, `waits` or `variants`, with or without `.svg`).
    pub fn plot(&self, who: &Principal, id: u64, name: &str) -> Result<String> {
        let job = self.find(who, id)?;
        let r = job.result.lock().expect("not poisoned");
        let svg = match &*r {
            Some(Ok((_, svgs))) => svgs.iter().find(|(n, _)| *n == name.trim_end_matches(".svg")).map(|(_, s)| s.clone()),
            _ => None,
        };
        svg.ok_or_else(|| AppError::NotFound(What::Plot { simulation: id, name: name.into() }))
    }

    /// The shipped scenarios: (file, scenario name, TOML).
    pub fn shipped(&self) -> Vec<(&'static str, String, &'static str)> {
        SHIPPED
            .iter()
            .map(|(file, toml)| (*file, Scenario::from_toml(toml).map(|s| s.name).unwrap_or_else(|_| (*file).into()), *toml))
            .collect()
    }
}
