//! The audit log: read it (admins and gate boards) and verify its hash chain.

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use cuakhau_api::{AuditEntryOut, AuditVerifyOut};
use cuakhau_core::auth::Action;
use cuakhau_core::{FieldError, Problem, time};
use serde::Deserialize;
use utoipa::IntoParams;

pub fn routes() -> Router<AppState> {
    Router::new().route("/audit", get(list)).route("/audit/verify", get(verify))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Entries after this sequence number.
    pub after: Option<i64>,
    /// At most this many (1–500).
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
    caller.require(Action::ReadAudit)?;
    let zone = q.zone.unwrap_or_else(|| time::VN_ZONE.to_string());
    if !time::is_known_zone(&zone) {
        return Err(ApiError::field(caller.lang, FieldError::new("zone", Problem::UnknownZone)));
    }
    let limit = q.limit.unwrap_or(100);
    if limit == 0 || limit > 500 {
        return Err(ApiError::field(caller.lang, FieldError::new("limit", Problem::OutOfRange { min: 1.0, max: 500.0 })));
    }
    // Scoped in the query, like every other read: a gate board reads its gate pairs' entries.
    let after = q.after.unwrap_or(0);
    let roles = &caller.user()?.roles;
    let page = match cuakhau_core::auth::audit_scope(roles) {
        cuakhau_core::auth::AuditScope::Everything => st.store.audit_page(after, limit).await,
        cuakhau_core::auth::AuditScope::AnyPair => st.store.audit_page_scoped(after, limit, None).await,
        cuakhau_core::auth::AuditScope::Pairs(pairs) => st.store.audit_page_scoped(after, limit, Some(&pairs)).await,
    }
    .map_err(|e| ApiError::store(caller.lang, e))?;
    Ok(Json(page.iter().map(|e| AuditEntryOut::new(e, &zone)).collect()))
}

#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = AuditVerifyOut), (status = 401, body = cuakhau_api::Problem), (status = 403, body = cuakhau_api::Problem)))]
pub async fn verify(State(st): State<AppState>, caller: Caller) -> Result<Json<AuditVerifyOut>, ApiError> {
    caller.require(Action::ReadAudit)?;
    // The hash chain, and bookings and declarations against the log's last states. The signed
    // checkpoints live outside the database and the server: `cuakhau audit verify --checkpoints`.
    let r =
        cuakhau_store::ledger::verify(st.store.as_ref(), &[], &Default::default()).await.map_err(|e| ApiError::store(caller.lang, e))?;
    Ok(Json(match r {
        Ok(v) => AuditVerifyOut { ok: true, entries: v.entries, broken_at: None, reason: None },
        Err(f @ cuakhau_store::ledger::Failure::Entry { seq, .. }) => {
            AuditVerifyOut { ok: false, entries: seq - 1, broken_at: Some(seq), reason: Some(f.to_string()) }
        }
        Err(f @ cuakhau_store::ledger::Failure::Row { .. }) => {
            let (n, _) = st.store.audit_head().await.map_err(|e| ApiError::store(caller.lang, e))?;
            AuditVerifyOut { ok: false, entries: n, broken_at: None, reason: Some(f.to_string()) }
        }
    }))
}
