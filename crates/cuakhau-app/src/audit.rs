//! The audit log: read it (admins everything, gate boards their gate pairs' entries) and verify
//! its hash chain and the business rows against it.

use crate::{App, AppError, Principal, Result};
use cuakhau_core::auth::{Action, AuditScope, audit_scope};
use cuakhau_core::{AuditEntry, FieldError, Problem};
use cuakhau_store::ledger::{Failure, Verdict as Verified};

/// The audit use cases.
#[derive(Debug, Clone, Copy)]
pub struct Audit<'a>(pub(crate) &'a App);

/// What verification found: the whole log checked, or the first failure and the entries before it.
#[derive(Debug)]
pub enum Verdict {
    Ok(Verified),
    Broken { entries: i64, failure: Failure },
}

impl Audit<'_> {
    /// Entries after `after`, at most `limit` (1 to 500, default 100), in the principal's scope.
    pub async fn page(&self, who: &Principal, after: Option<i64>, limit: Option<u32>) -> Result<Vec<AuditEntry>> {
        let u = who.require(Action::ReadAudit)?;
        let limit = limit.unwrap_or(100);
        if limit == 0 || limit > 500 {
            return Err(AppError::Invalid(FieldError::new("limit", Problem::OutOfRange { min: 1.0, max: 500.0 })));
        }
        // Scoped in the query, like every other read: a gate board reads its gate pairs' entries.
        let after = after.unwrap_or(0);
        let store = self.0.store();
        Ok(match audit_scope(&u.roles) {
            AuditScope::Everything => store.audit_page(after, limit).await,
            AuditScope::AnyPair => store.audit_page_scoped(after, limit, None).await,
            AuditScope::Pairs(pairs) => store.audit_page_scoped(after, limit, Some(&pairs)).await,
        }?)
    }

    /// Checks the hash chain, and bookings and declarations against the log's last states. The
    /// signed checkpoints live outside the database: `cuakhau audit verify --checkpoints`.
    pub async fn verify(&self, who: &Principal) -> Result<Verdict> {
        who.require(Action::ReadAudit)?;
        let store = self.0.store();
        Ok(match cuakhau_store::ledger::verify(store.as_ref(), &Default::default()).await? {
            Ok(v) => Verdict::Ok(v),
            Err(failure @ Failure::Entry { seq, .. }) => Verdict::Broken { entries: seq - 1, failure },
            Err(failure @ Failure::Row { .. }) => Verdict::Broken { entries: store.audit_head().await?.0, failure },
        })
    }
}
