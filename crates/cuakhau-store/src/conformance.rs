//! The conformance suite: stories every backend must pass, run by each backend's tests through
//! [`conformance_tests!`](crate::conformance_tests).
//!
//! Each story takes a fresh, migrated, empty store.

use crate::{Actor, GateHoursChange, NewUser, Store, StoreError};
use cuakhau_core::refdata::{GateFields, Lane, LocalityPairing, OpeningHours, Province};
use cuakhau_core::{Gate, GateKind, GatePair, GatePairId, Mode, ReferenceData, Role, Side, Timestamp};
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
    s.verify_audit().await.unwrap().expect("chain intact")
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

/// Generates one `#[tokio::test]` per story. `$make` is an async expression giving
/// `(store, cleanup)` where `store: impl Store` and `cleanup` is an async block run at the end;
/// `$tamper` is a function `fn(&store) -> Tamper` that edits audit entry 2 by raw SQL.
#[macro_export]
macro_rules! conformance_tests {
    ($make:path, $tamper:path) => {
        $crate::conformance_tests!(@each $make;
            a_fresh_store_is_empty, loading_twice_changes_nothing, a_load_that_breaks_integrity_writes_nothing,
            a_changed_row_is_updated_with_before_and_after, lanes_are_created_updated_and_audited,
            gate_hours_change_on_one_side_only, users_and_sessions);
        #[tokio::test]
        async fn the_audit_chain_detects_tampering() {
            let (store, cleanup) = $make().await;
            let tamper = $tamper(&store);
            $crate::conformance::the_audit_chain_detects_tampering(&store, tamper).await;
            cleanup.await;
        }
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
