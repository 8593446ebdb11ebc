//! The audit log: read it (admins and gate boards) and verify its hash chain.

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use axum::Json;
use axum::extract::State;
use cuakhau_api::{AuditEntryOut, AuditVerifyOut};
use cuakhau_app::audit::Verdict;
use cuakhau_core::{FieldError, Problem, time};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(verify))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Entries after this sequence number.
    pub after: Option<i64>,
    /// At most this many (1–500).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// IANA zone for `at_local`: `Asia/Ho_Chi_Minh` (default) or `Asia/Shanghai`.
    pub zone: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<AuditEntryOut>), (status = 401, body = cuakhau_api::Problem), (status = 403, body = cuakhau_api::Problem)))]
pub async fn list(
    State(st): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<Vec<AuditEntryOut>>, ApiError> {
    if !caller.who.may(cuakhau_core::auth::Action::ReadAudit) {
        caller.signed_in()?;
        return Err(ApiError::forbidden(caller.lang));
    }
    let zone = q.zone.unwrap_or_else(|| time::VN_ZONE.to_string());
    if !time::is_known_zone(&zone) {
        return Err(ApiError::field(caller.lang, FieldError::new("zone", Problem::UnknownZone)));
    }
    let page = st.app.audit().page(&caller.who, q.after, q.limit).await.map_err(caller.err())?;
    Ok(Json(page.iter().map(|e| AuditEntryOut::new(e, &zone)).collect()))
}

#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = AuditVerifyOut), (status = 401, body = cuakhau_api::Problem), (status = 403, body = cuakhau_api::Problem)))]
pub async fn verify(State(st): State<AppState>, caller: Caller) -> Result<Json<AuditVerifyOut>, ApiError> {
    Ok(Json(match st.app.audit().verify(&caller.who).await.map_err(caller.err())? {
        Verdict::Ok(v) => AuditVerifyOut { ok: true, entries: v.entries, broken_at: None, reason: None },
        Verdict::Broken { entries, failure } => {
            let broken_at = match failure {
                cuakhau_store::ledger::Failure::Entry { seq, .. } => Some(seq),
                cuakhau_store::ledger::Failure::Row { .. } => None,
            };
            AuditVerifyOut { ok: false, entries, broken_at, reason: Some(failure.to_string()) }
        }
    }))
}
