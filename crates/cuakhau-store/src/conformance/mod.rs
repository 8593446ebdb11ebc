//! The conformance suite: stories every backend must pass, run by each backend's tests through
//! [`conformance_tests!`](crate::conformance_tests). One suite, one module of stories per context.
//!
//! Each story takes a fresh, migrated, empty store.

use crate::goods::DeclarationQuery;
use crate::goods::{BookingOutcome, BookingRequest, NewDeclaration};
use crate::ledger;
use crate::prelude::*;
use crate::trips::{Fee, NewTrip, Position, TripQuery};
use crate::{Actor, GateHoursChange, NewUser, StoreError};
use cuakhau_core::Agency;
use cuakhau_core::Direction;
use cuakhau_core::auth::ReadScope;
use cuakhau_core::goods::Consignment;
use cuakhau_core::goods::clearance::{Act, Channel, ClearanceError, Trip};
use cuakhau_core::goods::declaration::{ConsignmentFields, DeclEvent};
use cuakhau_core::goods::gate::{Call, TripStatus};
use cuakhau_core::goods::parties::{Driver, EnterpriseCode, Plate, VehicleKind};
use cuakhau_core::goods::slots::{Bucket, HourCapacity};
use cuakhau_core::goods::{Outcome, TruckId};
use cuakhau_core::refdata::{GateFields, Lane, LocalityPairing, OpeningHours, Province};
use cuakhau_core::refdata::{LaneClass, LaneId};
use cuakhau_core::transparency::{Checkpoint, KeyKind, NoteSigner};
use cuakhau_core::{DeclarationId, Gate, GateKind, GatePair, GatePairId, Mode, ReferenceData, Role, Side, Timestamp, TripId};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

mod accounts;
mod audit;
mod cluster;
mod gate;
mod goods;
mod reference;
pub use accounts::*;
pub use audit::*;
pub use cluster::*;
pub use gate::*;
pub use goods::*;
pub use reference::*;

/// A closure that edits the audit table behind the store's back (raw SQL in each backend).
pub type Tamper = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

pub const T0: Timestamp = Timestamp(1_795_000_000_000_000);

pub fn actor(name: &str) -> Actor<'_> {
    Actor { name, at: T0 }
}

pub fn gate(side: Side, name: &str, province: &str, hours: Option<(&str, &str)>) -> Gate {
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

/// A general VN export lane `id` at `pair` taking `cap` trucks an hour.
pub fn lane_at(pair: &str, id: &str, cap: u32) -> Lane {
    Lane::parse(id, pair, "VN", "export", "general", "Lane", &cap.to_string(), "true", "fixture").unwrap()
}

pub async fn audit_len(s: &dyn Store) -> i64 {
    let n = s.verify_audit().await.unwrap().expect("chain intact");
    // Every story's business rows match the log's last states (no false alarms).
    let v = crate::ledger::verify(s, &Default::default()).await.unwrap().expect("rows match the log");
    assert_eq!(v.entries, n);
    n
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
            edited_business_rows_fail_verification, a_row_past_the_head_does_not_block_writes,
            each_gate_pair_is_its_own_stream_and_the_log_verifies_whole);
        $crate::conformance_tests!(@each $make;
            a_fresh_store_is_empty, loading_twice_changes_nothing, a_load_that_breaks_integrity_writes_nothing,
            a_changed_row_is_updated_with_before_and_after, lanes_are_created_updated_and_audited,
            gate_hours_change_on_one_side_only, users_and_sessions, declarations_follow_the_core_rules,
            slots_are_booked_within_capacity_and_limits, an_hours_capacity_follows_its_lanes, suspensions_are_kept_per_side, trips_go_from_queue_to_crossing,
            declaration_lists_filter_in_the_query_and_page_by_cursor, declarations_are_frozen_once_the_truck_is_called,
            a_primary_reports_no_replica_lag);
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
        // Refused writes among many at once: on SQLite they share a group commit.
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn refused_writes_among_concurrent_ones_change_nothing() {
            use $crate::prelude::*;
            let (store, cleanup) = $make().await;
            let store = std::sync::Arc::new(store);
            let mut tasks = tokio::task::JoinSet::new();
            for i in 0..40 {
                let s = store.clone();
                tasks.spawn(async move {
                    s.create_user($crate::conformance::concurrent_user(i), $crate::Actor { name: "admin", at: $crate::conformance::T0 }).await
                });
            }
            let results = tasks.join_all().await;
            $crate::conformance::concurrent_users_check(store.as_ref(), results).await;
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
