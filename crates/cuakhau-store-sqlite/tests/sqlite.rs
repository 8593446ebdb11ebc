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

/// Opens a database file and verifies its audit log (chain, Merkle leaves, business rows):
/// the number of entries.
async fn verified_entries(path: &std::path::Path) -> i64 {
    let s = SqliteStore::open(&format!("sqlite:{}", path.display())).await.unwrap();
    let verdict = cuakhau_store::ledger::verify(&s, &Default::default()).await.unwrap();
    let entries = verdict.unwrap_or_else(|f| panic!("{}: {f}", path.display())).entries;
    s.pool().close().await;
    entries
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_writes_go_on_restores_whole_and_its_audit_log_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("live.db").display());
    let store = SqliteStore::open(&url).await.unwrap();
    let actor = || cuakhau_store::Actor { name: "t", at: cuakhau_store::conformance::T0 };
    store.load_reference(&cuakhau_store::conformance::fixture(), actor()).await.unwrap();
    let before = store.audit_head().await.unwrap().0;
    let writes = 300;
    // Every 20 writes, the writer lets one more backup start before it goes on, so that backups
    // are taken all along the writes and overlap them.
    let taken = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let writer = tokio::spawn({
        let (s, taken) = (store.clone(), taken.clone());
        async move {
            for i in 0..writes {
                while taken.load(std::sync::atomic::Ordering::SeqCst) < (i / 20) as usize {
                    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                }
                s.record_failed_login(&format!("user-{i}"), actor()).await.unwrap();
            }
        }
    });
    // Backups, one after another, for as long as the writes go on.
    let live = store.path().to_path_buf();
    let mut backups = Vec::new();
    while !writer.is_finished() {
        let to = dir.path().join(format!("backup-{}.db", backups.len()));
        let (from, copy) = (live.clone(), to.clone());
        tokio::task::spawn_blocking(move || cuakhau_store_sqlite::backup(&from, &copy)).await.unwrap().unwrap();
        backups.push(to);
        taken.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    writer.await.unwrap();
    let after = store.audit_head().await.unwrap().0;
    assert_eq!(after, before + writes);
    // Each backup is one committed state: its log verifies, and holds between the first and the last entry.
    let mut seen = Vec::new();
    for b in &backups {
        let n = verified_entries(b).await;
        assert!((before..=after).contains(&n), "{}: {n} entries, not within {before}..={after}", b.display());
        seen.push(n);
    }
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    assert!(backups.len() >= 15, "{} backups", backups.len());
    // A backup never overwrites a file.
    let kept = std::fs::read(&backups[0]).unwrap();
    let e = cuakhau_store_sqlite::backup(&live, &backups[0]).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
    assert_eq!(std::fs::read(&backups[0]).unwrap(), kept);
    // The last backup restores over a database in use before: staged, checked, then in place, whole.
    let target = dir.path().join("restored.db");
    let old = SqliteStore::open(&format!("sqlite:{}", target.display())).await.unwrap();
    old.record_failed_login("someone-else", actor()).await.unwrap();
    old.pool().close().await;
    drop(old);
    let staged = cuakhau_store_sqlite::stage_restore(backups.last().unwrap(), &target).unwrap();
    let check = dir.path().join("check.db");
    cuakhau_store_sqlite::backup(&staged, &check).unwrap();
    assert_eq!(verified_entries(&check).await, *seen.last().unwrap());
    cuakhau_store_sqlite::finish_restore(&staged, &target).unwrap();
    assert!(!staged.exists());
    assert_eq!(verified_entries(&target).await, *seen.last().unwrap());
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

/// A log written before there were audit streams (schema version 9: one chain numbered 1, 2, 3…
/// and one head row) and checkpointed then keeps verifying against that checkpoint once migrated:
/// it is the node's stream, which goes on from it (a witness cosigns the extension), while a gate
/// pair's entries start their own stream.
#[tokio::test]
async fn a_log_from_before_streams_keeps_verifying_against_its_checkpoints() {
    use cuakhau_core::audit::seal_chain;
    use cuakhau_core::transparency::{self as tl, Checkpoint, KeyKind, NoteSigner, Witness};
    use cuakhau_store::conformance::{actor, fixture};
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("old.db").display());
    // The schema as version 9 left it.
    let old = dir.path().join("migrations");
    std::fs::create_dir(&old).unwrap();
    for e in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations")).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if name.as_str() < "0010" {
            std::fs::copy(&path, old.join(name)).unwrap();
        }
    }
    let opts = url.parse::<sqlx::sqlite::SqliteConnectOptions>().unwrap().create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
    sqlx::migrate::Migrator::new(old.as_path()).await.unwrap().run(&pool).await.unwrap();
    // Five entries sealed as version 9 sealed them, two about a gate pair.
    let chain = seal_chain((1..=5i64).map(|seq| {
        let after = Some("v".to_string());
        (
            seq,
            cuakhau_core::AuditRecord {
                actor: "admin".into(),
                at: cuakhau_core::Timestamp(seq),
                action: "setting.put".into(),
                entity: format!("setting/k{seq}"),
                before: None,
                after,
            },
        )
    }));
    let leaves: Vec<_> = chain.iter().map(|e| tl::audit_leaf(e.seq, &e.record)).collect();
    for e in &chain {
        let insert = "INSERT INTO audit_log (seq, actor, at_us, action, entity, after_json, prev_hash, hash, gate_pair_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
        let q = sqlx::query(insert).bind(e.seq).bind(&e.record.actor).bind(e.record.at.as_micros()).bind(&e.record.action);
        let scope = (e.seq % 2 == 0).then_some("huu-nghi");
        q.bind(&e.record.entity).bind(&e.record.after).bind(&e.prev_hash).bind(&e.hash).bind(scope).execute(&pool).await.unwrap();
    }
    let head = &chain.last().unwrap().hash;
    sqlx::query("UPDATE audit_head SET seq = 5, hash = $1 WHERE id = 1").bind(head).execute(&pool).await.unwrap();
    pool.close().await;
    let key = NoteSigner::from_seed("test.cuakhau.example/audit", KeyKind::Note, [7; 32]).unwrap();
    let first = Checkpoint { origin: key.name().into(), size: 5, root: tl::root(&leaves) };
    let first_note = first.sign(&key);
    // Checkpoint files written before streams had no entry numbers beside the leaves.
    let mut exports = cuakhau_store::ledger::Exports::new();
    let node = exports.entry(String::new()).or_default();
    node.checkpoints.push(first.clone());
    node.leaves = leaves.iter().enumerate().map(|(i, h)| (i as u64 + 1, *h)).collect();

    // Migrated: the old log is the node's stream and verifies against the old checkpoint.
    let s = SqliteStore::open(&url).await.unwrap();
    let heads = s.audit_heads().await.unwrap();
    assert_eq!(heads.iter().map(|h| (h.stream.as_str(), h.seq, h.size)).collect::<Vec<_>>(), vec![("", 5, 5)]);
    let v = cuakhau_store::ledger::verify(&s, &exports).await.unwrap().unwrap();
    assert_eq!((v.entries, v.checkpointed), (5, 5));
    // The node's stream goes on from it; huu-nghi's lane change starts that gate pair's stream.
    s.load_reference(&fixture(), actor("loader")).await.unwrap();
    let mut lane = fixture().lanes[0].clone();
    lane.capacity_per_hour = 20;
    s.put_lane(&lane, actor("board")).await.unwrap();
    let last = [(String::new(), first.clone())].into_iter().collect();
    let signed = cuakhau_store::ledger::checkpoint(&s, &key, &last).await.unwrap();
    assert_eq!(signed.iter().map(|x| (x.stream.as_str(), x.checkpoint.size)).collect::<Vec<_>>(), vec![("", 12), ("huu-nghi", 1)]);
    for x in &signed {
        let ex = exports.entry(x.stream.clone()).or_default();
        ex.checkpoints.push(x.checkpoint.clone());
        for (i, h, seq) in &x.leaves {
            ex.leaves.insert(*i, *h);
            ex.seqs.insert(*i, *seq);
        }
    }
    let v = cuakhau_store::ledger::verify(&s, &exports).await.unwrap().unwrap();
    assert_eq!((v.entries, v.checkpointed), (13, 13));
    // A witness that cosigned the old checkpoint cosigns its extension.
    let wkey = NoteSigner::from_seed("witness.example", KeyKind::Cosignature, [9; 32]).unwrap();
    let mut w = Witness::new(wkey, key.verifier(), None).unwrap();
    w.cosign(&first_note, &[], 1).unwrap();
    let proof = cuakhau_store::ledger::consistency(&s, "", 5, 12).await.unwrap();
    assert!(w.cosign(&signed[0].note, &proof, 2).is_ok());
}

/// The writer never checkpoints a small log itself (its backstop is far away), so rows that reach
/// the database file itself were copied there by the checkpointer thread. `immutable=1` reads the
/// file alone, ignoring the write-ahead log.
#[tokio::test]
async fn commits_reach_the_database_file_through_the_checkpointer_not_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ck.db");
    let s = SqliteStore::open(&format!("sqlite:{}", path.display())).await.unwrap();
    let in_file = || {
        let uri = format!("file:{}?immutable=1", path.display());
        let c =
            rusqlite::Connection::open_with_flags(uri, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI)
                .unwrap();
        c.query_row("SELECT COUNT(*) FROM gate_pairs", [], |r| r.get::<_, i64>(0)).unwrap_or(0)
    };
    let pages_before: i64 = {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0)).unwrap()
    };
    assert_eq!(pages_before, 1000, "a plain connection keeps SQLite's default; the store's writer sets its own");
    s.load_reference(&cuakhau_store::conformance::fixture(), cuakhau_store::Actor { name: "t", at: cuakhau_store::conformance::T0 })
        .await
        .unwrap();
    let pairs = s.reference().await.unwrap().gate_pairs.len() as i64;
    assert!(pairs > 0);
    // The checkpointer runs within a few of its pauses; a generous deadline, not a timing claim.
    let mut waited = 0;
    while in_file() < pairs && waited < 200 {
        tokio::time::sleep(cuakhau_store_sqlite::CHECKPOINT_EVERY / 2).await;
        waited += 1;
    }
    assert_eq!(in_file(), pairs, "the committed rows are in the database file, copied there by the checkpointer");
}

/// Under a stream of writes the write-ahead log starts again from its beginning instead of
/// growing: far more is written than the log may hold, and the log file stays near its limit.
#[tokio::test]
async fn the_write_ahead_log_rewinds_under_a_stream_of_writes() {
    use cuakhau_store::sql::{Conn, Engine, Value, always};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wal.db");
    let s = SqliteStore::open(&format!("sqlite:{}", path.display())).await.unwrap();
    s.write((), always, |c, _| Box::pin(async move { c.execute("CREATE TABLE blobs (b TEXT NOT NULL)", &[]).await })).await.unwrap();
    let limit = u64::from(cuakhau_store_sqlite::REWIND_PAGES) * 4096;
    let row = "x".repeat(64 * 1024);
    let mut written = 0u64;
    while written < 3 * limit {
        let b = row.clone();
        s.write(b, always, |c, b| Box::pin(async move { c.execute("INSERT INTO blobs (b) VALUES ($1)", &[Value::from(b.clone())]).await }))
            .await
            .unwrap();
        written += row.len() as u64;
    }
    let wal = std::fs::metadata(dir.path().join("wal.db-wal")).unwrap().len();
    assert!(wal < limit + limit / 2, "the log is {wal} bytes after {written} written: it should have started again near {limit}");
}
