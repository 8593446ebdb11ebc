//! The audit chain: every change is an entry that carries the hash of the one before it.
//!
//! Editing, inserting or deleting any stored entry breaks the chain at that entry, which
//! [`verify`] reports by sequence number. Hashing is SHA-256 over length-prefixed fields, so no
//! choice of field contents can make two different entries hash alike.

use crate::time::Timestamp;
use sha2::{Digest, Sha256};

/// What happened: who did what to which entity, and the entity before and after (JSON text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub actor: String,
    pub at: Timestamp,
    pub action: String,
    pub entity: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// A record sealed into the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: i64,
    pub record: AuditRecord,
    pub prev_hash: String,
    pub hash: String,
}

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn field(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_be_bytes());
    h.update(bytes);
}

fn opt_field(h: &mut Sha256, v: &Option<String>) {
    match v {
        None => h.update([0u8]),
        Some(s) => {
            h.update([1u8]);
            field(h, s.as_bytes());
        }
    }
}

/// The hash of entry `seq` holding `record`, chained to `prev_hash`.
pub fn entry_hash(seq: i64, prev_hash: &str, record: &AuditRecord) -> String {
    let mut h = Sha256::new();
    h.update(b"cuakhau-audit-v1");
    h.update(seq.to_be_bytes());
    field(&mut h, prev_hash.as_bytes());
    field(&mut h, record.actor.as_bytes());
    h.update(record.at.as_micros().to_be_bytes());
    field(&mut h, record.action.as_bytes());
    field(&mut h, record.entity.as_bytes());
    opt_field(&mut h, &record.before);
    opt_field(&mut h, &record.after);
    hex::encode(h.finalize())
}

/// Seals `record` as entry `seq` after an entry whose hash is `prev_hash`.
pub fn seal(seq: i64, prev_hash: &str, record: AuditRecord) -> AuditEntry {
    let hash = entry_hash(seq, prev_hash, &record);
    AuditEntry { seq, record, prev_hash: prev_hash.to_string(), hash }
}

/// Seals `records`, each with its number, as one chain from the genesis hash: what anyone who knows
/// the (public) hashing can compute, so a chain alone proves nothing to one who can write it.
pub fn seal_chain(records: impl IntoIterator<Item = (i64, AuditRecord)>) -> Vec<AuditEntry> {
    let mut prev = GENESIS_HASH.to_string();
    records
        .into_iter()
        .map(|(seq, r)| {
            let e = seal(seq, &prev, r);
            prev.clone_from(&e.hash);
            e
        })
        .collect()
}

/// Where and why the chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    pub seq: i64,
    pub reason: &'static str,
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "audit entry {} {}", self.seq, self.reason)
    }
}

/// Incremental verifier, so a store can stream entries through it.
///
/// The default verifier checks one chain numbered 1, 2, 3…; [`Verifier::stream`] checks one
/// stream of a log whose entries are numbered across all its streams, so each entry's number is
/// only larger than the one before it (the links between hashes still catch a removed entry).
#[derive(Debug)]
pub struct Verifier {
    expected_seq: i64,
    prev_hash: String,
    /// Numbers may skip (one stream of several).
    gapped: bool,
    count: i64,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier { expected_seq: 1, prev_hash: GENESIS_HASH.to_string(), gapped: false, count: 0 }
    }
}

impl Verifier {
    /// A verifier of one stream of the log: numbers increase, and may skip those of other streams.
    pub fn stream() -> Verifier {
        Verifier { gapped: true, ..Verifier::default() }
    }

    pub fn push(&mut self, e: &AuditEntry) -> Result<(), ChainBreak> {
        if e.seq != self.expected_seq && !(self.gapped && e.seq > self.expected_seq) {
            return Err(ChainBreak { seq: e.seq, reason: "is out of sequence (an entry was removed or inserted)" });
        }
        if e.prev_hash != self.prev_hash {
            return Err(ChainBreak { seq: e.seq, reason: "does not point at the entry before it" });
        }
        if entry_hash(e.seq, &e.prev_hash, &e.record) != e.hash {
            return Err(ChainBreak { seq: e.seq, reason: "was altered (its hash does not match its content)" });
        }
        self.expected_seq = e.seq + 1;
        self.count += 1;
        self.prev_hash = e.hash.clone();
        Ok(())
    }
    /// The hash of the last entry verified (the genesis hash before any).
    pub fn last_hash(&self) -> &str {
        &self.prev_hash
    }
    /// Entries verified so far.
    pub fn count(&self) -> i64 {
        self.count
    }
    /// The number of the last entry verified (0 before any).
    pub fn last_seq(&self) -> i64 {
        self.expected_seq - 1
    }
}

/// Verifies a whole chain; returns the number of entries.
pub fn verify<'a>(entries: impl IntoIterator<Item = &'a AuditEntry>) -> Result<i64, ChainBreak> {
    let mut v = Verifier::default();
    for e in entries {
        v.push(e)?;
    }
    Ok(v.count())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = Vec::new();
        for seq in 1..=n {
            let prev = out.last().map(|e| e.hash.clone()).unwrap_or_else(|| GENESIS_HASH.into());
            let r = AuditRecord {
                actor: "admin".into(),
                at: Timestamp(seq * 1000),
                action: "lane.update".into(),
                entity: format!("lane/{seq}"),
                before: Some("{\"capacity_per_hour\":10}".into()),
                after: Some("{\"capacity_per_hour\":12}".into()),
            };
            out.push(seal(seq, &prev, r));
        }
        out
    }

    #[test]
    fn an_untouched_chain_verifies() {
        assert_eq!(verify(&chain(5)), Ok(5));
        assert_eq!(verify(&[]), Ok(0));
    }

    #[test]
    fn any_edit_is_found_at_its_entry() {
        let mut c = chain(5);
        c[2].record.after = Some("{\"capacity_per_hour\":99}".into());
        assert_eq!(verify(&c).unwrap_err().seq, 3);

        let mut c = chain(5);
        c.remove(1);
        assert_eq!(verify(&c).unwrap_err().seq, 3);

        // Re-hashing an edited entry still breaks the link to the next one.
        let mut c = chain(5);
        c[1].record.actor = "mallory".into();
        c[1].hash = entry_hash(2, &c[1].prev_hash.clone(), &c[1].record);
        assert_eq!(verify(&c).unwrap_err().seq, 3);
    }

    #[test]
    fn a_stream_skips_numbers_but_not_entries() {
        // Entries 2, 5 and 9 of the whole log, one stream's chain.
        let mut c: Vec<AuditEntry> = Vec::new();
        for seq in [2, 5, 9] {
            let prev = c.last().map(|e| e.hash.clone()).unwrap_or_else(|| GENESIS_HASH.into());
            c.push(seal(seq, &prev, chain(1)[0].record.clone()));
        }
        let mut v = Verifier::stream();
        c.iter().for_each(|e| v.push(e).unwrap());
        assert_eq!((v.count(), v.last_seq(), v.last_hash()), (3, 9, c[2].hash.as_str()));
        // One chain numbered 1, 2, 3… refuses the gap.
        assert_eq!(verify(&c).unwrap_err().seq, 2);
        // Removing the middle entry breaks the link, going back breaks the order.
        let mut v = Verifier::stream();
        v.push(&c[0]).unwrap();
        assert_eq!(v.push(&c[2]).unwrap_err().seq, 9);
        let mut v = Verifier::stream();
        v.push(&c[0]).unwrap();
        v.push(&c[1]).unwrap();
        assert_eq!(v.push(&c[0]).unwrap_err().seq, 2);
    }
}
