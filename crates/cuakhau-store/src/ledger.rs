//! The audit log as a transparency log, over any [`Store`]: signing checkpoints of the Merkle
//! tree of the stored entries, and verifying the stored entries and the business rows against the
//! checkpoints exported earlier.
//!
//! The log is kept as streams (one per gate pair, and the node's own, `""`; see
//! [`crate::AuditStore`]): each stream is its own Merkle tree, checkpointed under its own origin
//! ([`tl::stream_origin`]: the key's name for the node's stream, `name/stream` for the others), so
//! verifying every stream against its checkpoints verifies the whole log.
//!
//! What this protects against: someone who can rewrite the database (edit, delete, reorder or
//! re-seal audit entries, move a head, edit bookings or declarations) but can neither read the
//! node's signing key nor rewrite the checkpoint directory. Entries written after the last exported
//! checkpoint are protected only by the hash chain until the next checkpoint.

use crate::goods::Booking;
use crate::{Result, Store, StoreError, StreamEntry};
use cuakhau_core::AuditEntry;
use cuakhau_core::audit::ChainBreak;
use cuakhau_core::transparency::{self as tl, Checkpoint, Frontier, Hash, LogBreak, NoteSigner};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// One stream of the log as read: its entries' numbers and leaf hashes, entry `i + 1` of the
/// stream's tree at index `i`.
#[derive(Debug, Default, Clone)]
pub struct StreamScan {
    pub seqs: Vec<i64>,
    pub leaves: Vec<Hash>,
}

/// Everything read from the log in one pass.
#[derive(Debug, Default)]
pub struct Scan {
    /// Each stream's entries, by stream.
    pub streams: BTreeMap<String, StreamScan>,
    /// The last state the log records for each business row (`booking/7`, `declaration/3`).
    pub states: BTreeMap<String, Value>,
}

impl Scan {
    /// The leaves of one stream (none for a stream with no entries).
    pub fn leaves(&self, stream: &str) -> &[Hash] {
        self.streams.get(stream).map_or(&[], |s| &s.leaves)
    }
    /// Entries in the whole log.
    pub fn entries(&self) -> usize {
        self.streams.values().map(|s| s.leaves.len()).sum()
    }
}

/// Reads every audit entry, oldest first. A business row's entries are folded in the order of
/// their numbers: each write locks its row before it takes a number, so a later change to one row
/// always has a larger number, whichever stream it went to.
pub async fn scan(store: &dyn Store) -> Result<Scan> {
    let mut s = Scan::default();
    let mut after = 0;
    loop {
        let page = store.audit_entries(after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = last.entry.seq;
        for StreamEntry { stream, entry: e } in &page {
            let st = s.streams.entry(stream.clone()).or_default();
            st.seqs.push(e.seq);
            st.leaves.push(tl::audit_leaf(e.seq, &e.record));
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

/// What was exported for one stream: its signed checkpoints (already opened, i.e. their signatures
/// checked) and the leaf hashes exported with them, by index in the stream's tree (with the
/// entry's number in the whole log where the export says it).
#[derive(Debug, Default, Clone)]
pub struct StreamExport {
    pub checkpoints: Vec<Checkpoint>,
    pub leaves: BTreeMap<u64, Hash>,
    pub seqs: BTreeMap<u64, i64>,
}

/// Every stream's export, by stream.
pub type Exports = BTreeMap<String, StreamExport>;

/// What a successful verification covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub entries: i64,
    /// Entries covered by checkpoints: each stream's largest checkpoint, summed (0 without).
    pub checkpointed: u64,
    pub rows: usize,
}

/// Verifies the stored log: every stream's hash chain, every checkpoint against the Merkle tree of
/// its stream's stored entries, the exported leaf hashes (to name the first changed entry), and
/// the current bookings and declarations against the log's last states. The first bad entry is
/// named by its number in the whole log (the smallest over the streams that break).
pub async fn verify(store: &dyn Store, exports: &Exports) -> Result<std::result::Result<Verdict, Failure>> {
    let s = scan(store).await?;
    let chain = store.verify_audit().await?;
    let mut log: Option<Failure> = None;
    let empty = StreamScan::default();
    for (stream, ex) in exports {
        let st = s.streams.get(stream).unwrap_or(&empty);
        if let Err(b) = tl::check_log(&st.leaves, &ex.checkpoints, &ex.leaves) {
            // The break is an index in the stream's tree: named by the number the export gave
            // that entry, else the number stored at that place.
            let i = b.seq.max(1) as u64;
            let seq = ex.seqs.get(&i).copied().or_else(|| st.seqs.get(i as usize - 1).copied()).unwrap_or(b.seq);
            let reason = if stream.is_empty() { b.reason } else { format!("{} (stream {stream})", b.reason) };
            if log.as_ref().is_none_or(|f| matches!(f, Failure::Entry { seq: s0, .. } if seq < *s0)) {
                log = Some(Failure::Entry { seq, reason });
            }
        }
    }
    // Both name a first bad entry; the earlier one is the first.
    match (chain, log) {
        (Err(c), Some(Failure::Entry { seq, reason })) => {
            return Ok(Err(if seq <= c.seq { Failure::Entry { seq, reason } } else { c.into() }));
        }
        (Err(c), _) => return Ok(Err(c.into())),
        (Ok(_), Some(l)) => return Ok(Err(l)),
        (Ok(_), None) => {}
    }
    let rows = store.business_rows().await?;
    let n = rows.len();
    let entries = s.entries() as i64;
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
    let checkpointed = exports.values().map(|e| e.checkpoints.iter().map(|c| c.size).max().unwrap_or(0)).sum();
    Ok(Ok(Verdict { entries, checkpointed, rows: n }))
}

/// A new checkpoint of one stream and the leaf hashes it adds.
#[derive(Debug, Clone)]
pub struct Signed {
    pub stream: String,
    pub checkpoint: Checkpoint,
    /// The signed note (C2SP checkpoint).
    pub note: String,
    /// `(index, leaf, seq)` of the entries after the previous checkpoint: the index in the
    /// stream's tree, the leaf hash and the entry's number in the whole log.
    pub leaves: Vec<(u64, Hash, i64)>,
}

/// Signs a checkpoint of every stream that grew since its last checkpoint in `last` (by stream)
/// with `key` (origin: [`tl::stream_origin`] of the key's name and the stream), each extending
/// its last — the node never signs a stream that is not an extension of what it signed before,
/// nor any checkpoint while a hash chain is broken. Empty when nothing was added.
pub async fn checkpoint(store: &dyn Store, key: &NoteSigner, last: &BTreeMap<String, Checkpoint>) -> Result<Vec<Signed>> {
    if let Err(b) = store.verify_audit().await? {
        return Err(StoreError::Corrupt(format!("refusing to sign a checkpoint: {b}")));
    }
    let s = scan(store).await?;
    let empty = StreamScan::default();
    let mut out = Vec::new();
    // A stream checkpointed before but gone from the log was rewritten too.
    let streams: std::collections::BTreeSet<&String> = s.streams.keys().chain(last.keys()).collect();
    for stream in streams {
        let st = s.streams.get(stream).unwrap_or(&empty);
        let prev = last.get(stream);
        let from = prev.map_or(0, |c| c.size);
        if let Some(c) = prev
            && ((st.leaves.len() as u64) < c.size || tl::root(&st.leaves[..c.size as usize]) != c.root)
        {
            return Err(StoreError::Corrupt(format!(
                "refusing to sign a checkpoint: the log no longer matches checkpoint {} of {} (it was rewritten)",
                c.size, c.origin
            )));
        }
        if st.leaves.len() as u64 == from {
            continue;
        }
        let mut f = Frontier::default();
        st.leaves.iter().for_each(|l| f.push(*l));
        let checkpoint = Checkpoint { origin: tl::stream_origin(key.name(), stream), size: f.size(), root: f.root() };
        let note = checkpoint.sign(key);
        let leaves = (from as usize..st.leaves.len()).map(|i| (i as u64 + 1, st.leaves[i], st.seqs[i])).collect();
        out.push(Signed { stream: stream.clone(), checkpoint, note, leaves });
    }
    Ok(out)
}

/// The consistency proof of `stream` from its first `old` entries to its first `new`, for a
/// witness.
pub async fn consistency(store: &dyn Store, stream: &str, old: u64, new: u64) -> Result<Vec<Hash>> {
    let s = scan(store).await?;
    let leaves = s.leaves(stream);
    if new as usize > leaves.len() || old > new {
        return Err(StoreError::NotFound(crate::Missing::Tree(new)));
    }
    Ok(tl::consistency_proof(old as usize, &leaves[..new as usize]))
}
