//! Stories of several processes on one database: committed changes are announced to the other
//! store handles (where the engine can), and a lease on background work has one holder.

use super::*;
use crate::Heard;

/// Two store handles on one database (two processes): the entries the first commits are
/// announced to the second's listener after they commit — the highest committed number, once for
/// the entries committed meanwhile, never a number that was not committed — and the changes read
/// back are every committed entry once, with its gate pair and stream. Each process announces
/// its own commits in order, but two processes' announcements may arrive interleaved (each
/// batches its own for 5 ms): a listener takes a number as a wake-up to read the log, never as
/// "everything below it is in".
pub async fn committed_changes_are_announced_to_another_store_each_once(a: &dyn Store, b: &dyn Store) {
    let mut heard = b.listen_changes().await.unwrap().expect("this engine tells other processes");
    let (start, _) = a.audit_head().await.unwrap();
    let from = crate::LogCursor::at(&a.audit_heads().await.unwrap());
    a.load_reference(&fixture(), actor("loader")).await.unwrap();
    let user = |name: &str| NewUser { username: name.into(), display_name: "x".into(), password_hash: "h".into(), roles: vec![] };
    a.create_user(user("one"), actor("admin")).await.unwrap();
    assert!(a.create_user(user("one"), actor("admin")).await.is_err(), "a taken name is refused and rolled back");
    let mut lane = a.lane(&LaneId::parse("huu-nghi-vn-export-1").unwrap()).await.unwrap().unwrap();
    lane.capacity_per_hour = 30;
    a.put_lane(&lane, actor("board")).await.unwrap();
    b.put_setting("k", "v", actor("other")).await.unwrap();
    a.put_setting("k", "w", actor("this")).await.unwrap();
    let (end, _) = a.audit_head().await.unwrap();
    assert!(end - start > 10, "the load wrote many entries in one transaction");
    let mut got = Vec::new();
    while got.last() != Some(&end) {
        match heard.next().await.unwrap() {
            Heard::Committed(seq) => got.push(seq),
            Heard::Lost => panic!("the listener lost its connection"),
        }
    }
    let mut distinct = got.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), got.len(), "each number announced once: {got:?}");
    assert!(got.iter().all(|s| *s > start && *s <= end), "only numbers committed since the start: {got:?}");
    let changes = b.changes_after(&from, 1000).await.unwrap();
    assert_eq!(changes.iter().map(|c| c.seq).collect::<Vec<_>>(), ((start + 1)..=end).collect::<Vec<_>>(), "each committed entry once");
    assert!(got.iter().all(|s| changes.iter().any(|c| c.seq == *s)), "only committed entries are announced");
    let lane_change = changes.iter().find(|c| c.action == "lane.update").expect("the lane's change");
    assert_eq!((lane_change.entity.as_str(), lane_change.gate_pair.as_deref()), ("lane/huu-nghi-vn-export-1", Some("huu-nghi")));
    assert_eq!(changes.last().map(|c| (c.action.as_str(), c.actor.as_str(), c.gate_pair.is_none())), Some(("setting.put", "this", true)));
    assert_eq!(lane_change.stream, "huu-nghi", "a gate pair's change is in its stream");
    let at_end = crate::LogCursor::at(&b.audit_heads().await.unwrap());
    assert_eq!(b.changes_after(&at_end, 10).await.unwrap(), vec![], "nothing after the heads");
}

/// The URLs of a PostgreSQL primary and its streaming replica for the replica tests
/// (`CUAKHAU_TEST_PRIMARY_URL`, `CUAKHAU_TEST_REPLICA_URL`, printed by `scripts/pg_replica.sh`,
/// which `scripts/test.sh` runs): without them those tests fail, saying so, rather than skip.
pub fn primary_and_replica() -> (String, String) {
    let var = |k: &str| {
        std::env::var(k).unwrap_or_else(|_| {
            panic!(
                "{k} must name a PostgreSQL primary and its streaming replica: run `bash scripts/pg_replica.sh` and export what it prints"
            )
        })
    };
    (var("CUAKHAU_TEST_PRIMARY_URL"), var("CUAKHAU_TEST_REPLICA_URL"))
}

/// A store on its own database (a primary, or SQLite, whose read database is the same one) is no
/// replica: it reports no lag.
pub async fn a_primary_reports_no_replica_lag(s: &dyn Store) {
    assert_eq!(s.replica_lag().await.unwrap(), None);
}

/// A lease on a piece of background work has one holder: the first to ask, who renews it; another
/// asker gets it only once it has run out or was given up. Leases are not audited.
pub async fn a_lease_has_one_holder_until_it_expires_or_is_given_up(a: &dyn Store, b: &dyn Store) {
    let at = |s: i64| T0.plus_seconds(s);
    let head = a.audit_head().await.unwrap();
    let work = "dispatch/huu-nghi";
    assert_eq!(a.take_lease(work, "one", at(0), at(10)).await.unwrap(), "one", "a free lease is granted");
    assert_eq!(b.take_lease(work, "two", at(5), at(15)).await.unwrap(), "one", "a held lease is not");
    assert_eq!(a.take_lease(work, "one", at(6), at(16)).await.unwrap(), "one", "its holder renews it");
    assert_eq!(b.take_lease(work, "two", at(12), at(22)).await.unwrap(), "one", "renewed, it is still held after the first expiry");
    assert_eq!(b.take_lease("webhooks", "two", at(12), at(22)).await.unwrap(), "two", "leases are independent");
    assert_eq!(b.take_lease(work, "two", at(16), at(26)).await.unwrap(), "two", "an expired lease goes to the next asker");
    assert_eq!(a.take_lease(work, "one", at(17), at(27)).await.unwrap(), "two", "and is not taken back");
    a.give_up_lease(work, "one").await.unwrap();
    assert_eq!(a.take_lease(work, "one", at(18), at(28)).await.unwrap(), "two", "only the holder can give it up");
    b.give_up_lease(work, "two").await.unwrap();
    assert_eq!(a.take_lease(work, "one", at(18), at(28)).await.unwrap(), "one", "a lease given up is free at once");
    assert_eq!(a.audit_head().await.unwrap(), head, "leases write no audit entry");
}
