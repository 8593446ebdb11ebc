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

/// What was exported to the checkpoint directory: signed checkpoints and their leaves, per stream.
#[derive(Debug, Default)]
pub struct Exported {
    /// Every signed note, in the order signed.
    pub notes: Vec<String>,
    pub streams: ledger::Exports,
    /// Each stream's last checkpoint.
    pub last: BTreeMap<String, Checkpoint>,
}

impl Exported {
    /// Signs and "exports" a checkpoint of every stream that grew.
    pub async fn export(&mut self, s: &dyn Store) {
        let v = test_key().verifier();
        for signed in ledger::checkpoint(s, &test_key(), &self.last).await.unwrap() {
            let (c, _) = Checkpoint::open(&signed.note, &v).unwrap();
            assert_eq!(c.stream(test_key().name()), Some(signed.stream.as_str()), "the origin names the stream");
            let ex = self.streams.entry(signed.stream.clone()).or_default();
            for (i, h, seq) in signed.leaves {
                ex.leaves.insert(i, h);
                ex.seqs.insert(i, seq);
            }
            ex.checkpoints.push(c.clone());
            self.last.insert(signed.stream, c);
            self.notes.push(signed.note);
        }
    }
    /// The signed notes of one stream, oldest first.
    pub fn notes_of(&self, stream: &str) -> Vec<&String> {
        let v = test_key().verifier();
        self.notes.iter().filter(|n| Checkpoint::open(n, &v).unwrap().0.stream(test_key().name()) == Some(stream)).collect()
    }
    /// Verifies the store against the exported checkpoints.
    pub async fn verify(&self, s: &dyn Store) -> Result<ledger::Verdict, ledger::Failure> {
        ledger::verify(s, &self.streams).await.unwrap()
    }
}

/// Re-seals every stream's hash chain over whatever the audit table now holds and moves the
/// heads, as an administrator who knows the (public) hashing would: `verify_audit` then passes.
pub async fn reseal(s: &dyn Store, sql: &Sql) {
    let genesis = || (0i64, 0i64, cuakhau_core::audit::GENESIS_HASH.to_string());
    let mut heads: BTreeMap<String, (i64, i64, String)> =
        s.audit_heads().await.unwrap().into_iter().map(|h| (h.stream, genesis())).collect();
    for crate::StreamEntry { stream, entry: e } in s.audit_entries(0, 100_000).await.unwrap() {
        let h = heads.entry(stream).or_insert_with(genesis);
        let sealed = cuakhau_core::audit::seal(e.seq, &h.2, e.record.clone());
        if sealed.hash != e.hash || sealed.prev_hash != e.prev_hash {
            sql(format!("UPDATE audit_log SET prev_hash = '{}', hash = '{}' WHERE seq = {}", sealed.prev_hash, sealed.hash, e.seq)).await;
        }
        *h = (e.seq, h.1 + 1, sealed.hash);
    }
    for (stream, (seq, size, hash)) in heads {
        sql(format!(
            "INSERT INTO audit_heads (stream, seq, size, hash) VALUES ('{stream}', {seq}, {size}, '{hash}')
             ON CONFLICT (stream) DO UPDATE SET seq = excluded.seq, size = excluded.size, hash = excluded.hash"
        ))
        .await;
    }
    assert!(s.verify_audit().await.unwrap().is_ok(), "the re-sealed chains pass the hash-chain check");
}

pub async fn bad_entry(e: &Exported, s: &dyn Store) -> i64 {
    match e.verify(s).await {
        Err(ledger::Failure::Entry { seq, .. }) => seq,
        other => panic!("expected a bad entry, got {other:?}"),
    }
}

/// A log with a checkpoint exported after the fixture load (the node's stream: entries 1 to 7) and
/// a few more entries (a lane's change in huu-nghi's stream, entry 8; a setting in the node's
/// stream, entry 9).
pub async fn checkpointed_log(s: &dyn Store) -> Exported {
    s.load_reference(&fixture(), actor("loader")).await.unwrap();
    let mut e = Exported::default();
    e.export(s).await;
    let mut lane = fixture().lanes[0].clone();
    lane.capacity_per_hour = 20;
    s.put_lane(&lane, actor("board")).await.unwrap();
    s.put_setting("banner", "xin chào", actor("admin")).await.unwrap();
    e.export(s).await;
    assert_eq!((e.notes_of("").len(), e.notes_of("huu-nghi").len(), e.notes.len()), (2, 1, 3));
    assert_eq!(e.verify(s).await.unwrap().entries, s.audit_head().await.unwrap().0);
    e
}

pub async fn a_resealed_edit_fails_against_checkpoints(s: &dyn Store, sql: Sql) {
    let e = checkpointed_log(s).await;
    // A witness cosigns both checkpoints, the second after a consistency proof from the store.
    let v = test_key().verifier();
    let node = e.notes_of("");
    let cps: Vec<Checkpoint> = node.iter().map(|n| Checkpoint::open(n, &v).unwrap().0).collect();
    let wkey = NoteSigner::from_seed("witness.example", KeyKind::Cosignature, [9; 32]).unwrap();
    let mut w = cuakhau_core::transparency::Witness::new(wkey, v, None).unwrap();
    w.cosign(node[0], &[], 1).unwrap();
    let proof = ledger::consistency(s, "", cps[0].size, cps[1].size).await.unwrap();
    w.cosign(node[1], &proof, 2).unwrap();

    sql("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2".into()).await;
    reseal(s, &sql).await;
    assert_eq!(bad_entry(&e, s).await, 2);

    // Even a checkpoint of the rewritten log signed with the node's key (stolen, say) and one entry
    // longer is refused by the witness: no consistency proof from what it cosigned exists.
    s.put_setting("banner", "rewritten", actor("admin")).await.unwrap();
    let scan = ledger::scan(s).await.unwrap();
    let forged = Checkpoint {
        origin: test_key().name().into(),
        size: scan.leaves("").len() as u64,
        root: cuakhau_core::transparency::root(scan.leaves("")),
    };
    let proof = ledger::consistency(s, "", cps[1].size, forged.size).await.unwrap();
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
    let err = ledger::checkpoint(s, &test_key(), &e.last).await;
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
    assert!(ledger::checkpoint(s, &test_key(), &BTreeMap::new()).await.is_err());
}

/// Writes at two gate pairs and the node go to three streams, each its own chain and Merkle tree
/// with its own head and checkpoints; verification still proves the whole log, and a re-sealed
/// edit in one gate pair's stream is named by its number in the whole log.
pub async fn each_gate_pair_is_its_own_stream_and_the_log_verifies_whole(s: &dyn Store, sql: Sql) {
    s.load_reference(&fixture(), actor("loader")).await.unwrap();
    let tan_thanh = lane_at("tan-thanh", "tan-thanh-vn-export-1", 8);
    let mut lane = fixture().lanes[0].clone();
    let mut e = Exported::default();
    for k in 0..3 {
        lane.capacity_per_hour = 20 + k;
        s.put_lane(&lane, actor("board")).await.unwrap();
        let mut t = tan_thanh.clone();
        t.capacity_per_hour = 8 + k;
        s.put_lane(&t, actor("board")).await.unwrap();
        s.put_setting("banner", &format!("{k}"), actor("admin")).await.unwrap();
        e.export(s).await;
    }
    let heads = s.audit_heads().await.unwrap();
    let sizes: Vec<(&str, i64)> = heads.iter().map(|h| (h.stream.as_str(), h.size)).collect();
    assert_eq!(sizes, vec![("", 7 + 3), ("huu-nghi", 3), ("tan-thanh", 3)]);
    assert_eq!(heads.iter().map(|h| h.seq).max(), Some(s.audit_head().await.unwrap().0));
    let total = audit_len(s).await;
    assert_eq!(total, 16);
    let v = e.verify(s).await.unwrap();
    assert_eq!((v.entries, v.checkpointed), (16, 16));
    // Each stream's entries are chained to one another only.
    let page = s.audit_entries(0, 100).await.unwrap();
    let tan: Vec<&crate::StreamEntry> = page.iter().filter(|x| x.stream == "tan-thanh").collect();
    assert_eq!(tan[0].entry.prev_hash, cuakhau_core::audit::GENESIS_HASH);
    assert_eq!(tan[1].entry.prev_hash, tan[0].entry.hash);
    // The follower's view: every change once, each stream up to its head.
    let all = s.changes_after(&crate::LogCursor::default(), 100).await.unwrap();
    assert_eq!(all.iter().map(|c| c.seq).collect::<Vec<_>>(), (1..=16).collect::<Vec<_>>());
    assert_eq!(s.changes_after(&crate::LogCursor::at(&heads), 100).await.unwrap(), vec![]);

    // A re-sealed edit of tan-thanh's second entry: the chains pass, its checkpoint does not.
    let victim = tan[1].entry.seq;
    sql(format!("UPDATE audit_log SET actor = 'mallory' WHERE seq = {victim}")).await;
    reseal(s, &sql).await;
    assert_eq!(bad_entry(&e, s).await, victim);
    // Moving an entry to another stream breaks both chains.
    sql(format!("UPDATE audit_log SET actor = 'board' WHERE seq = {victim}")).await;
    reseal(s, &sql).await;
    assert!(e.verify(s).await.is_ok(), "put back, the log verifies against its checkpoints again");
    sql(format!("UPDATE audit_log SET stream = 'huu-nghi' WHERE seq = {victim}")).await;
    assert!(s.verify_audit().await.unwrap().is_err());
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
