//! Capacity-planning simulations as background jobs: start one with a scenario, watch its
//! progress, fetch its summary and plots.
//!
//! Jobs live in memory (the last 20); at most `Config::simulation_slots` run at once, each within API limits, so a
//! planner cannot starve the live gate.

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use cuakhau_core::auth::Action;
use cuakhau_core::{FieldError, Msg, Problem};
use cuakhau_sim::{Overrides, Progress, Scenario};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Limits for simulations run through the API.
pub const MAX_HORIZON_DAYS: f64 = 5.0 * 366.0;
pub const MAX_REPLICATIONS: u32 = 50;
const KEEP: usize = 20;

#[derive(Debug, Default)]
pub struct Simulations {
    next: AtomicU64,
    running: AtomicUsize,
    jobs: Mutex<BTreeMap<u64, Arc<Job>>>,
}

/// A finished job: the summary as JSON and the plots as (name, SVG).
type Finished = Result<(serde_json::Value, Vec<(&'static str, String)>), String>;

#[derive(Debug)]
pub struct Job {
    owner: String,
    progress: Progress,
    result: Mutex<Option<Finished>>,
}

/// A job's state.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SimulationOut {
    pub id: u64,
    /// `running`, `done` or `failed`.
    pub status: String,
    /// 0 to 1.
    pub progress: f64,
    pub owner: String,
    /// The summary (as `cuakhau simulate` writes to summary.json) once done.
    #[schema(value_type = Object)]
    pub summary: Option<serde_json::Value>,
    pub error: Option<String>,
    /// Plot URLs once done.
    pub plots: Vec<String>,
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/scenarios", get(shipped))
        .route("/simulations", post(start))
        .route("/simulations/{id}", get(status))
        .route("/simulations/{id}/plots/{name}", get(plot))
}

fn scenario_error(lang: cuakhau_core::Lang, reason: impl std::fmt::Display) -> ApiError {
    ApiError::field(lang, FieldError::new("scenario", Problem::Other(Box::leak(reason.to_string().into_boxed_str()))))
}

fn out(id: u64, job: &Job) -> SimulationOut {
    let r = job.result.lock().expect("not poisoned");
    let (status, summary, error, plots) = match &*r {
        None => ("running", None, None, vec![]),
        Some(Ok((s, svgs))) => {
            ("done", Some(s.clone()), None, svgs.iter().map(|(n, _)| format!("/api/v1/simulations/{id}/plots/{n}")).collect())
        }
        Some(Err(e)) => ("failed", None, Some(e.clone()), vec![]),
    };
    SimulationOut { id, status: status.into(), progress: job.progress.fraction(), owner: job.owner.clone(), summary, error, plots }
}

#[utoipa::path(post, path = "/api/v1/simulations", tag = "planning", security(("bearer" = [])),
    request_body(content = String, description = "A scenario in TOML (docs/scenarios.md); replay files are not available here", content_type = "application/toml"),
    responses((status = 202, body = SimulationOut), (status = 401, body = cuakhau_api::Problem), (status = 403, body = cuakhau_api::Problem),
              (status = 409, body = cuakhau_api::Problem), (status = 422, body = cuakhau_api::Problem)))]
pub async fn start(State(st): State<AppState>, caller: Caller, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let lang = caller.lang;
    let user = caller.require(Action::RunSimulation)?;
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if !matches!(ct.as_str(), "application/toml" | "text/plain") {
        return Err(ApiError::new(lang, StatusCode::UNSUPPORTED_MEDIA_TYPE, Msg::UnsupportedMediaType));
    }
    let text = std::str::from_utf8(&body).map_err(|e| scenario_error(lang, e))?;
    let scenario = Scenario::from_toml(text).map_err(|e| scenario_error(lang, e))?;
    if scenario.horizon_days > MAX_HORIZON_DAYS || scenario.replications > MAX_REPLICATIONS {
        return Err(scenario_error(
            lang,
            format!("through the API, horizon_days ≤ {MAX_HORIZON_DAYS} and replications ≤ {MAX_REPLICATIONS}; use the CLI for more"),
        ));
    }
    if scenario.flows.iter().any(|f| f.arrivals_csv.is_some()) {
        return Err(scenario_error(lang, "arrivals_csv replays a file and is only available from the CLI"));
    }
    // Compile every variant now, so a bad scenario is refused at once instead of failing later.
    for (_, s) in scenario.variants() {
        cuakhau_sim::Model::compile(&s, std::path::Path::new(".")).map_err(|e| scenario_error(lang, e))?;
    }
    let sims = st.sims.clone();
    let slots = st.config.simulation_slots;
    if sims.running.fetch_add(1, Ordering::SeqCst) >= slots {
        sims.running.fetch_sub(1, Ordering::SeqCst);
        return Err(ApiError::new(
            lang,
            StatusCode::CONFLICT,
            Msg::Conflict { detail: format!("{slots} simulations are running; try again when one is done") },
        ));
    }
    let id = sims.next.fetch_add(1, Ordering::SeqCst) + 1;
    let job = Arc::new(Job { owner: user.username.clone(), progress: Progress::default(), result: Mutex::new(None) });
    {
        let mut jobs = sims.jobs.lock().expect("not poisoned");
        jobs.insert(id, job.clone());
        while jobs.len() > KEEP {
            let Some(oldest) = jobs.iter().find(|(_, j)| j.result.lock().expect("not poisoned").is_some()).map(|(k, _)| *k) else { break };
            jobs.remove(&oldest);
        }
    }
    let worker = job.clone();
    tokio::task::spawn_blocking(move || {
        let threads = Some(1.max(std::thread::available_parallelism().map_or(1, |n| n.get()) / 2));
        let r = cuakhau_sim::simulate(&scenario, std::path::Path::new("."), &Overrides { threads, ..Default::default() }, &worker.progress)
            .map_err(|e| e.to_string())
            .and_then(|(summary, runs)| {
                let svgs = cuakhau_sim::report::render_svgs(&summary, &runs).map_err(|e| e.to_string())?;
                Ok((serde_json::to_value(&summary).map_err(|e| e.to_string())?, svgs))
            });
        *worker.result.lock().expect("not poisoned") = Some(r);
        sims.running.fetch_sub(1, Ordering::SeqCst);
    });
    tracing::info!(id, owner = %user.username, "simulation started");
    Ok((StatusCode::ACCEPTED, [(header::LOCATION, format!("/api/v1/simulations/{id}"))], Json(out(id, &job))).into_response())
}

fn find(st: &AppState, lang: cuakhau_core::Lang, id: u64) -> Result<Arc<Job>, ApiError> {
    st.sims.jobs.lock().expect("not poisoned").get(&id).cloned().ok_or_else(|| ApiError::not_found(lang, format!("simulation {id}")))
}

#[utoipa::path(get, path = "/api/v1/simulations/{id}", tag = "planning", params(("id" = u64, Path)), security(("bearer" = [])),
    responses((status = 200, body = SimulationOut), (status = 401, body = cuakhau_api::Problem), (status = 403, body = cuakhau_api::Problem), (status = 404, body = cuakhau_api::Problem)))]
pub async fn status(State(st): State<AppState>, caller: Caller, Path(id): Path<u64>) -> Result<Json<SimulationOut>, ApiError> {
    caller.require(Action::RunSimulation)?;
    let job = find(&st, caller.lang, id)?;
    Ok(Json(out(id, &job)))
}

#[utoipa::path(get, path = "/api/v1/simulations/{id}/plots/{name}", tag = "planning", params(("id" = u64, Path), ("name" = String, Path, description = "queue, waits or variants")),
    security(("bearer" = [])), responses((status = 200, description = "SVG", content_type = "image/svg+xml"), (status = 404, body = cuakhau_api::Problem)))]
pub async fn plot(State(st): State<AppState>, caller: Caller, Path((id, name)): Path<(u64, String)>) -> Result<Response, ApiError> {
    caller.require(Action::RunSimulation)?;
    let job = find(&st, caller.lang, id)?;
    let r = job.result.lock().expect("not poisoned");
    let svg = match &*r {
        Some(Ok((_, svgs))) => svgs.iter().find(|(n, _)| *n == name.trim_end_matches(".svg")).map(|(_, s)| s.clone()),
        _ => None,
    };
    svg.map(|s| ([(header::CONTENT_TYPE, "image/svg+xml")], s).into_response())
        .ok_or_else(|| ApiError::not_found(caller.lang, format!("plot {name} of simulation {id}")))
}

/// The scenarios shipped with cuakhau (`scenarios/*.toml`), for planners to start from.
const SHIPPED: [(&str, &str); 4] = [
    ("huu-nghi-durian-season.toml", include_str!("../../../../scenarios/huu-nghi-durian-season.toml")),
    ("kim-thanh-extended-hours.toml", include_str!("../../../../scenarios/kim-thanh-extended-hours.toml")),
    ("mong-cai-bac-luan.toml", include_str!("../../../../scenarios/mong-cai-bac-luan.toml")),
    ("tan-thanh-agv-night.toml", include_str!("../../../../scenarios/tan-thanh-agv-night.toml")),
];

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ShippedScenario {
    pub file: String,
    pub name: String,
    pub toml: String,
}

#[utoipa::path(get, path = "/api/v1/scenarios", tag = "planning", responses((status = 200, body = Vec<ShippedScenario>)))]
pub async fn shipped() -> Json<Vec<ShippedScenario>> {
    Json(
        SHIPPED
            .iter()
            .map(|(file, toml)| ShippedScenario {
                file: (*file).into(),
                name: Scenario::from_toml(toml).map(|s| s.name).unwrap_or_else(|_| (*file).into()),
                toml: (*toml).into(),
            })
            .collect(),
    )
}
