//! Dwell times the WCO Time Release Study way, from the trips' milestones: per gate pair,
//! direction, day, commodity group and channel as asked, with each agency's time, as JSON or CSV.
//! The report itself is the app's (`cuakhau_app::reports`).

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use cuakhau_api::DwellRowOut;
use cuakhau_core::{Direction, FieldError, GatePairId, Problem, time};
use cuakhau_store::trips::dwell_csv;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(dwell))
}

/// The report's formats (`format=`).
const FORMATS: &[&str] = &["json", "csv"];

/// `json` or `csv` (the schema of `format=`).
#[derive(Debug)]
struct DwellFormat;

impl utoipa::PartialSchema for DwellFormat {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        cuakhau_api::schema::one_of(FORMATS).into()
    }
}

impl utoipa::ToSchema for DwellFormat {}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DwellQuery {
    pub gate_pair: Option<String>,
    /// `export` or `import`.
    #[param(value_type = Option<cuakhau_api::schema::DirectionCode>, inline)]
    pub direction: Option<String>,
    /// Trucks that arrived at or after (RFC 3339); default: 30 days ago.
    pub from: Option<String>,
    /// Trucks that arrived before (RFC 3339); default: now.
    pub until: Option<String>,
    /// Comma-separated grouping: any of `gate-pair`, `direction`, `day`, `commodity`, `channel`
    /// (default `gate-pair,direction`). Days are the exit side's local dates.
    pub by: Option<String>,
    /// `json` (default) or `csv`.
    #[param(value_type = Option<DwellFormat>, inline)]
    pub format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/reports/dwell", tag = "reports", params(DwellQuery), security(("bearer" = [])),
    responses((status = 200, description = "JSON rows, or CSV with the same columns when format=csv",
               content((Vec<DwellRowOut> = "application/json"), (String = "text/csv"))),
              (status = 403, body = cuakhau_api::Problem), (status = 422, body = cuakhau_api::Problem)))]
pub async fn dwell(State(st): State<AppState>, caller: Caller, ApiQuery(q): ApiQuery<DwellQuery>) -> Result<Response, ApiError> {
    let lang = caller.lang;
    if !caller.who.may(cuakhau_core::auth::Action::ReadReports) {
        caller.signed_in()?;
        return Err(ApiError::forbidden(lang));
    }
    let bad = |field: &str, p: Problem| ApiError::field(lang, FieldError::new(field, p));
    let when = |field: &str, v: &Option<String>| -> Result<Option<cuakhau_core::Timestamp>, ApiError> {
        v.as_deref().map(|s| time::parse_rfc3339(s).ok_or_else(|| bad(field, Problem::Other("an RFC 3339 time with offset")))).transpose()
    };
    let by: Vec<&str> = q.by.as_deref().unwrap_or("gate-pair,direction").split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    if by.is_empty() {
        return Err(bad("by", Problem::NotOneOf { allowed: cuakhau_store::trips::DWELL_GROUPS }));
    }
    let csv = match q.format.as_deref().unwrap_or("json") {
        "json" => false,
        "csv" => true,
        _ => return Err(bad("format", Problem::NotOneOf { allowed: FORMATS })),
    };
    let query = cuakhau_app::reports::DwellQuery {
        gate_pair: q.gate_pair.as_deref().map(GatePairId::parse).transpose().map_err(|e| ApiError::field(lang, e.named("gate_pair")))?,
        direction: q.direction.as_deref().map(|d| Direction::parse("direction", d)).transpose().map_err(|e| ApiError::field(lang, e))?,
        from: when("from", &q.from)?,
        until: when("until", &q.until)?,
        by,
    };
    let report = st.app.reports().dwell(&caller.who, &query).await.map_err(caller.err())?;
    if csv {
        return Ok((
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8"), (header::CONTENT_DISPOSITION, "attachment; filename=\"dwell.csv\"")],
            dwell_csv(&report),
        )
            .into_response());
    }
    Ok(Json(cuakhau_api::dwell_rows(&report)).into_response())
}
