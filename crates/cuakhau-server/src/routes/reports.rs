//! Dwell times the WCO Time Release Study way, from the trips' milestones: per gate pair,
//! direction, day, commodity group and channel as asked, with each agency's time, as JSON or CSV.
//! The grouping itself is `cuakhau_store::trips::dwell_report`, shared with the CLI.

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cuakhau_api::DwellRowOut;
use cuakhau_core::auth::Action;
use cuakhau_core::{Direction, FieldError, GatePairId, Problem, Timestamp, time};
use cuakhau_store::trips::{DWELL_GROUPS as GROUPS, REPORTED, TripQuery, dwell_csv, dwell_report};
use serde::Deserialize;
use utoipa::IntoParams;

pub fn routes() -> Router<AppState> {
    Router::new().route("/reports/dwell", get(dwell))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DwellQuery {
    pub gate_pair: Option<String>,
    /// `export` or `import`.
    pub direction: Option<String>,
    /// Trucks that arrived at or after (RFC 3339); default: 30 days ago.
    pub from: Option<String>,
    /// Trucks that arrived before (RFC 3339); default: now.
    pub until: Option<String>,
    /// Comma-separated grouping: any of `gate-pair`, `direction`, `day`, `commodity`, `channel`
    /// (default `gate-pair,direction`). Days are the exit side's local dates.
    pub by: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/reports/dwell", tag = "reports", params(DwellQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<DwellRowOut>, description = "JSON rows, or CSV with the same columns when format=csv"),
              (status = 403, body = cuakhau_api::Problem), (status = 422, body = cuakhau_api::Problem)))]
pub async fn dwell(State(st): State<AppState>, caller: Caller, ApiQuery(q): ApiQuery<DwellQuery>) -> Result<Response, ApiError> {
    let lang = caller.lang;
    caller.require(Action::ReadReports)?;
    let bad = |field: &str, p: Problem| ApiError::field(lang, FieldError::new(field, p));
    let pair = q.gate_pair.as_deref().map(GatePairId::parse).transpose().map_err(|e| ApiError::field(lang, e))?;
    let direction = q.direction.as_deref().map(|d| Direction::parse("direction", d)).transpose().map_err(|e| ApiError::field(lang, e))?;
    let when = |field: &str, v: &Option<String>, default: Timestamp| -> Result<Timestamp, ApiError> {
        match v {
            Some(s) => time::parse_rfc3339(s).ok_or_else(|| bad(field, Problem::Other("an RFC 3339 time with offset"))),
            None => Ok(default),
        }
    };
    let now = st.clock.now();
    let (from, until) = (when("from", &q.from, now.plus_seconds(-30 * 86_400))?, when("until", &q.until, now.plus_seconds(1))?);
    let by: Vec<&str> = q.by.as_deref().unwrap_or("gate-pair,direction").split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    if by.is_empty() || by.iter().any(|g| !GROUPS.contains(g)) {
        return Err(bad("by", Problem::NotOneOf { allowed: GROUPS }));
    }
    let csv = match q.format.as_deref().unwrap_or("json") {
        "json" => false,
        "csv" => true,
        _ => return Err(bad("format", Problem::NotOneOf { allowed: &["json", "csv"] })),
    };
    let trips = st
        .store
        .trips(TripQuery {
            gate_pair: pair.as_ref(),
            direction,
            statuses: REPORTED,
            from: Some(from),
            until: Some(until),
            ..Default::default()
        })
        .await
        .map_err(|e| ApiError::store(lang, e))?;
    let u = caller.user()?;
    let mine = trips.iter().filter(|t| cuakhau_core::auth::allows(&u.roles, Action::ReadGateDetail { gate_pair: &t.gate_pair }));
    let report = dwell_report(mine, &by);
    if csv {
        return Ok((
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8"), (header::CONTENT_DISPOSITION, "attachment; filename=\"dwell.csv\"")],
            dwell_csv(&report),
        )
            .into_response());
    }
    Ok(Json(cuakhau_api::dwell_rows(&report)).into_response())
}
