//! Runs the store conformance suite on PostgreSQL, one fresh schema per test.
//!
//! Needs `DATABASE_URL` (e.g. `postgres://postgres@127.0.0.1:5432/test`). Without it the tests
//! fail rather than skip: CI must never pass with the PostgreSQL suite silently left out.

use cuakhau_store::conformance::{Sql, Tamper};
use cuakhau_store::prelude::*;
use cuakhau_store_postgres::PgStore;
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};

fn url() -> String {
    std::env::var("DATABASE_URL").expect("DATABASE_URL must point at a PostgreSQL database for these tests")
}

async fn make() -> (PgStore, impl Future<Output = ()>) {
    static N: AtomicU32 = AtomicU32::new(0);
    let schema = format!("t_{}_{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
    let store = PgStore::open_in_schema(&url(), Some(&schema)).await.unwrap();
    let pool = store.pool().clone();
    (store, async move {
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA \"{schema}\" CASCADE"))).execute(&pool).await.unwrap();
    })
}

fn tamper(store: &PgStore) -> Tamper {
    let pool = store.pool().clone();
    Box::new(move || {
        Box::pin(async move {
            sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2").execute(&pool).await.unwrap();
        })
    })
}

fn sql(store: &PgStore) -> Sql {
    let pool = store.pool().clone();
    std::sync::Arc::new(move |q: String| {
        let pool = pool.clone();
        Box::pin(async move {
            sqlx::query(sqlx::AssertSqlSafe(q)).execute(&pool).await.unwrap();
        })
    })
}

cuakhau_store::conformance_tests!(make, tamper, sql);

#[tokio::test]
async fn two_servers_on_one_schema_keep_one_audit_chain() {
    let (a, cleanup) = make().await;
    let schema: String = sqlx::query_scalar("SELECT current_schema()").fetch_one(a.pool()).await.unwrap();
    let b = PgStore::open_in_schema(&url(), Some(&schema)).await.unwrap();
    cuakhau_store::conformance::two_writers_keep_one_chain(&a, &b).await;
    cleanup.await;
}

/// A second store on the same schema, as another process would open it.
async fn second(a: &PgStore) -> PgStore {
    let schema: String = sqlx::query_scalar("SELECT current_schema()").fetch_one(a.pool()).await.unwrap();
    PgStore::open_in_schema(&url(), Some(&schema)).await.unwrap()
}

#[tokio::test]
async fn committed_changes_are_announced_to_another_store_each_once() {
    let (a, cleanup) = make().await;
    let b = second(&a).await;
    // Another schema's writes on the same database are not announced here.
    let (other, other_cleanup) = make().await;
    other.put_setting("noise", "1", cuakhau_store::conformance::actor("x")).await.unwrap();
    let story = cuakhau_store::conformance::committed_changes_are_announced_to_another_store_each_once(&a, &b);
    tokio::time::timeout(std::time::Duration::from_secs(20), story).await.expect("every change announced in time");
    other_cleanup.await;
    cleanup.await;
}

#[tokio::test]
async fn a_lease_has_one_holder_until_it_expires_or_is_given_up() {
    let (a, cleanup) = make().await;
    let b = second(&a).await;
    cuakhau_store::conformance::a_lease_has_one_holder_until_it_expires_or_is_given_up(&a, &b).await;
    cleanup.await;
}

#[tokio::test]
async fn a_replica_store_reads_the_primarys_writes_once_replayed_reports_its_lag_and_refuses_writes() {
    use std::time::Duration;
    let (primary_url, replica_url) = cuakhau_store::conformance::primary_and_replica();
    static N: AtomicU32 = AtomicU32::new(0);
    let schema = format!("r_{}_{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
    let primary = PgStore::open_in_schema(&primary_url, Some(&schema)).await.unwrap();
    let replica = PgStore::open_replica(&replica_url, Some(&schema), 2).await.unwrap();
    let in_recovery: bool = sqlx::query_scalar("SELECT pg_is_in_recovery()").fetch_one(replica.pool()).await.unwrap();
    assert!(in_recovery, "{replica_url} is a streaming replica");
    primary.put_setting("replicated", "1", cuakhau_store::conformance::actor("primary")).await.unwrap();
    let mut seen = None;
    for _ in 0..100 {
        // Until the schema itself has been replayed, the replica has no such table.
        if let Ok(Some(v)) = replica.setting("replicated").await {
            seen = Some(v);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen.as_deref(), Some("1"), "the primary's write reaches the replica within 10 s");
    let lag = replica.replica_lag().await.unwrap().expect("a replica reports its lag");
    assert!((0.0..10.0).contains(&lag), "lag {lag} s");
    assert_eq!(primary.replica_lag().await.unwrap(), None, "the primary is no replica");
    let refused = replica.put_setting("written", "on the replica", cuakhau_store::conformance::actor("x")).await;
    assert!(refused.is_err(), "a replica refuses writes: {refused:?}");
    assert_eq!(primary.setting("written").await.unwrap(), None);
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA \"{schema}\" CASCADE"))).execute(primary.pool()).await.unwrap();
}

/// A transaction that holds gate pair huu-nghi's audit head (as a write there does until it
/// commits) does not stop a write at tan-thanh, whose entries are another stream with its own
/// head; a second write at huu-nghi waits for the holder, and both chains verify after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_at_one_gate_pair_does_not_wait_on_another_gate_pairs_audit_head() {
    use cuakhau_store::conformance::{actor, fixture, lane_at};
    let (s, cleanup) = make().await;
    s.load_reference(&fixture(), actor("loader")).await.unwrap();
    let mut hn = fixture().lanes[0].clone();
    hn.capacity_per_hour = 20;
    let mut tt = lane_at("tan-thanh", "tan-thanh-vn-export-1", 8);
    s.put_lane(&hn, actor("board")).await.unwrap();
    s.put_lane(&tt, actor("board")).await.unwrap();
    let mut holder = s.pool().begin().await.unwrap();
    let holder_pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&mut *holder).await.unwrap();
    sqlx::query("SELECT seq FROM audit_heads WHERE stream = 'huu-nghi' FOR UPDATE").execute(&mut *holder).await.unwrap();

    // A write at the other gate pair commits while huu-nghi's head is held.
    tt.capacity_per_hour = 9;
    let at_other = tokio::time::timeout(std::time::Duration::from_secs(10), s.put_lane(&tt, actor("board"))).await;
    assert!(at_other.expect("a write at tan-thanh does not wait on huu-nghi's head").is_ok());

    // A write at huu-nghi itself waits on the holder until it commits.
    let s = std::sync::Arc::new(s);
    hn.capacity_per_hour = 21;
    let blocked = {
        let (s, hn) = (s.clone(), hn.clone());
        tokio::spawn(async move { s.put_lane(&hn, actor("board")).await })
    };
    let waiting = "SELECT COUNT(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))";
    tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while sqlx::query_scalar::<_, i64>(waiting).bind(holder_pid).fetch_one(s.pool()).await.unwrap() == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the write at huu-nghi waits on the held head");
    assert!(!blocked.is_finished());
    holder.commit().await.unwrap();
    blocked.await.unwrap().unwrap();
    let heads = s.audit_heads().await.unwrap();
    let sizes: Vec<(&str, i64)> = heads.iter().map(|h| (h.stream.as_str(), h.size)).collect();
    assert_eq!(sizes, vec![("", 7), ("huu-nghi", 2), ("tan-thanh", 2)]);
    assert_eq!(s.verify_audit().await.unwrap(), Ok(11));
    cleanup.await;
}

/// While one gate pair's slot counter is held (a booking there not yet committed), ten more
/// bookings there from this process: only two wait at the database (the others wait their turn in
/// the process, holding no connection), and all ten are booked once it is released.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_process_lets_only_two_bookings_at_one_gate_pair_wait_at_the_database() {
    use cuakhau_store::conformance::{actor, concurrent_booking_setup, concurrent_request};
    use cuakhau_store::goods::BookingOutcome;
    let (s, cleanup) = make().await;
    let ids = concurrent_booking_setup(&s, 11).await;
    assert!(matches!(s.book_slot(concurrent_request(ids[0], 40), actor("firm")).await.unwrap(), BookingOutcome::Booked(_)));
    let mut holder = s.pool().begin().await.unwrap();
    sqlx::query("SELECT used FROM slot_usage FOR UPDATE").execute(&mut *holder).await.unwrap();
    let xid: String = sqlx::query_scalar("SELECT pg_current_xact_id()::text").fetch_one(&mut *holder).await.unwrap();
    let s = std::sync::Arc::new(s);
    let tasks: Vec<_> = ids[1..]
        .iter()
        .map(|&id| {
            let s = s.clone();
            tokio::spawn(async move { s.book_slot(concurrent_request(id, 40), actor("firm")).await })
        })
        .collect();
    // Waiting on the held row: on the holder's transaction, or queued behind that waiter.
    let waiting = "SELECT COUNT(*) FROM pg_locks WHERE NOT granted
                   AND ((locktype = 'transactionid' AND transactionid::text = $1) OR (locktype = 'tuple' AND relation = 'slot_usage'::regclass))";
    let count = || async { sqlx::query_scalar::<_, i64>(waiting).bind(&xid).fetch_one(s.pool()).await.unwrap() };
    tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while count().await < 2 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("two bookings reach the held row");
    // Give the other eight every chance to reach the database too: they do not.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(count().await, 2, "only two of this process's bookings at one gate pair wait at the database");
    assert!(tasks.iter().all(|t| !t.is_finished()));
    holder.commit().await.unwrap();
    for t in tasks {
        assert!(matches!(t.await.unwrap().unwrap(), BookingOutcome::Booked(_)));
    }
    assert!(s.verify_audit().await.unwrap().is_ok());
    cleanup.await;
}
