//! The SQLite backend of cuakhau's store: one file, WAL, foreign keys on, migrations embedded and
//! applied on open (by sqlx's migrator, so existing databases keep their `_sqlx_migrations`).
//!
//! Statements run on rusqlite, in the calling thread, with no hand-off per statement:
//! - **One writer thread** owns the write connection and runs each write's whole transaction
//!   in-thread (the shared SQL is async, but a rusqlite connection's futures are ready at once, so
//!   a trivial `block_on` drives them). **Group commit:** the writes that queue up while a commit
//!   is in flight are applied together in the next transaction, each in its own `SAVEPOINT`: a
//!   write that fails or is refused rolls back to its savepoint and changes nothing, and every
//!   caller gets its answer only after the commit that holds its change. A write whose caller has
//!   gone (a timed-out request) is skipped.
//! - **Reader threads** ([`READERS`] of them) each own a connection and take reads from one
//!   shared queue, so a read costs one hand-off each way and no thread is spawned or parked per
//!   read (tokio's blocking pool, used before, spent a quarter of a booking burst's CPU on its own
//!   locks and wake-ups).
//! - **A checkpointer thread** copies the write-ahead log into the database file (a `PASSIVE`
//!   checkpoint, which never blocks the writer) after commits, at most every
//!   [`CHECKPOINT_EVERY`]: with synchronous `NORMAL` a WAL commit does not sync, so the
//!   checkpoint's syncs were the writer's only waits on the disk, and they set the tail latency of
//!   every write. The writer still checkpoints itself when the log reaches [`REWIND_PAGES`]
//!   (SQLite's automatic checkpoint, set higher than its default of 1,000): the log only starts
//!   again from its beginning when a writer begins after a checkpoint that copied all of it, which
//!   a checkpointer running behind a busy writer never sees; by then the checkpointer has copied
//!   nearly all of it, so the writer's turn is short. The log file is cut back to that size
//!   (`journal_size_limit`).
//!
//! Transactions start with `BEGIN IMMEDIATE`, so another process (the CLI next to a running
//! server) waits on the busy timeout instead of failing half-way.

#![forbid(unsafe_code)]

use cuakhau_store::sql::{BoxFuture, Conn, Engine, Row, Value, numbered_params};
use cuakhau_store::{ConflictKind, Result, StoreError};
use rusqlite::types::ValueRef;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, mpsc};
use std::time::Duration;

/// This backend's migrations, compiled in.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How long a statement waits for another process's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// The most writes one group commit takes.
const MAX_GROUP: usize = 512;
/// The checkpointer's pace: at most one checkpoint in this time, and only after a commit.
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);
/// The write-ahead log's size (in pages) at which the writer checkpoints itself, so that the log
/// starts again from its beginning (SQLite's default is 1,000 pages).
pub const REWIND_PAGES: u32 = 4_096;
/// Reader threads, each with its own connection (opened at its first read): a long read (a
/// report) leaves the others free; more than this would only make readers wait for each other.
pub const READERS: usize = 4;

/// A store on one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    /// The migrator's pool, kept for tests and benchmarks that need raw SQL through sqlx.
    pool: SqlitePool,
    writer: mpsc::Sender<Box<dyn WriteJob>>,
    readers: flume::Sender<Box<dyn ReadJob>>,
    /// Never sent on: its drop tells the checkpointer the store is gone.
    _stop: mpsc::Sender<()>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url` (`sqlite:PATH` or `sqlite://PATH`) and
    /// applies pending migrations.
    pub async fn open(url: &str) -> Result<Self, sqlx::Error> {
        let opts = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let path = opts.get_filename().to_path_buf();
        let pool = SqlitePoolOptions::new().max_connections(2).connect_with(opts).await?;
        MIGRATOR.run(&pool).await?;
        let setup = |e: rusqlite::Error| sqlx::Error::Configuration(e.to_string().into());
        let conn = SqliteConn::open(&path).map_err(setup)?;
        conn.0.pragma_update(None, "wal_autocheckpoint", REWIND_PAGES).map_err(setup)?;
        let page_size: i64 = conn.0.pragma_query_value(None, "page_size", |r| r.get(0)).map_err(setup)?;
        conn.0.pragma_update(None, "journal_size_limit", i64::from(REWIND_PAGES) * page_size).map_err(setup)?;
        let checkpoints = SqliteConn::open(&path).map_err(setup)?;
        let (committed, commits) = mpsc::sync_channel(1);
        // Dropped with the store: the checkpointer's pause ends at once, and with it the thread.
        let (stop, stopped) = mpsc::channel();
        std::thread::Builder::new()
            .name("cuakhau-sqlite-checkpointer".into())
            .spawn(move || checkpointer(checkpoints, commits, stopped))
            .map_err(sqlx::Error::Io)?;
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("cuakhau-sqlite-writer".into())
            .spawn(move || writer(conn, rx, committed))
            .map_err(sqlx::Error::Io)?;
        let (reads, queue) = flume::unbounded();
        for i in 0..READERS {
            let (queue, path) = (queue.clone(), path.clone());
            std::thread::Builder::new()
                .name(format!("cuakhau-sqlite-reader-{i}"))
                .spawn(move || reader(&path, queue))
                .map_err(sqlx::Error::Io)?;
        }
        Ok(SqliteStore { inner: Arc::new(Inner { path, pool, writer: tx, readers: reads, _stop: stop }) })
    }

    /// The migrator's sqlx pool, for tests and benchmarks that need raw SQL.
    pub fn pool(&self) -> &SqlitePool {
        &self.inner.pool
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }
}

/// A rusqlite connection with the store's settings.
#[derive(Debug)]
pub struct SqliteConn(rusqlite::Connection, Statements);

/// What a statement's text is turned into, once per connection: the text with `?N` parameters
/// (the shared SQL writes `$N`) and its column names.
#[derive(Debug, Default)]
struct Statements(std::collections::HashMap<String, (String, Arc<[String]>)>);

/// The statements a connection remembers (as many as rusqlite's cache of prepared statements).
const STATEMENTS: usize = 128;

impl SqliteConn {
    /// Opens `path` with the store's settings (WAL, synchronous NORMAL, foreign keys, busy timeout).
    pub fn open(path: &Path) -> rusqlite::Result<Self> {
        let c = rusqlite::Connection::open(path)?;
        c.busy_timeout(BUSY_TIMEOUT)?;
        c.pragma_update(None, "journal_mode", "WAL")?;
        c.pragma_update(None, "synchronous", "NORMAL")?;
        c.pragma_update(None, "foreign_keys", "ON")?;
        c.set_prepared_statement_cache_capacity(STATEMENTS);
        Ok(SqliteConn(c, Statements::default()))
    }

    /// The rusqlite connection itself.
    pub fn raw(&self) -> &rusqlite::Connection {
        &self.0
    }

    fn run(&mut self, sql: &str, params: &[Value], rows: bool) -> Result<(u64, Vec<Row>)> {
        let known = &mut self.1.0;
        if !known.contains_key(sql) {
            let text = numbered_params(sql);
            let columns = self.0.prepare_cached(&text).map_err(sqlite_err)?.column_names().into_iter().map(str::to_string).collect();
            // Full: one goes (rusqlite's own cache of prepared statements keeps the recent ones),
            // not all of them at once.
            if known.len() >= STATEMENTS
                && let Some(old) = known.keys().next().cloned()
            {
                known.remove(&old);
            }
            known.insert(sql.to_string(), (text, columns));
        }
        let (text, columns) = &known[sql];
        let mut stmt = self.0.prepare_cached(text).map_err(sqlite_err)?;
        let args = rusqlite::params_from_iter(params.iter().map(to_sqlite));
        if !rows {
            return Ok((stmt.execute(args).map_err(sqlite_err)? as u64, Vec::new()));
        }
        let columns = columns.clone();
        let n = columns.len();
        let mut found = stmt.query(args).map_err(sqlite_err)?;
        let mut out = Vec::new();
        while let Some(r) = found.next().map_err(sqlite_err)? {
            let values = (0..n).map(|i| r.get_ref(i).map(from_sqlite)).collect::<rusqlite::Result<Vec<_>>>().map_err(sqlite_err)?;
            out.push(Row::new(columns.clone(), values));
        }
        Ok((0, out))
    }
}

fn to_sqlite(v: &Value) -> rusqlite::types::Value {
    use rusqlite::types::Value as V;
    match v {
        Value::Int(Some(n)) => V::Integer(*n),
        Value::Real(Some(x)) => V::Real(*x),
        Value::Text(Some(s)) => V::Text(s.clone()),
        Value::Bool(Some(b)) => V::Integer(i64::from(*b)),
        _ => V::Null,
    }
}

fn from_sqlite(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Text(None),
        ValueRef::Integer(n) => Value::Int(Some(n)),
        ValueRef::Real(x) => Value::Real(Some(x)),
        ValueRef::Text(t) | ValueRef::Blob(t) => Value::Text(Some(String::from_utf8_lossy(t).into_owned())),
    }
}

fn sqlite_err(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, _) = &e {
        match f.extended_code {
            rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                return StoreError::Conflict(ConflictKind::Duplicate);
            }
            rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY => return StoreError::Conflict(ConflictKind::MissingReference),
            _ => {}
        }
    }
    StoreError::Backend(e.to_string())
}

impl Conn for SqliteConn {
    const LOCK_HEAD: &'static str = "SELECT seq, size, hash FROM audit_heads WHERE stream = $1";
    // One writer: the next number after the largest is free.
    const NEXT_SEQ: &'static str = "SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_log";

    fn execute(&mut self, sql: &str, params: &[Value]) -> impl Future<Output = Result<u64>> + Send {
        let out = self.run(sql, params, false).map(|(n, _)| n);
        std::future::ready(out)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> impl Future<Output = Result<Vec<Row>>> + Send {
        let out = self.run(sql, params, true).map(|(_, rows)| rows);
        std::future::ready(out)
    }
}

/// A write waiting for the writer thread.
trait WriteJob: Send {
    /// The caller is gone (its request timed out or was dropped): skip the work.
    fn abandoned(&self) -> bool;
    /// Runs the work in the open transaction and says whether to keep its changes, and how to
    /// answer once the commit's fate is known.
    fn run(self: Box<Self>, c: &mut SqliteConn) -> Done;
    /// Answers a write that could not run with the error that stopped it.
    fn fail(self: Box<Self>, error: &str);
}

impl std::fmt::Debug for dyn WriteJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WriteJob")
    }
}

/// A write that ran: keep its savepoint or roll it back, then answer (with the commit's error,
/// if the commit failed).
struct Done {
    keep: bool,
    answer: Answer,
}

/// Sends a write's answer, given the error of the commit that was to hold it (if it failed).
type Answer = Box<dyn FnOnce(Option<&str>) + Send>;

/// A read or a write waiting for its thread: what it runs, on what, and where its answer goes.
struct Job<S, T, F> {
    state: S,
    /// For a write: whether its outcome is committed (a read commits nothing).
    keep: fn(&T) -> bool,
    f: F,
    reply: tokio::sync::oneshot::Sender<Result<T>>,
}

impl<S, T, F> WriteJob for Job<S, T, F>
where
    S: Send + Sync + 'static,
    T: Send + 'static,
    F: for<'c> Fn(&'c mut SqliteConn, &'c S) -> BoxFuture<'c, Result<T>> + Send + Sync + 'static,
{
    fn abandoned(&self) -> bool {
        self.reply.is_closed()
    }

    fn fail(self: Box<Self>, error: &str) {
        let _ = self.reply.send(Err(StoreError::Backend(error.to_string())));
    }

    fn run(self: Box<Self>, c: &mut SqliteConn) -> Done {
        let Job { state, keep, f, reply } = *self;
        let out = futures_executor::block_on(f(c, &state));
        let kept = matches!(&out, Ok(v) if keep(v));
        Done {
            keep: kept,
            answer: Box::new(move |commit_error: Option<&str>| {
                let out = match commit_error {
                    Some(e) if kept => Err(StoreError::Backend(format!("commit failed: {e}"))),
                    _ => out,
                };
                // The caller may have gone meanwhile; nothing to do then.
                let _ = reply.send(out);
            }),
        }
    }
}

/// A read waiting for a reader thread.
trait ReadJob: Send {
    /// The caller is gone: skip the work.
    fn abandoned(&self) -> bool;
    fn run(self: Box<Self>, c: &mut SqliteConn);
    /// Answers a read that could not run.
    fn fail(self: Box<Self>, error: &str);
}

impl std::fmt::Debug for dyn ReadJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReadJob")
    }
}

impl<S, T, F> ReadJob for Job<S, T, F>
where
    S: Send + Sync + 'static,
    T: Send + 'static,
    F: for<'c> Fn(&'c mut SqliteConn, &'c S) -> BoxFuture<'c, Result<T>> + Send + Sync + 'static,
{
    fn abandoned(&self) -> bool {
        WriteJob::abandoned(self)
    }

    fn run(self: Box<Self>, c: &mut SqliteConn) {
        let Job { state, f, reply, .. } = *self;
        let _ = reply.send(futures_executor::block_on(f(c, &state)));
    }

    fn fail(self: Box<Self>, error: &str) {
        WriteJob::fail(self, error)
    }
}

/// A reader thread: takes reads from the shared queue and runs each on its own connection,
/// opened at the first read (and again after a read panicked). Ends when the store does.
fn reader(path: &Path, jobs: flume::Receiver<Box<dyn ReadJob>>) {
    let mut conn: Option<SqliteConn> = None;
    while let Ok(job) = jobs.recv() {
        if job.abandoned() {
            continue;
        }
        let mut c = match conn.take() {
            Some(c) => c,
            None => match SqliteConn::open(path) {
                Ok(c) => c,
                Err(e) => {
                    job.fail(&e.to_string());
                    continue;
                }
            },
        };
        // A panic drops the reply (its caller sees the reader's error) and the connection.
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.run(&mut c))).is_ok() {
            conn = Some(c);
        }
    }
}

/// The checkpointer thread: after a commit, one `PASSIVE` checkpoint (it copies what it can and
/// never waits for the writer), then a pause, so that a burst of commits costs a few checkpoints.
/// Ends when the writer does, or during its pause when the store is dropped.
fn checkpointer(c: SqliteConn, commits: mpsc::Receiver<()>, stop: mpsc::Receiver<()>) {
    while commits.recv().is_ok() {
        // A failure (another process holding the checkpoint lock) is retried after the next commit.
        let _ = c.0.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        if let Err(mpsc::RecvTimeoutError::Disconnected) = stop.recv_timeout(CHECKPOINT_EVERY) {
            return;
        }
    }
}

/// The writer thread: one transaction per group of queued writes, one savepoint per write. Tells
/// the checkpointer after each commit (without waiting: one pending word is enough).
fn writer(mut c: SqliteConn, jobs: mpsc::Receiver<Box<dyn WriteJob>>, committed: mpsc::SyncSender<()>) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(j) => group.push(j),
                Err(_) => break,
            }
        }
        group.retain(|j| !j.abandoned());
        if group.is_empty() {
            continue;
        }
        if let Err(e) = c.0.execute_batch("BEGIN IMMEDIATE") {
            let e = e.to_string();
            for j in group {
                j.fail(&e);
            }
            continue;
        }
        let mut answers = Vec::with_capacity(group.len());
        let mut broken: Option<String> = None;
        for j in group {
            // Checked again once the write lock is ours: a caller may have given up while we
            // waited for another process.
            if j.abandoned() {
                continue;
            }
            if let Some(e) = &broken {
                j.fail(e);
                continue;
            }
            if let Err(e) = c.0.execute_batch("SAVEPOINT w") {
                let e = e.to_string();
                j.fail(&e);
                broken = Some(e);
                continue;
            }
            let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| j.run(&mut c)));
            let (keep, answer) = match done {
                Ok(d) => (d.keep, Some(d.answer)),
                // A panic drops the reply: its caller sees the writer's error.
                Err(_) => (false, None),
            };
            let end = if keep { "RELEASE w" } else { "ROLLBACK TO w; RELEASE w" };
            if let Err(e) = c.0.execute_batch(end) {
                broken = Some(e.to_string());
            }
            if c.0.is_autocommit() && broken.is_none() {
                // The engine ended the transaction itself (a disk error): nothing is kept.
                broken = Some("the transaction was rolled back by the engine".into());
            }
            answers.extend(answer);
        }
        let commit_error = match &broken {
            Some(e) => {
                let _ = c.0.execute_batch("ROLLBACK");
                Some(e.clone())
            }
            None => c.0.execute_batch("COMMIT").err().map(|e| {
                let _ = c.0.execute_batch("ROLLBACK");
                e.to_string()
            }),
        };
        for a in answers {
            a(commit_error.as_deref());
        }
        if commit_error.is_none() {
            let _ = committed.try_send(());
        }
    }
}

impl Engine for SqliteStore {
    type Conn = SqliteConn;
    const NAME: &'static str = "sqlite";

    fn read<S, T, F>(&self, state: S, f: F) -> impl Future<Output = Result<T>> + Send
    where
        S: Send + Sync + 'static,
        T: Send + 'static,
        F: for<'c> Fn(&'c mut SqliteConn, &'c S) -> BoxFuture<'c, Result<T>> + Send + Sync + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Box<dyn ReadJob> = Box::new(Job { state, keep: |_| false, f, reply });
        let sent = self.inner.readers.send(job).is_ok();
        async move {
            if !sent {
                return Err(StoreError::Backend("the SQLite readers have stopped".into()));
            }
            answer.await.map_err(|_| StoreError::Backend("a reader failed".into()))?
        }
    }

    fn write<S, T, F>(&self, state: S, keep: fn(&T) -> bool, f: F) -> impl Future<Output = Result<T>> + Send
    where
        S: Send + Sync + 'static,
        T: Send + 'static,
        F: for<'c> Fn(&'c mut SqliteConn, &'c S) -> BoxFuture<'c, Result<T>> + Send + Sync + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Box<dyn WriteJob> = Box::new(Job { state, keep, f, reply });
        let sent = self.inner.writer.send(job).is_ok();
        async move {
            if !sent {
                return Err(StoreError::Backend("the SQLite writer has stopped".into()));
            }
            answer.await.map_err(|_| StoreError::Backend("the SQLite writer dropped a write".into()))?
        }
    }
}

/// The file path of a `sqlite:` database URL.
pub fn path_of(url: &str) -> Option<PathBuf> {
    SqliteConnectOptions::from_str(url).ok().map(|o| o.get_filename().to_path_buf())
}

/// `path` with `suffix` added to its file name (`c.db` → `c.db-wal`).
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Copies the database at `from` into a new file `to` with SQLite's online backup, while a server
/// may be writing to it: every page is copied in one step, inside one read transaction (in WAL
/// mode a reader does not stop writers), so the copy is one committed state. The copy is written
/// beside `to`, synced, then linked into place, so `to` is whole or absent, and an existing `to`
/// is never overwritten (`ErrorKind::AlreadyExists`).
pub fn backup(from: &Path, to: &Path) -> std::io::Result<()> {
    use std::io::{Error, ErrorKind};
    if !from.is_file() {
        return Err(Error::new(ErrorKind::NotFound, format!("{} does not exist", from.display())));
    }
    if to.exists() {
        return Err(Error::new(ErrorKind::AlreadyExists, format!("{} exists", to.display())));
    }
    let part = with_suffix(to, ".part");
    remove_with_journal(&part)?;
    let copied = (|| -> std::io::Result<()> {
        let sql = |e: rusqlite::Error| Error::other(e.to_string());
        let src = rusqlite::Connection::open_with_flags(from, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE).map_err(sql)?;
        src.busy_timeout(BUSY_TIMEOUT).map_err(sql)?;
        let mut dst = rusqlite::Connection::open(&part).map_err(sql)?;
        {
            let b = rusqlite::backup::Backup::new(&src, &mut dst).map_err(sql)?;
            loop {
                match b.step(-1).map_err(sql)? {
                    rusqlite::backup::StepResult::Done => break,
                    rusqlite::backup::StepResult::More => {}
                    _ => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        }
        // One self-contained file: no write-ahead log beside it.
        dst.pragma_update(None, "journal_mode", "DELETE").map_err(sql)?;
        drop(dst);
        std::fs::File::open(&part)?.sync_all()?;
        // A hard link fails when `to` appeared meanwhile, where a rename would replace it.
        std::fs::hard_link(&part, to)
    })();
    remove_with_journal(&part)?;
    copied
}

/// Removes a database file and its write-ahead log and shared memory, whichever exist.
fn remove_with_journal(path: &Path) -> std::io::Result<()> {
    for p in [path.to_path_buf(), with_suffix(path, "-wal"), with_suffix(path, "-shm"), with_suffix(path, "-journal")] {
        match std::fs::remove_file(&p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

/// The first half of a restore: the backup `from` copied to a staged file beside `target`, to be
/// checked (on a copy of its own: a store that opens a file changes it) before anything is
/// replaced. Returns the staged file's path.
pub fn stage_restore(from: &Path, target: &Path) -> std::io::Result<PathBuf> {
    let staged = with_suffix(target, ".restoring");
    remove_with_journal(&staged)?;
    backup(from, &staged)?;
    Ok(staged)
}

/// The second half: the staged copy takes `target`'s place. `target`'s log and shared memory go
/// first (they belong to the database being replaced, and SQLite would apply them to the new
/// one); then the staged file is renamed over `target`. No server may have `target` open.
pub fn finish_restore(staged: &Path, target: &Path) -> std::io::Result<()> {
    for suffix in ["-wal", "-shm", "-journal"] {
        match std::fs::remove_file(with_suffix(target, suffix)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    std::fs::rename(staged, target)?;
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Removes a staged restore that was refused.
pub fn abandon_restore(staged: &Path) -> std::io::Result<()> {
    remove_with_journal(staged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_past_the_connections_memory_still_answer_with_their_own_columns() {
        let dir = tempfile::tempdir().expect("a directory");
        let mut c = SqliteConn::open(&dir.path().join("s.db")).expect("opens");
        // Three times as many distinct statements as a connection remembers, each with its own
        // column name and value, twice over: every answer is its own statement's.
        for round in 0..2 {
            for i in 0..STATEMENTS as i64 * 3 {
                let sql = format!("SELECT $1 + {i} AS c{i}");
                let (_, rows) = c.run(&sql, &[Value::Int(Some(round))], true).expect("runs");
                assert_eq!(rows.len(), 1);
                assert_eq!(rows[0].get::<i64>(&format!("c{i}")).expect("its column"), round + i);
            }
        }
        assert!(c.1.0.len() <= STATEMENTS, "remembers at most {STATEMENTS}, holds {}", c.1.0.len());
    }
}
