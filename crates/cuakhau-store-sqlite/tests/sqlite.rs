//! Runs the store conformance suite on SQLite, one fresh database file per test.

use cuakhau_store::conformance::{Sql, Tamper};
use cuakhau_store::prelude::*;
use cuakhau_store_sqlite::SqliteStore;
use std::future::Future;

async fn make() -> (SqliteStore, impl Future<Output = ()>) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("test.db").display());
    let store = SqliteStore::open(&url).await.unwrap();
    (store, async move { drop(dir) })
}

fn tamper(store: &SqliteStore) -> Tamper {
    let pool = store.pool().clone();
    Box::new(move || {
        Box::pin(async move {
            sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2").execute(&pool).await.unwrap();
        })
    })
}

fn sql(store: &SqliteStore) -> Sql {
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
async fn reopening_applies_no_migration_twice_and_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("re.db").display());
    let s = SqliteStore::open(&url).await.unwrap();
    s.load_reference(&cuakhau_store::conformance::fixture(), cuakhau_store::Actor { name: "t", at: cuakhau_store::conformance::T0 })
        .await
        .unwrap();
    drop(s);
    let s = SqliteStore::open(&url).await.unwrap();
    assert_eq!(s.reference().await.unwrap(), cuakhau_store::conformance::fixture());
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(s.pool()).await.unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(s.pool()).await.unwrap();
    assert_eq!(fk, 1);
}

#[tokio::test]
async fn two_handles_on_one_file_keep_one_audit_chain() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("two.db").display());
    let (a, b) = (SqliteStore::open(&url).await.unwrap(), SqliteStore::open(&url).await.unwrap());
    cuakhau_store::conformance::two_writers_keep_one_chain(&a, &b).await;
}

#[tokio::test]
async fn a_lease_has_one_holder_until_it_expires_or_is_given_up() {
    // One process on SQLite by nature, but the same rows and rules (two handles on one file).
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("lease.db").display());
    let (a, b) = (SqliteStore::open(&url).await.unwrap(), SqliteStore::open(&url).await.unwrap());
    cuakhau_store::conformance::a_lease_has_one_holder_until_it_expires_or_is_given_up(&a, &b).await;
}

#[tokio::test]
async fn sqlite_announces_nothing_to_other_processes() {
    let (s, cleanup) = make().await;
    assert!(s.listen_changes().await.unwrap().is_none(), "one process: the in-process event path stays");
    cleanup.await;
}
