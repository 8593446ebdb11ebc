//! Capacity-planning simulations over HTTP: start one with a scenario, watch its progress, fetch
//! its summary and plots. The jobs and their limits are the app's (`cuakhau_app::simulations`).

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cuakhau_app::simulations::{JobState, Outcome};
use cuakhau_core::Msg;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(shipped)).routes(routes!(start)).routes(routes!(status)).routes(routes!(plot))
}

fn out(j: JobState) -> SimulationOut {
    let id = j.id;
    let (status, summary, error, plots) = match j.outcome {
        None => ("running", None, None, vec![]),
        Some(Outcome::Done { summary, plots }) => {
            ("done", Some(summary), None, plots.iter().map(|n| format!("/api/v1/simulations/{id}/plots/{n}")).collect())
        }
        Some(Outcome::Failed(e)) => ("failed", None, Some(e), vec![]),
    };
    SimulationOut { id, status: status.into(), progress: j.progress, owner: j.owner, summary, error, plots }
}

#[utoipa::path(post, path = "/api/v1/simulations", tag = "planning", security(("bearer" = [])),
    request_body(content = String, description = "A scenario in TOML (docs/scenarios.md); replay files are not available here", content_type = "application/toml"),
    responses((status = 202, body = SimulationOut), (status = 401, body = cuakhau_api::Problem), (status = 403, body = cuakhau_api::Problem),
              (status = 409, body = cuakhau_api::Problem), (status = 422, body = cuakhau_api::Problem)))]
pub async fn start(State(st): State<AppState>, caller: Caller, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let lang = caller.lang;
    if !caller.who.may(cuakhau_core::auth::Action::RunSimulation) {
        caller.signed_in()?;
        return Err(ApiError::forbidden(lang));
    }
    if !matches!(crate::extract::media_type(&headers).as_str(), "application/toml" | "text/plain") {
        return Err(ApiError::new(lang, StatusCode::UNSUPPORTED_MEDIA_TYPE, Msg::UnsupportedMediaType));
    }
    let text = std::str::from_utf8(&body).map_err(|e| ApiError::app(lang, cuakhau_app::AppError::InvalidScenario(e.to_string())))?;
    let job = st.app.simulations().start(&caller.who, text).map_err(caller.err())?;
    let id = job.id;
    Ok((StatusCode::ACCEPTED, [(header::LOCATION, format!("/api/v1/simulations/{id}"))], Json(out(job))).into_response())
}

#[utoipa::path(get, path = "/api/v1/simulations/{id}", tag = "planning", params(("id" = u64, Path, minimum = 0, maximum = 2147483647)), security(("bearer" = [])),
    responses((status = 200, body = SimulationOut), (status = 401, body = cuakhau_api::Problem), (status = 403, body = cuakhau_api::Problem), (status = 404, body = cuakhau_api::Problem)))]
pub async fn status(State(st): State<AppState>, caller: Caller, Path(id): Path<u64>) -> Result<Json<SimulationOut>, ApiError> {
    Ok(Json(out(st.app.simulations().status(&caller.who, id).map_err(caller.err())?)))
}

#[utoipa::path(get, path = "/api/v1/simulations/{id}/plots/{name}", tag = "planning", params(("id" = u64, Path, minimum = 0, maximum = 2147483647), ("name" = String, Path, description = "queue, waits or variants")),
    security(("bearer" = [])), responses((status = 200, description = "SVG", content_type = "image/svg+xml"), (status = 404, body = cuakhau_api::Problem)))]
pub async fn plot(State(st): State<AppState>, caller: Caller, Path((id, name)): Path<(u64, String)>) -> Result<Response, ApiError> {
    let svg = st.app.simulations().plot(&caller.who, id, &name).map_err(caller.err())?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ShippedScenario {
    pub file: String,
    pub name: String,
    pub toml: String,
}

#[utoipa::path(get, path = "/api/v1/scenarios", tag = "planning", responses((status = 200, body = Vec<ShippedScenario>)))]
pub async fn shipped(State(st): State<AppState>) -> Json<Vec<ShippedScenario>> {
    Json(
        st.app
            .simulations()
            .shipped()
            .into_iter()
            .map(|(file, name, toml)| ShippedScenario { file: file.into(), name, toml: toml.into() })
            .collect(),
    )
}
