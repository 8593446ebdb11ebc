//! The conformance suite: stories every backend must pass, run by each backend's tests through
//! [`conformance_tests!`](crate::conformance_tests).
//!
//! Each story takes a fresh, migrated, empty store.

use crate::goods::DeclarationQuery;
use crate::ledger;
use crate::{Actor, GateHoursChange, NewUser, Store, StoreError};
use cuakhau_core::auth::ReadScope;
use cuakhau_core::refdata::{GateFields, Lane, LocalityPairing, OpeningHours, Province};
use cuakhau_core::transparency::{Checkpoint, Hash, KeyKind, NoteSigner};
use cuakhau_core::{Gate, GateKind, GatePair, GatePairId, Mode, ReferenceData, Role, Side, Timestamp};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

/// A closure that edits the audit table behind the store's back (raw SQL in each backend).
pub type Tamper = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

pub const T0: Timestamp = Timestamp(1_795_000_000_000_000);

fn actor(name: &str) -> Actor<'_> {
    Actor { name, at: T0 }
}

fn gate(side: Side, name: &str, province: &str, hours: Option<(&str, &str)>) -> Gate {
    let (o, c, s) = match hours {
        Some((o, c)) => (o, c, "fixture"),
        None => ("", "", ""),
    };
    Gate::parse(
        side,
        &GateFields {
            name_vi: name,
            name_zh: if side == Side::Cn { "友谊关" } else { "" },
            name_pinyin: if side == Side::Cn { "Yǒuyìguān" } else { "" },
            name_en: name,
            province,
            zone: side.zone(),
            opens: o,
            closes: c,
            hours_source: s,
            lat: if side == Side::Vn { "21.97111" } else { "" },
            lon: if side == Side::Vn { "106.71083" } else { "" },
            coord_precision: if side == Side::Vn { "1 arc-second" } else { "" },
            coord_source: if side == Side::Vn { "fixture" } else { "" },
            ..Default::default()
        },
    )
    .expect("fixture gate")
}

/// A small but complete reference data set.
pub fn fixture() -> ReferenceData {
    let provinces = vec![
        Province::parse("lang-son", "VN", "Lạng Sơn", "谅山", "Lang Son", "", "fixture").unwrap(),
        Province::parse("guangxi", "CN", "Quảng Tây", "广西", "Guangxi", "", "fixture").unwrap(),
    ];
    let pairings = vec![LocalityPairing::parse("lang-son", "guangxi", "JWC", "fixture").unwrap()];
    let pair = |id: &str, order: u32, hours: Option<(&str, &str)>| GatePair {
        id: GatePairId::parse(id).unwrap(),
        kind: GateKind::International,
        mode: Mode::Road,
        designation: "international".into(),
        vn: gate(Side::Vn, "Hữu Nghị", "lang-son", hours),
        cn: gate(Side::Cn, "Hữu Nghị Quan", "guangxi", None),
        order,
        sources: vec!["https://example.org/a".into(), "https://example.org/b".into()],
    };
    let gate_pairs = vec![pair("huu-nghi", 1, Some(("07:00", "20:00"))), pair("tan-thanh", 2, None)];
    let lanes = vec![
        Lane::parse("huu-nghi-vn-export-1", "huu-nghi", "VN", "export", "general", "Lane 1", "13", "true", "fixture").unwrap(),
        Lane::parse("huu-nghi-vn-export-2", "huu-nghi", "VN", "export", "perishable", "Lane 2", "10", "true", "fixture").unwrap(),
    ];
    ReferenceData { provinces, pairings, gate_pairs, lanes }
}

async fn audit_len(s: &dyn Store) -> i64 {
    let n = s.verify_audit().await.unwrap().expect("chain intact");
    // Every story's business rows match the log's last states (no false alarms).
    let v = crate::ledger::verify(s, &[], &Default::default()).await.unwrap().expect("rows match the log");
    assert_eq!(v.entries, n);
    n
}

pub async fn a_fresh_store_is_empty(s: &dyn Store) {
    assert!(s.is_empty().await.unwrap());
    assert_eq!(s.reference().await.unwrap(), ReferenceData::default());
    assert_eq!(audit_len(s).await, 0);
}

pub async fn loading_twice_changes_nothing(s: &dyn Store) {
    let data = fixture();
    let r1 = s.load_reference(&data, actor("loader")).await.unwrap();
    assert_eq!((r1.inserted, r1.updated, r1.unchanged), (7, 0, 0));
    assert!(!s.is_empty().await.unwrap());
    assert_eq!(s.reference().await.unwrap(), data);
    let entries = audit_len(s).await;
    assert_eq!(entries, 7);
    let r2 = s.load_reference(&data, actor("loader")).await.unwrap();
    assert_eq!((r2.inserted, r2.updated, r2.unchanged), (0, 0, 7));
    assert_eq!(audit_len(s).await, entries, "a second load writes no audit entry");
    assert_eq!(s.reference().await.unwrap(), data);
}

pub async fn a_load_that_breaks_integrity_writes_nothing(s: &dyn Store) {
    let mut data = fixture();
    data.lanes.push(Lane::parse("ghost-1", "no-such-pair", "VN", "export", "general", "x", "1", "true", "fixture").unwrap());
    let err = s.load_reference(&data, actor("loader")).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert!(s.is_empty().await.unwrap());
    assert_eq!(audit_len(s).await, 0);
}

pub async fn a_changed_row_is_updated_with_before_and_after(s: &dyn Store) {
    let mut data = fixture();
    s.load_reference(&data, actor("loader")).await.unwrap();
    data.gate_pairs[1].designation = "auxiliary (cửa khẩu phụ)".into();
    let r = s.load_reference(&data, actor("loader")).await.unwrap();
    assert_eq!((r.inserted, r.updated, r.unchanged), (0, 1, 6));
    let last = s.audit_page(7, 10).await.unwrap();
    assert_eq!(last.len(), 1);
    assert_eq!(last[0].record.action, "reference.update");
    assert!(last[0].record.before.as_deref().unwrap().contains("\"designation\":\"international\""));
    assert!(last[0].record.after.as_deref().unwrap().contains("cửa khẩu phụ"));
}

pub async fn lanes_are_created_updated_and_audited(s: &dyn Store) {
    s.load_reference(&fixture(), actor("loader")).await.unwrap();
    let mut lane = s.lane(&cuakhau_core::LaneId::parse("huu-nghi-vn-export-1").unwrap()).await.unwrap().unwrap();
    lane.capacity_per_hour = 20;
    s.put_lane(&lane, actor("board")).await.unwrap();
    assert_eq!(s.lane(&lane.id).await.unwrap().unwrap().capacity_per_hour, 20);
    let e = s.audit_page(7, 10).await.unwrap();
    assert_eq!(e.len(), 1);
    assert_eq!((e[0].record.actor.as_str(), e[0].record.action.as_str()), ("board", "lane.update"));
    // Writing the same lane again is not a change.
    s.put_lane(&lane, actor("board")).await.unwrap();
    assert_eq!(audit_len(s).await, 8);
    let new = Lane::parse("tan-thanh-cn-import-1", "tan-thanh", "CN", "import", "agv", "AGV", "4", "true", "board").unwrap();
    s.put_lane(&new, actor("board")).await.unwrap();
    assert_eq!(s.reference().await.unwrap().lanes.len(), 3);
    let orphan = Lane::parse("x-1", "nowhere", "CN", "import", "agv", "AGV", "4", "true", "board").unwrap();
    assert!(matches!(s.put_lane(&orphan, actor("board")).await, Err(StoreError::NotFound(_))));
    assert_eq!(audit_len(s).await, 9);
}

pub async fn gate_hours_change_on_one_side_only(s: &dyn Store) {
    s.load_reference(&fixture(), actor("loader")).await.unwrap();
    let id = GatePairId::parse("tan-thanh").unwrap();
    let hours = OpeningHours::parse("cn_", "08:00", "22:00", "board decision").unwrap();
    let after = s.update_gate_hours(&id, Side::Cn, GateHoursChange { hours: hours.clone() }, actor("cn-board")).await.unwrap();
    assert_eq!(after.cn.hours, hours);
    assert_eq!(after.vn.hours, None);
    assert_eq!(s.gate_pair(&id).await.unwrap().unwrap(), after);
    let missing = GatePairId::parse("nowhere").unwrap();
    assert!(matches!(
        s.update_gate_hours(&missing, Side::Vn, GateHoursChange { hours: None }, actor("x")).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(audit_len(s).await, 8);
}

pub async fn users_and_sessions(s: &dyn Store) {
    let new = |name: &str| NewUser {
        username: name.into(),
        display_name: "Nguyễn Văn A".into(),
        password_hash: "$argon2id$fake-for-store-test".into(),
        roles: vec![Role::parse("officer:VN:gate-board:huu-nghi").unwrap()],
    };
    let u = s.create_user(new("lan"), actor("admin")).await.unwrap();
    assert_eq!(u.roles, new("lan").roles);
    assert!(matches!(s.create_user(new("lan"), actor("admin")).await, Err(StoreError::Conflict(_))));
    let (found, hash) = s.user_credentials("lan").await.unwrap().unwrap();
    assert_eq!((found.id, hash.as_str()), (u.id, "$argon2id$fake-for-store-test"));
    assert!(s.user_credentials("nobody").await.unwrap().is_none());

    s.create_session("h1", u.id, T0.plus_seconds(3600), actor("lan")).await.unwrap();
    assert_eq!(s.session_user("h1", T0).await.unwrap().unwrap().username, "lan");
    assert!(s.session_user("h1", T0.plus_seconds(3600)).await.unwrap().is_none(), "expired");
    assert!(s.session_user("h2", T0).await.unwrap().is_none());
    assert!(s.delete_session("h1", actor("lan")).await.unwrap());
    assert!(!s.delete_session("h1", actor("lan")).await.unwrap());
    assert!(s.session_user("h1", T0).await.unwrap().is_none());

    s.create_session("h3", u.id, T0.plus_seconds(3600), actor("lan")).await.unwrap();
    s.set_password("lan", "$argon2id$new", actor("admin")).await.unwrap();
    assert!(s.session_user("h3", T0).await.unwrap().is_none(), "a new password ends sessions");
    assert!(matches!(s.set_password("nobody", "x", actor("admin")).await, Err(StoreError::NotFound(_))));
    assert_eq!(s.list_users().await.unwrap().len(), 1);
    // create, create(conflict: rolled back), login, logout, login, password
    assert_eq!(audit_len(s).await, 5);
}

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
async fn reseal(s: &dyn Store, sql: &Sql) {
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

async fn bad_entry(e: &Exported, s: &dyn Store) -> i64 {
    match e.verify(s).await {
        Err(ledger::Failure::Entry { seq, .. }) => seq,
        other => panic!("expected a bad entry, got {other:?}"),
    }
}

/// A log with a checkpoint exported after the fixture load and a few more entries.
async fn checkpointed_log(s: &dyn Store) -> Exported {
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

/// Generates one `#[tokio::test]` per story. `$make` is an async expression giving
/// `(store, cleanup)` where `store: impl Store` and `cleanup` is an async block run at the end;
/// `$tamper` is a function `fn(&store) -> Tamper` that edits audit entry 2 by raw SQL; `$sql` a
/// function `fn(&store) -> Sql` that runs any statement behind the store's back.
#[macro_export]
macro_rules! conformance_tests {
    ($make:path, $tamper:path, $sql:path) => {
        $crate::conformance_tests!(@sql $make, $sql;
            a_resealed_edit_fails_against_checkpoints, a_resealed_deletion_fails_against_checkpoints,
            a_resealed_reordering_fails_against_checkpoints, a_cut_tail_and_moved_head_fail_against_checkpoints,
            edited_business_rows_fail_verification, a_row_past_the_head_does_not_block_writes);
        $crate::conformance_tests!(@each $make;
            a_fresh_store_is_empty, loading_twice_changes_nothing, a_load_that_breaks_integrity_writes_nothing,
            a_changed_row_is_updated_with_before_and_after, lanes_are_created_updated_and_audited,
            gate_hours_change_on_one_side_only, users_and_sessions, declarations_follow_the_core_rules,
            slots_are_booked_within_capacity_and_limits, suspensions_are_kept_per_side, trips_go_from_queue_to_crossing,
            declaration_lists_filter_in_the_query_and_page_by_cursor, declarations_are_frozen_once_the_truck_is_called);
        // Expanded in the backend's test crate, which has tokio: 40 bookers at once.
        #[tokio::test]
        async fn many_concurrent_bookers_never_overbook() {
            use $crate::prelude::*;
            let (store, cleanup) = $make().await;
            let ids = $crate::conformance::concurrent_booking_setup(&store, 40).await;
            let store = std::sync::Arc::new(store);
            let mut tasks = tokio::task::JoinSet::new();
            for id in ids {
                let s = store.clone();
                tasks.spawn(async move {
                    s.book_slot($crate::conformance::concurrent_request(id, 10), $crate::Actor { name: "firm", at: $crate::conformance::T0 }).await.unwrap()
                });
            }
            let outcomes = tasks.join_all().await;
            $crate::conformance::concurrent_booking_check(store.as_ref(), outcomes, 10).await;
            cleanup.await;
        }
        // One agent's clients booking and cancelling in the same hour at once: booking and
        // cancelling take their locks in one order, and contention is retried, so all succeed.
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn booking_and_cancelling_at_once_never_fail() {
            let (store, cleanup) = $make().await;
            let ids = $crate::conformance::one_agent_setup(&store, 16).await;
            let store = std::sync::Arc::new(store);
            let mut tasks = tokio::task::JoinSet::new();
            for id in ids {
                let s = store.clone();
                tasks.spawn(async move { $crate::conformance::book_and_cancel(s.as_ref(), id, 6).await });
            }
            tasks.join_all().await;
            $crate::conformance::book_and_cancel_check(store.as_ref(), 16).await;
            cleanup.await;
        }
        #[tokio::test]
        async fn the_audit_chain_detects_tampering() {
            let (store, cleanup) = $make().await;
            let tamper = $tamper(&store);
            $crate::conformance::the_audit_chain_detects_tampering(&store, tamper).await;
            cleanup.await;
        }
    };
    (@sql $make:path, $sql:path; $($story:ident),+) => {
        $(
            #[tokio::test]
            async fn $story() {
                let (store, cleanup) = $make().await;
                let sql = $sql(&store);
                $crate::conformance::$story(&store, sql).await;
                cleanup.await;
            }
        )+
    };
    (@each $make:path; $($story:ident),+) => {
        $(
            #[tokio::test]
            async fn $story() {
                let (store, cleanup) = $make().await;
                $crate::conformance::$story(&store).await;
                cleanup.await;
            }
        )+
    };
}

// ---- Goods flow: declarations and booked slots ----

use crate::goods::{BookingOutcome, BookingRequest, NewDeclaration};
use cuakhau_core::Direction;
use cuakhau_core::goods::Consignment;
use cuakhau_core::goods::declaration::{ConsignmentFields, DeclEvent};
use cuakhau_core::goods::parties::{Driver, EnterpriseCode, Plate, VehicleKind};
use cuakhau_core::goods::slots::{Bucket, HourCapacity};

pub const HOUR: Timestamp = Timestamp(1_795_402_800_000_000);

pub fn durian() -> Consignment {
    Consignment::parse(
        0,
        &ConsignmentFields {
            hs_code: "08106000",
            description_vi: "Sầu riêng tươi",
            description_zh: "新鲜榴莲",
            packages: 1200,
            gross_kg: 21_000.0,
            value: 63_000.0,
            currency: "USD",
            origin: "VN",
            shelf_life_h: Some(96),
            certificate: "VN-PC-2026-001234",
        },
    )
    .unwrap()
}

/// Goods without quarantine (phones), for benchmarks that book general capacity.
pub fn durian_free() -> Consignment {
    Consignment::parse(
        0,
        &ConsignmentFields {
            hs_code: "85171300",
            description_vi: "Điện thoại",
            description_zh: "",
            packages: 10,
            gross_kg: 500.0,
            value: 10_000.0,
            currency: "USD",
            origin: "VN",
            shelf_life_h: None,
            certificate: "",
        },
    )
    .unwrap()
}

pub fn new_declaration(enterprise: &str, plate: &str) -> NewDeclaration {
    NewDeclaration {
        enterprise: EnterpriseCode::parse(enterprise).unwrap(),
        gate_pair: GatePairId::parse("huu-nghi").unwrap(),
        direction: Direction::Export,
        plate: Plate::parse(plate, Side::Vn).unwrap(),
        vehicle_kind: VehicleKind::Refrigerated,
        driver: Some(Driver::parse("Nguyễn Văn Tài", "VN", "B1234567").unwrap()),
        consignments: vec![durian()],
        track_code: format!("code-{}", Plate::key_of(plate)),
    }
}

/// A declaration filed, submitted and accepted (valid for 72 h from T0).
pub async fn accepted_declaration(s: &dyn Store, enterprise: &str, plate: &str) -> i64 {
    let d = s.create_declaration(new_declaration(enterprise, plate), actor("firm")).await.unwrap();
    s.declaration_event(d.id, DeclEvent::Submit, actor("firm")).await.unwrap();
    s.declaration_event(d.id, DeclEvent::Accept { at: T0, validity_h: 72 }, actor("customs")).await.unwrap();
    d.id
}

fn request(id: i64, capacity: HourCapacity, limit: u32) -> BookingRequest<'static> {
    BookingRequest {
        declaration_id: id,
        hour: HOUR,
        capacity,
        candidates: Bucket::candidates(true, false),
        day: "2026-11-23".into(),
        per_day_limit: limit,
    }
}

pub async fn declarations_follow_the_core_rules(s: &dyn Store) {
    s.load_reference(&fixture(), actor("loader")).await.unwrap();
    let d = s.create_declaration(new_declaration("0101234567", "12C-123.45"), actor("firm")).await.unwrap();
    assert_eq!((d.declaration.state.code(), d.declaration.version), ("draft", 1));
    assert_eq!(d.declaration.consignments, vec![durian()]);
    assert_eq!(d.plate.key, "12C12345");
    assert_eq!(s.declaration(d.id).await.unwrap().unwrap(), d);
    s.declaration_event(d.id, DeclEvent::Submit, actor("firm")).await.unwrap();
    let err = s.declaration_event(d.id, DeclEvent::Submit, actor("firm")).await.unwrap_err();
    assert!(matches!(err, StoreError::Refused(ref r) if r.to_string().contains("cannot be submitted")), "{err:?}");
    let acc = s.declaration_event(d.id, DeclEvent::Accept { at: T0, validity_h: 72 }, actor("customs")).await.unwrap();
    assert!(acc.declaration.is_valid_at(T0.plus_seconds(3600)));
    let amended = s.declaration_event(d.id, DeclEvent::Amend { consignments: vec![durian(), durian()] }, actor("firm")).await.unwrap();
    assert_eq!(
        (amended.declaration.state.code(), amended.declaration.version, amended.declaration.consignments.len()),
        ("submitted", 2, 2)
    );
    let rejected =
        s.declaration_event(d.id, DeclEvent::Reject { reasons: vec!["certificate expired".into()] }, actor("customs")).await.unwrap();
    assert_eq!(rejected.declaration.state, cuakhau_core::goods::DeclState::Rejected { reasons: vec!["certificate expired".into()] });
    let other = s.create_declaration(new_declaration("91350100M000100Y43", "桂A12345"), actor("firm2")).await.unwrap();
    let firm = ReadScope::Only { enterprises: vec!["0101234567".into()], gate_pairs: vec![] };
    assert_eq!(s.declarations(query(&firm, &[], 10)).await.unwrap().len(), 1, "an enterprise sees only its own");
    assert_eq!(s.declarations(query(&ReadScope::All, &[], 10)).await.unwrap()[0].id, other.id, "newest first");
    let mut bad = new_declaration("0101234567", "12C-123.45");
    bad.gate_pair = GatePairId::parse("nowhere").unwrap();
    assert!(matches!(s.create_declaration(bad, actor("firm")).await, Err(StoreError::NotFound(_))));
    // 7 reference rows + create, submit, accept, amend, reject, create.
    assert_eq!(audit_len(s).await, 13);
}

fn query<'a>(scope: &'a ReadScope, states: &'a [&'a str], limit: u32) -> DeclarationQuery<'a> {
    DeclarationQuery { scope, states, gate_pair: None, direction: None, before: None, limit }
}

/// A list applies the reader's scope and filters before it pages: a submitted declaration at one
/// gate pair is never pushed off an officer's page by hundreds of drafts elsewhere, and paging by
/// cursor visits every row once.
pub async fn declaration_lists_filter_in_the_query_and_page_by_cursor(s: &dyn Store) {
    s.load_reference(&fixture(), actor("loader")).await.unwrap();
    let mine = s.create_declaration(new_declaration("0101234567", "12C-123.45"), actor("firm")).await.unwrap();
    s.declaration_event(mine.id, DeclEvent::Submit, actor("firm")).await.unwrap();
    let lao_cai = GatePairId::parse("tan-thanh").unwrap();
    for i in 0..30 {
        let mut d = new_declaration("0109999999", &format!("24C-{:03}.{:02}", i, i));
        d.gate_pair = lao_cai.clone();
        s.create_declaration(d, actor("other")).await.unwrap();
    }
    let hn = GatePairId::parse("huu-nghi").unwrap();
    let officer = ReadScope::Only { enterprises: vec![], gate_pairs: vec![hn.clone()] };
    let page = s.declarations(query(&officer, &["submitted"], 5)).await.unwrap();
    assert_eq!(page.iter().map(|d| d.id).collect::<Vec<_>>(), vec![mine.id], "the officer's scope is applied before the limit");
    assert!(s.declarations(query(&ReadScope::Only { enterprises: vec![], gate_pairs: vec![] }, &[], 5)).await.unwrap().is_empty());
    let exports = DeclarationQuery { direction: Some(Direction::Import), ..query(&ReadScope::All, &[], 100) };
    assert!(s.declarations(exports).await.unwrap().is_empty(), "direction filters in the query");
    let at_lao_cai = DeclarationQuery { gate_pair: Some(&lao_cai), ..query(&ReadScope::All, &["draft"], 100) };
    assert_eq!(s.declarations(at_lao_cai).await.unwrap().len(), 30);
    // Pages of 7 by cursor: every declaration once, newest first.
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = s.declarations(DeclarationQuery { before, ..query(&ReadScope::All, &[], 7) }).await.unwrap();
        let Some(last) = page.last() else { break };
        before = Some(last.id);
        seen.extend(page.iter().map(|d| d.id));
    }
    let mut sorted = seen.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!((seen.len(), seen), (31, sorted));
}

/// Once its truck is called, a declaration never changes; cancelling one still waiting in the
/// queue withdraws its truck. Refusals change nothing and write no audit entry.
pub async fn declarations_are_frozen_once_the_truck_is_called(s: &dyn Store) {
    s.load_reference(&fixture(), actor("loader")).await.unwrap();
    let waiting = accepted_declaration(s, "0101234567", "12C-111.11").await;
    let called = accepted_declaration(s, "0101234567", "12C-222.22").await;
    let tw = s.join_queue(new_trip(waiting, TripStatus::Yard, 10), actor("guard")).await.unwrap();
    let tc = s.join_queue(new_trip(called, TripStatus::Yard, 10), actor("guard")).await.unwrap();
    let lane = LaneId::parse("hn-vn-exp-1").unwrap();
    let call = Call { truck: TruckId(tc.id as u64), lane, deadline: T0.plus_seconds(900) };
    assert_eq!(s.call_trips(&[call], actor("dispatch")).await.unwrap().len(), 1);
    let before = audit_len(s).await;
    for event in [DeclEvent::Amend { consignments: vec![durian()] }, DeclEvent::Cancel] {
        let err = s.declaration_event(called, event, actor("firm")).await.unwrap_err();
        assert!(matches!(err, StoreError::Refused(cuakhau_core::goods::Refusal::TripLocked(_))), "{err:?}");
    }
    let err = s.declaration_event(waiting, DeclEvent::Amend { consignments: vec![durian()] }, actor("firm")).await.unwrap_err();
    assert!(matches!(err, StoreError::Refused(_)), "amending a queued truck's declaration: {err:?}");
    assert_eq!(audit_len(s).await, before, "refusals write nothing");
    let d = s.declaration(called).await.unwrap().unwrap();
    assert_eq!((d.declaration.state.code(), d.declaration.version), ("accepted", 1));
    assert_eq!(s.trip(tc.id).await.unwrap().unwrap().status, TripStatus::Called);
    // Cancelling the one still in the yard takes it out of the queue, in the same transaction.
    let c = s.declaration_event(waiting, DeclEvent::Cancel, actor("firm")).await.unwrap();
    assert_eq!(c.declaration.state.code(), "cancelled");
    assert_eq!(s.trip(tw.id).await.unwrap().unwrap().status, TripStatus::Withdrawn);
    assert_eq!(audit_len(s).await, before + 2, "the cancellation and the withdrawal");
    let waiting_now = s.trips(TripQuery { statuses: &[TripStatus::Yard, TripStatus::Virtual], ..Default::default() }).await.unwrap();
    assert!(waiting_now.is_empty());
}

pub async fn slots_are_booked_within_capacity_and_limits(s: &dyn Store) {
    s.load_reference(&fixture(), actor("loader")).await.unwrap();
    let cap = HourCapacity { general: 1, reserved: 1, perishable: 0, agv: 0 };
    let a = accepted_declaration(s, "0101234567", "12C-111.11").await;
    let b = accepted_declaration(s, "0101234567", "12C-222.22").await;
    let c = accepted_declaration(s, "0101234567", "12C-333.33").await;
    let booked = match s.book_slot(request(a, cap, 10), actor("firm")).await.unwrap() {
        BookingOutcome::Booked(x) => x,
        other => panic!("{other:?}"),
    };
    assert_eq!(booked.bucket, Bucket::Reserved, "a perishable takes the perishables' share first");
    assert!(matches!(s.book_slot(request(a, cap, 10), actor("firm")).await.unwrap(), BookingOutcome::AlreadyBooked(_)));
    assert!(
        matches!(s.book_slot(request(b, cap, 10), actor("firm")).await.unwrap(), BookingOutcome::Booked(ref x) if x.bucket == Bucket::General)
    );
    assert_eq!(s.book_slot(request(c, cap, 10), actor("firm")).await.unwrap(), BookingOutcome::Full);
    let usage = s.slot_usage(&GatePairId::parse("huu-nghi").unwrap(), Direction::Export, HOUR, HOUR.plus_seconds(3600)).await.unwrap();
    assert_eq!(usage.iter().map(|u| (u.capacity, u.used)).collect::<Vec<_>>(), vec![(1, 1), (1, 1)]);
    // Cancelling gives the slot back; a full refusal left the daily count alone.
    s.cancel_booking(booked.id, actor("firm")).await.unwrap();
    assert!(matches!(s.cancel_booking(booked.id, actor("firm")).await, Err(StoreError::NotFound(_))));
    assert!(matches!(s.book_slot(request(c, cap, 10), actor("firm")).await.unwrap(), BookingOutcome::Booked(_)));
    // The daily limit: this enterprise now holds 2 live bookings and has made 3 today.
    let d = accepted_declaration(s, "0101234567", "12C-444.44").await;
    assert_eq!(
        s.book_slot(request(d, HourCapacity { general: 9, ..cap }, 2), actor("firm")).await.unwrap(),
        BookingOutcome::DailyLimitReached
    );
    // A declaration that is not accepted cannot book; cancelling a declaration frees its slot.
    let draft = s.create_declaration(new_declaration("0101234567", "12C-555.55"), actor("firm")).await.unwrap();
    assert!(matches!(s.book_slot(request(draft.id, cap, 10), actor("firm")).await.unwrap(), BookingOutcome::NotBookable(_)));
    s.declaration_event(c, DeclEvent::Cancel, actor("firm")).await.unwrap();
    assert_eq!(s.live_booking(c).await.unwrap(), None);
    let usage = s.slot_usage(&GatePairId::parse("huu-nghi").unwrap(), Direction::Export, HOUR, HOUR.plus_seconds(3600)).await.unwrap();
    assert_eq!(usage.iter().map(|u| u.used).sum::<u32>(), 1, "only b's booking is live");
    // Expired declarations cannot book (validity 72 h from T0).
    let late = Actor { name: "firm", at: T0.plus_seconds(73 * 3600) };
    assert!(matches!(s.book_slot(request(d, HourCapacity { general: 9, ..cap }, 10), late).await.unwrap(), BookingOutcome::NotBookable(_)));
    assert!(s.verify_audit().await.unwrap().is_ok());
}

/// Concurrency, part 1: `n` accepted declarations of different enterprises, and an hour with
/// room for `cap` of them. The backend's test books them all at once, then calls part 2.
pub async fn concurrent_booking_setup(s: &dyn Store, n: usize) -> Vec<i64> {
    s.load_reference(&fixture(), actor("loader")).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..n {
        let code = format!("01{:08}", i);
        ids.push(accepted_declaration(s, &code, &format!("12C-{:03}.{:02}", i, i % 100)).await);
    }
    ids
}

pub fn concurrent_request(id: i64, cap: u32) -> BookingRequest<'static> {
    request(id, HourCapacity { general: cap, reserved: 0, perishable: 0, agv: 0 }, 10)
}

/// The book/cancel race, part 1: `n` accepted declarations of ONE forwarding agent (so every
/// booking and cancellation touches the same daily counter and the same slot counter).
pub async fn one_agent_setup(s: &dyn Store, n: usize) -> Vec<i64> {
    s.load_reference(&fixture(), actor("loader")).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(accepted_declaration(s, "0101234567", &format!("12C-{:03}.{:02}", i, i % 100)).await);
    }
    ids
}

/// The book/cancel race, part 2: one declaration's rounds of booking and cancelling, run by many
/// tasks at once; every call must succeed (a deadlock or serialization failure is retried).
pub async fn book_and_cancel(s: &dyn Store, id: i64, rounds: usize) {
    let req = || request(id, HourCapacity { general: 1000, reserved: 0, perishable: 0, agv: 0 }, 1000);
    for _ in 0..rounds {
        let b = match s.book_slot(req(), actor("agent")).await.unwrap() {
            BookingOutcome::Booked(b) => b,
            other => panic!("{other:?}"),
        };
        s.cancel_booking(b.id, actor("agent")).await.unwrap();
    }
    assert!(matches!(s.book_slot(req(), actor("agent")).await.unwrap(), BookingOutcome::Booked(_)));
}

/// The book/cancel race, part 3: the counters equal the live bookings, and the chain is whole.
pub async fn book_and_cancel_check(s: &dyn Store, n: usize) {
    let usage = s.slot_usage(&GatePairId::parse("huu-nghi").unwrap(), Direction::Export, HOUR, HOUR.plus_seconds(3600)).await.unwrap();
    assert_eq!(usage.iter().map(|u| u.used).sum::<u32>(), n as u32, "one live booking each");
    // The daily counter agrees: exactly `limit - n` more bookings fit.
    let more = accepted_declaration(s, "0101234567", "12C-999.99").await;
    let limited = request(more, HourCapacity { general: 1000, reserved: 0, perishable: 0, agv: 0 }, n as u32);
    assert_eq!(s.book_slot(limited, actor("agent")).await.unwrap(), BookingOutcome::DailyLimitReached);
    assert!(s.verify_audit().await.unwrap().is_ok());
}

/// Concurrency, part 2: exactly `cap` bookings, each slot once, counters agree.
pub async fn concurrent_booking_check(s: &dyn Store, outcomes: Vec<BookingOutcome>, cap: u32) {
    let booked: Vec<_> =
        outcomes.iter().filter_map(|o| if let BookingOutcome::Booked(b) = o { Some(b.declaration_id) } else { None }).collect();
    let full = outcomes.iter().filter(|o| **o == BookingOutcome::Full).count();
    assert_eq!(booked.len(), cap as usize, "exactly the capacity is booked");
    assert_eq!(full, outcomes.len() - cap as usize, "everyone else is refused cleanly");
    let mut unique = booked.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), booked.len(), "no declaration booked twice");
    let usage = s.slot_usage(&GatePairId::parse("huu-nghi").unwrap(), Direction::Export, HOUR, HOUR.plus_seconds(3600)).await.unwrap();
    assert_eq!(usage.iter().map(|u| u.used).sum::<u32>(), cap);
    assert!(s.verify_audit().await.unwrap().is_ok(), "the audit chain stays one chain under concurrency");
}

pub async fn suspensions_are_kept_per_side(s: &dyn Store) {
    use cuakhau_core::goods::slots::Suspension;
    s.load_reference(&fixture(), actor("loader")).await.unwrap();
    let hn = GatePairId::parse("huu-nghi").unwrap();
    let tet =
        Suspension { side: Side::Cn, from: HOUR, until: HOUR.plus_seconds(48 * 3600), preregistered_only: true, reason: "Tết".into() };
    let id = s.add_suspension(&hn, &tet, actor("cn-board")).await.unwrap();
    let found = s.suspensions(&hn, HOUR.plus_seconds(3600), HOUR.plus_seconds(7200)).await.unwrap();
    assert_eq!(found, vec![(id, tet.clone())]);
    assert!(s.suspensions(&hn, HOUR.plus_seconds(48 * 3600), HOUR.plus_seconds(50 * 3600)).await.unwrap().is_empty(), "until is exclusive");
    assert!(matches!(s.add_suspension(&GatePairId::parse("nowhere").unwrap(), &tet, actor("x")).await, Err(StoreError::NotFound(_))));
    assert_eq!(audit_len(s).await, 8);
}

// ---- The live gate: trips, calls, clearance steps, fees, no-shows, notifications ----

use crate::trips::{Fee, NewTrip, Position, TripQuery};
use cuakhau_core::Agency;
use cuakhau_core::goods::clearance::{Act, Channel, ClearanceError, Trip};
use cuakhau_core::goods::gate::{Call, TripStatus};
use cuakhau_core::goods::{Outcome, TruckId};
use cuakhau_core::refdata::{LaneClass, LaneId};

fn new_trip(declaration_id: i64, status: TripStatus, yard_capacity: u32) -> NewTrip {
    NewTrip {
        declaration_id,
        status,
        class: LaneClass::Perishable,
        commodity: "08".into(),
        slot: None,
        spoils_at: Some(T0.plus_seconds(48 * 3600)),
        trip: Trip::new(Direction::Export, Channel::Yellow, true),
        channel_reason: "fresh fruit".into(),
        yard_capacity,
    }
}

pub async fn trips_go_from_queue_to_crossing(s: &dyn Store) {
    s.load_reference(&fixture(), actor("loader")).await.unwrap();
    let at = |secs: i64, name: &'static str| Actor { name, at: T0.plus_seconds(secs) };
    let a = accepted_declaration(s, "0101234567", "12C-111.11").await;
    let b = accepted_declaration(s, "0101234567", "12C-222.22").await;
    let c = accepted_declaration(s, "0101234567", "12C-333.33").await;
    let hn = GatePairId::parse("huu-nghi").unwrap();
    let found = s.declaration_for_plate(&hn, "12C11111", T0).await.unwrap().map(|d| d.id);
    assert_eq!(found, Some(a), "the camera's read finds the declaration");
    assert_eq!(s.declaration_for_plate(&hn, "12C11111", T0.plus_seconds(73 * 3600)).await.unwrap(), None, "not once it lapsed");
    // a joins the virtual queue from the road, then reaches the yard and keeps its trip.
    let ta = s.join_queue(new_trip(a, TripStatus::Virtual, 1), at(0, "firm")).await.unwrap();
    assert_eq!((ta.status, ta.yard_at), (TripStatus::Virtual, None));
    let ta2 = s.join_queue(new_trip(a, TripStatus::Yard, 1), at(60, "guard")).await.unwrap();
    assert_eq!((ta2.id, ta2.status, ta2.yard_at), (ta.id, TripStatus::Yard, Some(T0.plus_seconds(60))));
    assert!(
        matches!(s.join_queue(new_trip(a, TripStatus::Yard, 9), at(61, "guard")).await, Err(StoreError::Conflict(_))),
        "one trip per declaration"
    );
    // The yard holds one truck.
    let full = s.join_queue(new_trip(b, TripStatus::Yard, 1), at(62, "guard")).await.unwrap_err();
    assert!(matches!(full, StoreError::Conflict(crate::ConflictKind::YardFull { .. })), "{full:?}");
    let tb = s.join_queue(new_trip(b, TripStatus::Virtual, 1), at(63, "firm")).await.unwrap();
    let tb = s
        .report_position(tb.id, Position { lat: 21.8, lon: 106.7, at: T0.plus_seconds(70) }, Some(T0.plus_seconds(600)), at(70, "driver"))
        .await
        .unwrap();
    assert_eq!((tb.eta, tb.position.map(|p| p.lat)), (Some(T0.plus_seconds(600)), Some(21.8)));
    assert_eq!(s.declaration_for_plate(&hn, "12C11111", T0).await.unwrap(), None, "in the yard already");
    let waiting = s.trips(TripQuery { statuses: &[TripStatus::Yard, TripStatus::Virtual], ..Default::default() }).await.unwrap();
    assert_eq!(waiting.iter().map(|t| t.id).collect::<Vec<_>>(), vec![ta.id, tb.id]);

    // Two calls for one lane: only the first gets it.
    let lane = LaneId::parse("hn-vn-exp-1").unwrap();
    let call = |id: i64, lane: &LaneId| Call { truck: TruckId(id as u64), lane: lane.clone(), deadline: T0.plus_seconds(1000) };
    let called = s.call_trips(&[call(ta.id, &lane), call(tb.id, &lane)], at(100, "dispatch")).await.unwrap();
    assert_eq!(called.iter().map(|t| (t.id, t.status)).collect::<Vec<_>>(), vec![(ta.id, TripStatus::Called)]);
    assert_eq!(called[0].lane.as_deref(), Some("hn-vn-exp-1"));
    let due = s.due_notifications(T0.plus_seconds(100), 10).await.unwrap();
    assert_eq!((due.len(), due[0].kind.as_str(), due[0].trip_id), (1, "your-turn", ta.id));
    assert!(due[0].payload.contains("hn-vn-exp-1"));
    s.notification_attempt(due[0].id, false, Some("gateway down"), T0.plus_seconds(160), T0.plus_seconds(100)).await.unwrap();
    assert!(s.due_notifications(T0.plus_seconds(150), 10).await.unwrap().is_empty(), "retried later");
    s.notification_attempt(due[0].id, true, None, T0.plus_seconds(160), T0.plus_seconds(160)).await.unwrap();
    assert!(s.due_notifications(T0.plus_seconds(10_000), 10).await.unwrap().is_empty());

    // b is called to a second lane, does not answer, and goes back to the virtual queue.
    let lane2 = LaneId::parse("hn-vn-exp-2").unwrap();
    assert_eq!(s.call_trips(&[call(tb.id, &lane2)], at(110, "dispatch")).await.unwrap().len(), 1);
    assert_eq!(s.requeue_unanswered(&hn, T0.plus_seconds(999), at(999, "dispatch")).await.unwrap(), Vec::<i64>::new());
    let back = s.requeue_unanswered(&hn, T0.plus_seconds(1000), at(1000, "dispatch")).await.unwrap();
    assert_eq!(back, vec![ta.id, tb.id], "both calls ran out");
    let tb = s.trip(tb.id).await.unwrap().unwrap();
    assert_eq!((tb.status, tb.lane.as_deref(), tb.calls), (TripStatus::Virtual, None, 1));
    assert_eq!(s.trip(ta.id).await.unwrap().unwrap().status, TripStatus::Yard);

    // a is called again and cleared step by step; the wrong officer and a closed side are refused.
    s.call_trips(&[call(ta.id, &lane)], at(1100, "dispatch")).await.unwrap();
    let vn = |a: Agency| (Side::Vn, a);
    let cn = |a: Agency| (Side::Cn, a);
    assert_eq!(
        s.trip_step(ta.id, 0, cn(Agency::Customs), Act::Start, true, at(1200, "x")).await.unwrap(),
        Err(ClearanceError::NotYourStep)
    );
    assert_eq!(
        s.trip_step(ta.id, 0, vn(Agency::Customs), Act::Start, false, at(1200, "x")).await.unwrap(),
        Err(ClearanceError::SideClosed)
    );
    let steps: Vec<((Side, Agency), usize)> = vec![
        (vn(Agency::Customs), 0),
        (vn(Agency::BorderGuard), 1),
        (vn(Agency::Quarantine), 2),
        (vn(Agency::BorderGuard), 3),
        (cn(Agency::Customs), 4),
        (cn(Agency::BorderGuard), 5),
    ];
    let mut t = 1200;
    for (officer, i) in steps {
        let r = s.trip_step(ta.id, i, officer, Act::Start, true, at(t, "officer")).await.unwrap().unwrap();
        assert_eq!(r.status, TripStatus::Clearing);
        if i == 1 {
            let held =
                s.trip_step(ta.id, i, officer, Act::Finish(Outcome::Hold { reason: "seal check".into() }), true, at(t + 30, "officer"));
            assert_eq!(held.await.unwrap().unwrap().trip.steps()[1].1.code(), "held");
        }
        let r = s.trip_step(ta.id, i, officer, Act::Finish(Outcome::Pass), true, at(t + 60, "officer")).await.unwrap().unwrap();
        if i == 2 {
            assert_eq!(r.trip.exit_release(), Some(T0.plus_seconds(t + 60)));
            // The lane is free for the next truck once the exit side released this one.
            assert_eq!(s.call_trips(&[call(tb.id, &lane)], at(t + 61, "dispatch")).await.unwrap().len(), 1);
        }
        t += 100;
    }
    let done = s.trip(ta.id).await.unwrap().unwrap();
    assert_eq!(done.status, TripStatus::Done);
    let m = done.milestones();
    assert_eq!(
        (m.arrival, m.called, m.entry_release),
        (Some(T0.plus_seconds(60)), Some(T0.plus_seconds(1100)), Some(T0.plus_seconds(1760)))
    );

    // b: refused by Vietnamese customs; the lane is free again and the driver is told.
    s.trip_step(tb.id, 0, vn(Agency::Customs), Act::Start, true, at(2000, "officer")).await.unwrap().unwrap();
    let r = s.trip_step(
        tb.id,
        0,
        vn(Agency::Customs),
        Act::Finish(Outcome::Refuse { reason: "HS code mismatch".into() }),
        true,
        at(2100, "officer"),
    );
    assert_eq!(r.await.unwrap().unwrap().status, TripStatus::Refused);
    assert!(s.due_notifications(T0.plus_seconds(2100), 10).await.unwrap().iter().any(|n| n.kind == "refused" && n.trip_id == tb.id));

    // Fees: one receipt, once.
    let fee = Fee { amount: 1_200_000.0, currency: "VND".into(), receipt: "LS-2026-000123".into() };
    assert_eq!(s.record_fee(ta.id, &fee, at(2200, "board")).await.unwrap().fee, Some(fee.clone()));
    assert!(matches!(s.record_fee(tb.id, &fee, at(2201, "board")).await, Err(StoreError::Conflict(_))));
    assert!(matches!(s.record_fee(ta.id, &Fee { receipt: "other".into(), ..fee }, at(2202, "board")).await, Err(StoreError::Conflict(_))));

    // A booked truck that never reaches the yard loses its slot after the grace period.
    let cap = HourCapacity { general: 5, reserved: 5, perishable: 0, agv: 0 };
    let booked = match s.book_slot(request(c, cap, 10), actor("firm")).await.unwrap() {
        BookingOutcome::Booked(x) => x,
        other => panic!("{other:?}"),
    };
    assert!(s.release_no_shows(&hn, HOUR, at(0, "dispatch")).await.unwrap().is_empty(), "its hour has not started");
    let elsewhere = GatePairId::parse("mong-cai").unwrap();
    assert!(s.release_no_shows(&elsewhere, HOUR.plus_seconds(1), at(0, "dispatch")).await.unwrap().is_empty(), "another gate pair's round");
    let released = s.release_no_shows(&hn, HOUR.plus_seconds(1), at(0, "dispatch")).await.unwrap();
    assert_eq!(released.iter().map(|b| (b.id, b.status.as_str())).collect::<Vec<_>>(), vec![(booked.id, "no-show")]);
    assert_eq!(s.live_booking(c).await.unwrap(), None);

    assert_eq!(s.setting("demo").await.unwrap(), None);
    s.put_setting("demo", "true", actor("demo")).await.unwrap();
    assert_eq!(s.setting("demo").await.unwrap().as_deref(), Some("true"));
    assert!(s.verify_audit().await.unwrap().is_ok());
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
