//! Conformance stories of the audit context: the chain, signed checkpoints against resealed
//! edits, business rows, and two handles on one database.

use super::*;

pub async fn the_audit_chain_detects_tampering(s: &dyn Store, tamper_second_entry: Tamper) {
    s.load_reference(&fixture(), actor("loader")).await.unwrap();
    assert_eq!(audit_len(s).await, 7);
    tamper_second_entry().await;
    let broken = s.verify_audit().await.unwrap().unwrap_err();
    assert_eq!(broken.seq, 2);
}

/// Runs raw SQL behind the store's back (each backend's pool), for the tampering stories.
pub type Sql = std::sync::Arc<dyn Fn(String) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// The node's checkpoint key in tests: a fixed seed, never the operating system's randomness.
pub fn test_key() -> NoteSigner {
    NoteSigner::from_seed("test.cuakhau.example/audit", KeyKind::Note, [7; 32]).unwrap()
}

/// What was exported to the checkpoint directory: signed checkpoints and their leaves.
#[derive(Debug, Default)]
pub struct Exported {
    pub notes: Vec<String>,
    pub leaves: BTreeMap<u64, Hash>,
}

impl Exported {
    /// Signs and "exports" a checkpoint of the log as it stands.
    pub async fn export(&mut self, s: &dyn Store) {
        let v = test_key().verifier();
        let last = self.notes.last().map(|n| Checkpoint::open(n, &v).unwrap().0);
        if let Some(signed) = ledger::checkpoint(s, &test_key(), last.as_ref()).await.unwrap() {
            self.leaves.extend(signed.leaves);
            self.notes.push(signed.note);
        }
    }
    /// Verifies the store against the exported checkpoints (signatures checked on the way).
    pub async fn verify(&self, s: &dyn Store) -> Result<ledger::Verdict, ledger::Failure> {
        let v = test_key().verifier();
        let cps: Vec<Checkpoint> = self.notes.iter().map(|n| Checkpoint::open(n, &v).unwrap().0).collect();
        ledger::verify(s, &cps, &self.leaves).await.unwrap()
    }
}

/// Re-seals the hash chain over whatever the audit table now holds and moves the head, as an
/// administrator who knows the (public) hashing would: today's `verify_audit` then passes.
pub async fn reseal(s: &dyn Store, sql: &Sql) {
    let mut prev = cuakhau_core::audit::GENESIS_HASH.to_string();
    let mut seq = 0;
    for e in s.audit_page(0, 100_000).await.unwrap() {
        let sealed = cuakhau_core::audit::seal(e.seq, &prev, e.record.clone());
        if sealed.hash != e.hash || sealed.prev_hash != e.prev_hash {
            sql(format!("UPDATE audit_log SET prev_hash = '{}', hash = '{}' WHERE seq = {}", sealed.prev_hash, sealed.hash, e.seq)).await;
        }
        prev = sealed.hash;
        seq = e.seq;
    }
    sql(format!("UPDATE audit_head SET seq = {seq}, hash = '{prev}' WHERE id = 1")).await;
    assert!(s.verify_audit().await.unwrap().is_ok(), "the re-sealed chain passes the hash-chain check");
}

pub async fn bad_entry(e: &Exported, s: &dyn Store) -> i64 {
    match e.verify(s).await {
        Err(ledger::Failure::Entry { seq, .. }) => seq,
        other => panic!("expected a bad entry, got {other:?}"),
    }
}

/// A log with a checkpoint exported after the fixture load and a few more entries.
pub async fn checkpointed_log(s: &dyn Store) -> Exported {
    s.load_reference(&fixture(), actor("loader")).await.unwrap();
    let mut e = Exported::default();
    e.export(s).await;
    let mut lane = fixture().lanes[0].clone();
    lane.capacity_per_hour = 20;
    s.put_lane(&lane, actor("board")).await.unwrap();
    s.put_setting("banner", "xin chào", actor("admin")).await.unwrap();
    e.export(s).await;
    assert_eq!(e.notes.len(), 2);
    assert_eq!(e.verify(s).await.unwrap().entries, s.audit_head().await.unwrap().0);
    e
}

pub async fn a_resealed_edit_fails_against_checkpoints(s: &dyn Store, sql: Sql) {
    let e = checkpointed_log(s).await;
    // A witness cosigns both checkpoints, the second after a consistency proof from the store.
    let v = test_key().verifier();
    let cps: Vec<Checkpoint> = e.notes.iter().map(|n| Checkpoint::open(n, &v).unwrap().0).collect();
    let wkey = NoteSigner::from_seed("witness.example", KeyKind::Cosignature, [9; 32]).unwrap();
    let mut w = cuakhau_core::transparency::Witness::new(wkey, v, None).unwrap();
    w.cosign(&e.notes[0], &[], 1).unwrap();
    let proof = ledger::consistency(s, cps[0].size, cps[1].size).await.unwrap();
    w.cosign(&e.notes[1], &proof, 2).unwrap();

    sql("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2".into()).await;
    reseal(s, &sql).await;
    assert_eq!(bad_entry(&e, s).await, 2);

    // Even a checkpoint of the rewritten log signed with the node's key (stolen, say) and one entry
    // longer is refused by the witness: no consistency proof from what it cosigned exists.
    s.put_setting("banner", "rewritten", actor("admin")).await.unwrap();
    let scan = ledger::scan(s).await.unwrap();
    let forged = Checkpoint {
        origin: test_key().name().into(),
        size: scan.leaves.len() as u64,
        root: cuakhau_core::transparency::root(&scan.leaves),
    };
    let proof = ledger::consistency(s, cps[1].size, forged.size).await.unwrap();
    let refused = w.cosign(&forged.sign(&test_key()), &proof, 3);
    assert!(matches!(refused, Err(cuakhau_core::transparency::WitnessError::Inconsistent { .. })), "{refused:?}");
}

pub async fn a_resealed_deletion_fails_against_checkpoints(s: &dyn Store, sql: Sql) {
    let e = checkpointed_log(s).await;
    sql("DELETE FROM audit_log WHERE seq = 3".into()).await;
    for k in 4..=s.audit_head().await.unwrap().0 {
        sql(format!("UPDATE audit_log SET seq = {} WHERE seq = {k}", k - 1)).await;
    }
    reseal(s, &sql).await;
    assert_eq!(bad_entry(&e, s).await, 3);
}

pub async fn a_resealed_reordering_fails_against_checkpoints(s: &dyn Store, sql: Sql) {
    let e = checkpointed_log(s).await;
    let n = s.audit_head().await.unwrap().0;
    sql(format!("UPDATE audit_log SET seq = -1 WHERE seq = {}", n - 1)).await;
    sql(format!("UPDATE audit_log SET seq = {} WHERE seq = {n}", n - 1)).await;
    sql(format!("UPDATE audit_log SET seq = {n} WHERE seq = -1")).await;
    reseal(s, &sql).await;
    assert_eq!(bad_entry(&e, s).await, n - 1);
}

pub async fn a_cut_tail_and_moved_head_fail_against_checkpoints(s: &dyn Store, sql: Sql) {
    let e = checkpointed_log(s).await;
    sql("DELETE FROM audit_log WHERE seq > 6".into()).await;
    reseal(s, &sql).await;
    assert_eq!(bad_entry(&e, s).await, 7);
    // The node itself refuses to sign a checkpoint of the rewritten log.
    let last = Checkpoint::open(e.notes.last().unwrap(), &test_key().verifier()).unwrap().0;
    let err = ledger::checkpoint(s, &test_key(), Some(&last)).await;
    assert!(matches!(err, Err(StoreError::Corrupt(ref m)) if m.contains("rewritten")), "{err:?}");
}

/// Editing a booking's hour, or a declaration, behind the log's back: the chain is untouched, so
/// the hash-chain check passes; the rows no longer match the log's last states.
pub async fn edited_business_rows_fail_verification(s: &dyn Store, sql: Sql) {
    s.load_reference(&fixture(), actor("loader")).await.unwrap();
    let a = accepted_declaration(s, "0101234567", "12C-111.11").await;
    let cap = HourCapacity { general: 1, reserved: 1, perishable: 0, agv: 0 };
    let BookingOutcome::Booked(b) = s.book_slot(request(a, cap, 10), actor("firm")).await.unwrap() else { panic!("not booked") };
    let mut e = Exported::default();
    e.export(s).await;
    assert!(e.verify(s).await.is_ok());

    sql(format!("UPDATE bookings SET hour_us = hour_us + 3600000000 WHERE id = {}", b.id)).await;
    assert!(s.verify_audit().await.unwrap().is_ok(), "the hash chain alone misses it");
    match e.verify(s).await {
        Err(ledger::Failure::Row { entity, .. }) => assert_eq!(entity, format!("booking/{}", b.id)),
        other => panic!("{other:?}"),
    }
    sql(format!("UPDATE bookings SET hour_us = hour_us - 3600000000 WHERE id = {}", b.id)).await;
    assert!(e.verify(s).await.is_ok());

    sql(format!("UPDATE declarations SET plate = '99Z-999.99' WHERE id = {a}")).await;
    match e.verify(s).await {
        Err(ledger::Failure::Row { entity, .. }) => assert_eq!(entity, format!("declaration/{a}")),
        other => panic!("{other:?}"),
    }
    sql(format!("UPDATE declarations SET plate = '12C-111.11' WHERE id = {a}")).await;
    sql(format!("DELETE FROM bookings WHERE id = {}", b.id)).await;
    assert!(matches!(e.verify(s).await, Err(ledger::Failure::Row { .. })), "a deleted booking");
}

/// A row appended past the head neither blocks writes nor leaks a database message; verification
/// names it.
pub async fn a_row_past_the_head_does_not_block_writes(s: &dyn Store, sql: Sql) {
    s.load_reference(&fixture(), actor("loader")).await.unwrap();
    let mut e = Exported::default();
    e.export(s).await;
    let (head, _) = s.audit_head().await.unwrap();
    sql(format!(
        "INSERT INTO audit_log (seq, actor, at_us, action, entity, prev_hash, hash) VALUES ({}, 'mallory', 0, 'x', 'x', 'x', 'x')",
        head + 1
    ))
    .await;
    s.put_setting("banner", "xin chào", actor("admin")).await.unwrap();
    s.put_setting("banner", "你好", actor("admin")).await.unwrap();
    assert_eq!(s.audit_head().await.unwrap().0, head + 3);
    assert!(s.setting("banner").await.unwrap().as_deref() == Some("你好"));
    let broken = s.verify_audit().await.unwrap().unwrap_err();
    assert_eq!(broken.seq, head + 1);
    assert_eq!(bad_entry(&e, s).await, head + 1);
    // The node will not sign past it either.
    assert!(ledger::checkpoint(s, &test_key(), None).await.is_err());
}

/// Two store handles on one database (two processes, or two servers on one PostgreSQL) write
/// in turn: the audit chain stays one unbroken chain.
pub async fn two_writers_keep_one_chain(a: &dyn Store, b: &dyn Store) {
    a.load_reference(&fixture(), actor("loader")).await.unwrap();
    for i in 0..6 {
        let s: &dyn Store = if i % 2 == 0 { a } else { b };
        let mut lane = s.lane(&cuakhau_core::LaneId::parse("huu-nghi-vn-export-1").unwrap()).await.unwrap().unwrap();
        lane.capacity_per_hour = 20 + i;
        s.put_lane(&lane, actor("board")).await.unwrap();
    }
    // The other handle wrote last each time: both see and extend the same head.
    let d = accepted_declaration(a, "0101234567", "12C-111.11").await;
    let booked = b.book_slot(request(d, HourCapacity { general: 1, reserved: 1, perishable: 0, agv: 0 }, 10), actor("firm")).await.unwrap();
    assert!(matches!(booked, BookingOutcome::Booked(_)));
    b.put_setting("k", "v", actor("other")).await.unwrap();
    a.put_setting("k", "w", actor("this")).await.unwrap();
    let (seq, _) = a.audit_head().await.unwrap();
    assert_eq!(a.verify_audit().await.unwrap(), Ok(seq), "one chain, every entry intact");
    assert_eq!(b.verify_audit().await.unwrap(), Ok(seq));
}
