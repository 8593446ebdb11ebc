//! The audit log as a transparency log, over any [`Store`]: signing checkpoints of the Merkle
//! tree of the stored entries, and verifying the stored entries and the business rows against the
//! checkpoints exported earlier.
//!
//! What this protects against: someone who can rewrite the database (edit, delete, reorder or
//! re-seal audit entries, move the head, edit bookings or declarations) but can neither read the
//! node's signing key nor rewrite the checkpoint directory. Entries written after the last exported
//! checkpoint are protected only by the hash chain until the next checkpoint.

use crate::goods::Booking;
use crate::{Result, Store, StoreError};
use cuakhau_core::AuditEntry;
use cuakhau_core::audit::ChainBreak;
use cuakhau_core::transparency::{self as tl, Checkpoint, Frontier, Hash, LogBreak, NoteSigner};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Everything read from the log in one pass.
#[derive(Debug, Default)]
pub struct Scan {
    /// Leaf hashes, entry `i + 1` at index `i`.
    pub leaves: Vec<Hash>,
    /// The last state the log records for each business row (`booking/7`, `declaration/3`).
    pub states: BTreeMap<String, Value>,
}

/// Reads every audit entry, oldest first.
pub async fn scan(store: &dyn Store) -> Result<Scan> {
    let mut s = Scan::default();
    let mut after = 0;
    loop {
        let page = store.audit_page(after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for e in &page {
            s.leaves.push(tl::audit_leaf(e.seq, &e.record));
            record_state(&mut s.states, e);
        }
    }
    Ok(s)
}

/// The state of a booking row as the log describes it.
pub fn booking_state(b: &Booking) -> Value {
    json!({"declaration": b.declaration_id.get(), "gate_pair": b.gate_pair.as_str(), "direction": b.direction.code(),
           "hour": b.hour.to_rfc3339(), "bucket": b.bucket.code(), "status": b.status.code()})
}

/// Folds one entry into the last known state of the row it is about.
fn record_state(states: &mut BTreeMap<String, Value>, e: &AuditEntry) {
    let r = &e.record;
    let after = || r.after.as_deref().and_then(|a| serde_json::from_str::<Value>(a).ok());
    if r.entity.starts_with("declaration/") {
        if let Some(a) = after() {
            states.insert(r.entity.clone(), a);
        }
    } else if r.entity.starts_with("booking/") {
        let status = match r.action.as_str() {
            "slot.book" => {
                let mut v = after().unwrap_or(Value::Null);
                if let Value::Object(m) = &mut v {
                    m.insert("status".into(), "booked".into());
                }
                states.insert(r.entity.clone(), v);
                return;
            }
            "slot.cancel" | "slot.release" => "cancelled",
            "slot.no-show" => "no-show",
            _ => return,
        };
        let v = states.entry(r.entity.clone()).or_insert_with(|| json!({}));
        if let Value::Object(m) = v {
            m.insert("status".into(), status.into());
        }
    }
}

/// Why verification failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The first bad audit entry.
    Entry { seq: i64, reason: String },
    /// A business row that differs from the log's last state of it.
    Row { entity: String, reason: String },
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Entry { seq, reason } => write!(f, "audit entry {seq} {reason}"),
            Failure::Row { entity, reason } => write!(f, "{entity} {reason}"),
        }
    }
}

impl From<ChainBreak> for Failure {
    fn from(b: ChainBreak) -> Failure {
        Failure::Entry { seq: b.seq, reason: b.reason.to_string() }
    }
}

impl From<LogBreak> for Failure {
    fn from(b: LogBreak) -> Failure {
        Failure::Entry { seq: b.seq, reason: b.reason }
    }
}

/// What a successful verification covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub entries: i64,
    /// The largest checkpoint the log was checked against (0 without checkpoints).
    pub checkpointed: u64,
    pub rows: usize,
}

/// Verifies the stored log: the hash chain, every checkpoint (already opened, i.e. its signature
/// checked) against the Merkle tree of the stored entries, the exported leaf hashes (to name the
/// first changed entry), and the current bookings and declarations against the log's last states.
pub async fn verify(
    store: &dyn Store,
    checkpoints: &[Checkpoint],
    exported: &BTreeMap<u64, Hash>,
) -> Result<std::result::Result<Verdict, Failure>> {
    let s = scan(store).await?;
    let chain = store.verify_audit().await?;
    let log = tl::check_log(&s.leaves, checkpoints, exported);
    // Both name a first bad entry; the earlier one is the first.
    match (chain, log) {
        (Err(c), Err(l)) => return Ok(Err(if l.seq <= c.seq { l.into() } else { c.into() })),
        (Err(c), Ok(())) => return Ok(Err(c.into())),
        (Ok(_), Err(l)) => return Ok(Err(l.into())),
        (Ok(_), Ok(())) => {}
    }
    let rows = store.business_rows().await?;
    let n = rows.len();
    let mut expected = s.states;
    for (entity, now) in rows {
        match expected.remove(&entity) {
            None => return Ok(Err(Failure::Row { entity, reason: "has no audit entry (written behind the log's back)".into() })),
            // The states themselves stay out of the message: gate boards read it too.
            Some(e) if e != now => return Ok(Err(Failure::Row { entity, reason: "differs from its last audited state".into() })),
            Some(_) => {}
        }
    }
    if let Some(entity) = expected.into_keys().next() {
        return Ok(Err(Failure::Row { entity, reason: "is in the audit log but not in the database (deleted)".into() }));
    }
    Ok(Ok(Verdict { entries: s.leaves.len() as i64, checkpointed: checkpoints.iter().map(|c| c.size).max().unwrap_or(0), rows: n }))
}

/// A new checkpoint and the leaf hashes it adds.
#[derive(Debug, Clone)]
pub struct Signed {
    pub checkpoint: Checkpoint,
    /// The signed note (C2SP checkpoint).
    pub note: String,
    /// `(seq, leaf)` of the entries after the previous checkpoint.
    pub leaves: Vec<(u64, Hash)>,
}

/// Signs a checkpoint of the whole stored log with `key` (origin: the key's name), extending
/// `last` — the node never signs a log that is not an extension of what it signed before, nor a
/// broken hash chain. `None` when nothing was added since `last`.
pub async fn checkpoint(store: &dyn Store, key: &NoteSigner, last: Option<&Checkpoint>) -> Result<Option<Signed>> {
    if let Err(b) = store.verify_audit().await? {
        return Err(StoreError::Corrupt(format!("refusing to sign a checkpoint: {b}")));
    }
    let s = scan(store).await?;
    let from = last.map_or(0, |c| c.size);
    if let Some(c) = last {
        if (s.leaves.len() as u64) < c.size || tl::root(&s.leaves[..c.size as usize]) != c.root {
            return Err(StoreError::Corrupt(format!(
                "refusing to sign a checkpoint: the log no longer matches checkpoint {} (it was rewritten)",
                c.size
            )));
        }
        if s.leaves.len() as u64 == c.size {
            return Ok(None);
        }
    }
    let mut f = Frontier::default();
    s.leaves.iter().for_each(|l| f.push(*l));
    let checkpoint = Checkpoint { origin: key.name().to_string(), size: f.size(), root: f.root() };
    let note = checkpoint.sign(key);
    let leaves = s.leaves[from as usize..].iter().enumerate().map(|(i, h)| (from + i as u64 + 1, *h)).collect();
    Ok(Some(Signed { checkpoint, note, leaves }))
}

/// The consistency proof from the first `old` entries to the first `new`, for a witness.
pub async fn consistency(store: &dyn Store, old: u64, new: u64) -> Result<Vec<Hash>> {
    let s = scan(store).await?;
    if new as usize > s.leaves.len() || old > new {
        return Err(StoreError::NotFound(crate::Missing::Tree(new)));
    }
    Ok(tl::consistency_proof(old as usize, &s.leaves[..new as usize]))
}
