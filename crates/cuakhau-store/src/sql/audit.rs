//! The audit context's SQL: appending a chained entry inside a write, pages of the log, its head,
//! and the business rows `ledger::verify` compares with the log.

use super::gate::{BOOKING_COLS, BookingRow};
use super::goods::{DECL_COLS, DeclRow};
use super::{Conn, Engine, FromRow, Row, all, one, params, scalar};
use crate::{Actor, AuditStore, Result, StoreError};
use async_trait::async_trait;
use cuakhau_core::audit::{AuditRecord, seal};
use cuakhau_core::{AuditEntry, GatePairId, Timestamp};

/// Appends an audit entry in the caller's transaction; `scope` is the gate pair it concerns (its
/// officers may read it), None for what only administrators read (users, sessions, settings, bulk
/// loads). The head row is read last-writer-safe: PostgreSQL locks it (`FOR UPDATE`), SQLite has
/// one writer.
pub async fn append<C: Conn>(
    c: &mut C,
    actor: &Actor<'_>,
    scope: Option<&str>,
    action: &str,
    entity: String,
    before: Option<String>,
    after: Option<String>,
) -> Result<()> {
    let head = one(c, C::LOCK_HEAD, &[]).await?;
    let seq: i64 = head.get("seq")?;
    let hash: String = head.get("hash")?;
    // A row someone appended past the head must not block every write with a unique violation:
    // number after it (still chained to the head), and `audit verify` names it.
    let last: i64 = scalar(c, "SELECT COALESCE(MAX(seq), 0) FROM audit_log", &[]).await?;
    let seq = seq.max(last);
    let rec = AuditRecord { actor: actor.name.to_string(), at: actor.at, action: action.to_string(), entity, before, after };
    let e = seal(seq + 1, &hash, rec);
    c.execute(
        "INSERT INTO audit_log (seq, actor, at_us, action, entity, before_json, after_json, prev_hash, hash, gate_pair_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        params![
            e.seq,
            &e.record.actor,
            e.record.at.as_micros(),
            &e.record.action,
            &e.record.entity,
            &e.record.before,
            &e.record.after,
            &e.prev_hash,
            &e.hash,
            scope
        ],
    )
    .await?;
    c.execute("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1", params![e.seq, &e.hash]).await?;
    // Other processes hear of the entry when (and only if) the transaction commits.
    if let Some(notify) = C::NOTIFY {
        c.execute(notify, params![e.seq.to_string()]).await?;
    }
    Ok(())
}

/// One row of `audit_log`.
struct EntryRow(AuditEntry);

impl FromRow for EntryRow {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(EntryRow(AuditEntry {
            seq: r.get("seq")?,
            record: AuditRecord {
                actor: r.get("actor")?,
                at: Timestamp(r.get("at_us")?),
                action: r.get("action")?,
                entity: r.get("entity")?,
                before: r.get("before_json")?,
                after: r.get("after_json")?,
            },
            prev_hash: r.get("prev_hash")?,
            hash: r.get("hash")?,
        }))
    }
}

const ENTRY_COLS: &str = "seq, actor, at_us, action, entity, before_json, after_json, prev_hash, hash";

pub async fn audit_page<C: Conn>(c: &mut C, after: i64, limit: u32) -> Result<Vec<AuditEntry>> {
    let sql = format!("SELECT {ENTRY_COLS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2");
    Ok(all::<EntryRow, _>(c, &sql, params![after, i64::from(limit)]).await?.into_iter().map(|e| e.0).collect())
}

pub async fn audit_page_scoped<C: Conn>(c: &mut C, after: i64, limit: u32, gate_pairs: Option<&[GatePairId]>) -> Result<Vec<AuditEntry>> {
    let pairs = gate_pairs.unwrap_or(&[]);
    if gate_pairs.is_some() && pairs.is_empty() {
        return Ok(Vec::new());
    }
    let filter = if gate_pairs.is_none() {
        "gate_pair_id IS NOT NULL".to_string()
    } else {
        format!("gate_pair_id IN ({})", (0..pairs.len()).map(|i| format!("${}", i + 3)).collect::<Vec<_>>().join(", "))
    };
    let sql = format!("SELECT {ENTRY_COLS} FROM audit_log WHERE seq > $1 AND {filter} ORDER BY seq LIMIT $2");
    let mut p = vec![super::Value::from(after), super::Value::from(i64::from(limit))];
    p.extend(pairs.iter().map(|g| super::Value::from(g.as_str())));
    Ok(all::<EntryRow, _>(c, &sql, &p).await?.into_iter().map(|e| e.0).collect())
}

pub async fn audit_head<C: Conn>(c: &mut C) -> Result<(i64, String)> {
    let r = one(c, "SELECT seq, hash FROM audit_head WHERE id = 1", &[]).await?;
    Ok((r.get("seq")?, r.get("hash")?))
}

pub async fn business_rows<C: Conn>(c: &mut C) -> Result<Vec<(String, serde_json::Value)>> {
    let mut out = Vec::new();
    for DeclRow(d) in all::<DeclRow, _>(c, &format!("SELECT {DECL_COLS} FROM declarations ORDER BY id"), &[]).await? {
        let v = serde_json::from_str(crate::goods::snapshot(&d).as_str()).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        out.push((format!("declaration/{}", d.id), v));
    }
    for BookingRow(b) in all::<BookingRow, _>(c, &format!("SELECT {BOOKING_COLS} FROM bookings ORDER BY id"), &[]).await? {
        out.push((format!("booking/{}", b.id), crate::ledger::booking_state(&b)));
    }
    Ok(out)
}

#[async_trait]
impl<E: Engine> AuditStore for E {
    async fn audit_page(&self, after: i64, limit: u32) -> Result<Vec<AuditEntry>> {
        self.read((after, limit), |c, (after, limit)| Box::pin(audit_page(c, *after, *limit))).await
    }

    async fn audit_page_scoped(&self, after: i64, limit: u32, gate_pairs: Option<&[GatePairId]>) -> Result<Vec<AuditEntry>> {
        let pairs = gate_pairs.map(<[GatePairId]>::to_vec);
        self.read((after, limit, pairs), |c, (after, limit, pairs)| Box::pin(audit_page_scoped(c, *after, *limit, pairs.as_deref()))).await
    }

    async fn audit_head(&self) -> Result<(i64, String)> {
        self.read((), |c, ()| Box::pin(audit_head(c))).await
    }

    async fn business_rows(&self) -> Result<Vec<(String, serde_json::Value)>> {
        self.read((), |c, ()| Box::pin(business_rows(c))).await
    }
}
