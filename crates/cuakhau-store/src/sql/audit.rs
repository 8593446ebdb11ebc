//! The audit context's SQL: appending a chained entry inside a write, pages of the log, its head,
//! and the business rows `ledger::verify` compares with the log.

use super::gate::{BOOKING_COLS, BookingRow};
use super::goods::{DECL_COLS, DeclRow};
use super::{Conn, Engine, FromRow, Row, all, one, params, scalar};
use crate::{Actor, AuditStore, Result, StoreError, StreamEntry, StreamHead};
use async_trait::async_trait;
use cuakhau_core::audit::{AuditRecord, GENESIS_HASH, seal};
use cuakhau_core::{AuditEntry, GatePairId, Timestamp};

/// Appends an audit entry in the caller's transaction; `scope` is the gate pair it concerns (its
/// officers may read it), None for what only administrators read (users, sessions, settings, bulk
/// loads). The entry goes to its gate pair's stream (the node's own stream, `""`, without one):
/// only that stream's head row is locked (PostgreSQL `FOR UPDATE`; SQLite has one writer), so
/// writes at different gate pairs do not queue on one row. Its number in the whole log comes from
/// the engine (`Conn::NEXT_SEQ`) while that head is held, so a stream's numbers increase in commit
/// order.
pub async fn append<C: Conn>(
    c: &mut C,
    actor: &Actor<'_>,
    scope: Option<&str>,
    action: &str,
    entity: String,
    before: Option<String>,
    after: Option<String>,
) -> Result<()> {
    let stream = scope.unwrap_or("");
    let head = match c.query(C::LOCK_HEAD, params![stream]).await?.into_iter().next() {
        Some(h) => h,
        None => {
            // A stream's first entry makes its head (two first writers: one inserts, both lock).
            c.execute(
                "INSERT INTO audit_heads (stream, seq, size, hash) VALUES ($1, 0, 0, $2) ON CONFLICT (stream) DO NOTHING",
                params![stream, GENESIS_HASH],
            )
            .await?;
            one(c, C::LOCK_HEAD, params![stream]).await?
        }
    };
    let size: i64 = head.get("size")?;
    let hash: String = head.get("hash")?;
    let rec = AuditRecord { actor: actor.name.to_string(), at: actor.at, action: action.to_string(), entity, before, after };
    // A row someone wrote behind the log's back must not block every write with a unique
    // violation: the entry takes the next free number (still chained to its head), and
    // `audit verify` names the row.
    let mut tries = 0;
    let e = loop {
        let seq: i64 = scalar(c, C::NEXT_SEQ, &[]).await?;
        let e = seal(seq, &hash, rec.clone());
        let written = c
            .execute(
                "INSERT INTO audit_log (seq, stream, actor, at_us, action, entity, before_json, after_json, prev_hash, hash, gate_pair_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (seq) DO NOTHING",
                params![
                    e.seq,
                    stream,
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
        if written == 1 {
            break e;
        }
        tries += 1;
        match C::RESYNC_SEQ {
            Some(resync) if tries < 3 => {
                c.query(resync, &[]).await?;
            }
            _ => return Err(StoreError::Corrupt(format!("audit entry {seq} is taken"))),
        }
    };
    c.execute("UPDATE audit_heads SET seq = $1, size = $2, hash = $3 WHERE stream = $4", params![e.seq, size + 1, &e.hash, stream]).await?;
    // Other processes hear of the entry when (and only if) the transaction commits.
    c.appended(e.seq);
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

/// One row of `audit_log` with its stream.
struct StreamRow(StreamEntry);

impl FromRow for StreamRow {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(StreamRow(StreamEntry { stream: r.get("stream")?, entry: EntryRow::from_row(r)?.0 }))
    }
}

pub async fn audit_entries<C: Conn>(c: &mut C, after: i64, limit: u32) -> Result<Vec<StreamEntry>> {
    let sql = format!("SELECT stream, {ENTRY_COLS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2");
    Ok(all::<StreamRow, _>(c, &sql, params![after, i64::from(limit)]).await?.into_iter().map(|e| e.0).collect())
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
    match c.query("SELECT seq, hash FROM audit_heads ORDER BY seq DESC LIMIT 1", &[]).await?.first() {
        Some(r) => Ok((r.get("seq")?, r.get("hash")?)),
        None => Ok((0, GENESIS_HASH.to_string())),
    }
}

impl FromRow for StreamHead {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(StreamHead { stream: r.get("stream")?, seq: r.get("seq")?, size: r.get("size")?, hash: r.get("hash")? })
    }
}

pub async fn audit_heads<C: Conn>(c: &mut C) -> Result<Vec<StreamHead>> {
    all(c, "SELECT stream, seq, size, hash FROM audit_heads ORDER BY stream", &[]).await
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

    async fn audit_entries(&self, after: i64, limit: u32) -> Result<Vec<StreamEntry>> {
        self.read((after, limit), |c, (after, limit)| Box::pin(audit_entries(c, *after, *limit))).await
    }

    async fn audit_page_scoped(&self, after: i64, limit: u32, gate_pairs: Option<&[GatePairId]>) -> Result<Vec<AuditEntry>> {
        let pairs = gate_pairs.map(<[GatePairId]>::to_vec);
        self.read((after, limit, pairs), |c, (after, limit, pairs)| Box::pin(audit_page_scoped(c, *after, *limit, pairs.as_deref()))).await
    }

    async fn audit_head(&self) -> Result<(i64, String)> {
        self.read((), |c, ()| Box::pin(audit_head(c))).await
    }

    async fn audit_heads(&self) -> Result<Vec<StreamHead>> {
        self.read((), |c, ()| Box::pin(audit_heads(c))).await
    }

    async fn business_rows(&self) -> Result<Vec<(String, serde_json::Value)>> {
        self.read((), |c, ()| Box::pin(business_rows(c))).await
    }
}
