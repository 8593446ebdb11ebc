//! The PostgreSQL backend of cuakhau's store, selected by a `postgres://` URL: an
//! [`Engine`](cuakhau_store::sql::Engine) over sqlx, so the shared SQL of `cuakhau_store::sql`
//! runs on it.
//!
//! Audited writes serialise on their audit stream's head row (`SELECT … FOR UPDATE`; one stream
//! per gate pair and one for the node), so no stream's hash chain forks however many servers
//! share the database, and writes at different gate pairs do not wait on one another's head. A write that PostgreSQL rolls back for a
//! serialization failure or a deadlock (SQLSTATE 40001, 40P01) runs again, at most
//! `CONTENTION_RETRIES` more times. Once an audited write commits, the store sends `pg_notify` on
//! the schema's channel with the entry's sequence number (one for all the entries committed
//! meanwhile, on its own connection: see `Announcer`), so the other processes on the database
//! hear of it (one `LISTEN` connection per process, [`ChangeListener`]). No advisory locks or
//! triggers.

#![forbid(unsafe_code)]

use cuakhau_store::sql::{BoxFuture, Conn, Engine, Row, Value};
use cuakhau_store::{CONTENTION_RETRIES, ChangeListener, ConflictKind, Heard, Result, StoreError};
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{Column, PgPool, Postgres, Row as _, TypeInfo, ValueRef};
use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// How long to wait for a connection before giving up (an unreachable server fails fast).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a read on a replica waits for a connection before the primary is asked instead.
const REPLICA_TIMEOUT: Duration = Duration::from_secs(1);

/// This backend's migrations, compiled in.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A store on a PostgreSQL database (optionally inside one schema).
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    /// The hot keys' turns (see `write_hot`), shared by the clones of this store.
    hot: Arc<HotKeys>,
    /// Where committed audit entries are announced (none on a replica, which writes nothing).
    announcer: Option<Announcer>,
}

/// How many of a process's writes on one hot key may wait at the database at once: one holding
/// the rows, one ready behind it (its reads done), the rest in the process.
const HOT_WRITERS: usize = 2;

/// Per hot key (a gate pair), the turns of this process's writes on it.
#[derive(Debug, Default)]
struct HotKeys(std::sync::Mutex<std::collections::HashMap<String, Arc<tokio::sync::Semaphore>>>);

impl HotKeys {
    fn turns(&self, key: &str) -> Arc<tokio::sync::Semaphore> {
        let mut m = self.0.lock().expect("not poisoned");
        m.entry(key.to_string()).or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(HOT_WRITERS))).clone()
    }
}

impl PgStore {
    /// Connects to `url` and applies pending migrations.
    pub async fn open(url: &str) -> Result<Self, sqlx::Error> {
        Self::open_in_schema(url, None).await
    }

    /// Connects with `search_path` set to `schema` (created if missing), so that tests and
    /// tenants can share one database without sharing tables.
    pub async fn open_in_schema(url: &str, schema: Option<&str>) -> Result<Self, sqlx::Error> {
        Self::open_with(url, schema, Self::POOL).await
    }

    /// Connections a store opens at most unless told otherwise (`--database-pool`).
    pub const POOL: u32 = 16;

    /// Like [`Self::open_in_schema`], with at most `pool` connections (the change listener,
    /// when one runs, holds one of them).
    pub async fn open_with(url: &str, schema: Option<&str>, pool: u32) -> Result<Self, sqlx::Error> {
        let mut opts = PgConnectOptions::from_str(url)?;
        if let Some(schema) = schema {
            let admin = PgPoolOptions::new().max_connections(1).acquire_timeout(ACQUIRE_TIMEOUT).connect_with(opts.clone()).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA IF NOT EXISTS \"{}\"", schema.replace('"', ""))))
                .execute(&admin)
                .await?;
            admin.close().await;
            opts = opts.options([("search_path", schema)]);
        }
        let pool = PgPoolOptions::new().max_connections(pool.max(2)).acquire_timeout(ACQUIRE_TIMEOUT).connect_with(opts).await?;
        MIGRATOR.run(&pool).await?;
        Ok(PgStore { announcer: Some(Announcer::start(pool.clone())), pool, hot: Arc::default() })
    }

    /// Connects to a read replica of a database that [`Self::open_with`] migrated (a PostgreSQL
    /// streaming replica, read-only): no migrations and no schema are made here, and every write
    /// through it fails. Serves reads that may be a little behind (see `replica_lag`).
    pub async fn open_replica(url: &str, schema: Option<&str>, pool: u32) -> Result<Self, sqlx::Error> {
        let mut opts = PgConnectOptions::from_str(url)?;
        if let Some(schema) = schema {
            opts = opts.options([("search_path", schema)]);
        }
        // Connected when first used, so that a server starts while its replica is down (its
        // public reads then fall back to the primary); a replica that does not answer is given
        // up on after REPLICA_TIMEOUT.
        let pool = PgPoolOptions::new().max_connections(pool.max(1)).acquire_timeout(REPLICA_TIMEOUT).connect_lazy_with(opts);
        Ok(PgStore { pool, hot: Arc::default(), announcer: None })
    }

    /// The pool, for tests and benchmarks that need raw SQL.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// A pooled connection, or a write transaction on one (with the last audit entry it wrote).
#[derive(Debug)]
pub enum PgConn {
    Pooled(PoolConnection<Postgres>),
    Tx(sqlx::Transaction<'static, Postgres>, Option<i64>),
}

impl PgConn {
    fn raw(&mut self) -> &mut sqlx::PgConnection {
        match self {
            PgConn::Pooled(c) => c,
            PgConn::Tx(t, _) => t,
        }
    }

    /// Commits (or rolls back) a write transaction; answers the last audit entry it committed.
    async fn finish(self, commit: bool) -> Result<Option<i64>> {
        match self {
            PgConn::Tx(t, appended) if commit => t.commit().await.map_err(db_err).map(|()| appended),
            PgConn::Tx(t, _) => t.rollback().await.map_err(db_err).map(|()| None),
            PgConn::Pooled(_) => Ok(None),
        }
    }
}

/// Tells the other processes on the database about committed audit entries: one `pg_notify` on
/// the schema's channel, on its own connection, for all the entries committed since the last one
/// (the highest number). Not in the writes' own transactions: PostgreSQL takes one lock for the
/// whole database at the commit of every transaction that notifies and holds it through the
/// commit's WAL flush, which made every audited write of every gate pair commit one at a time.
/// A notification is only a wake-up: the followers read the committed log (and read it every
/// second anyway), so one lost with a crash between commit and notify delays, never loses, an
/// event.
#[derive(Debug, Clone)]
struct Announcer(tokio::sync::mpsc::UnboundedSender<i64>);

/// The least time between two notifications of one process.
const GATHER: Duration = Duration::from_millis(5);

impl Announcer {
    fn start(pool: PgPool) -> Announcer {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<i64>();
        tokio::spawn(async move {
            while let Some(mut seq) = rx.recv().await {
                while let Ok(more) = rx.try_recv() {
                    seq = seq.max(more);
                }
                // Failures are not fatal: the followers read the log every idle second.
                let _ = sqlx::query("SELECT pg_notify('cuakhau_' || current_schema(), $1)").bind(seq.to_string()).execute(&pool).await;
                // At most one notification (a small transaction of its own, and its commit) per
                // GATHER: a burst of commits is told in one.
                tokio::time::sleep(GATHER).await;
            }
        });
        Announcer(tx)
    }
}

fn db_err(e: sqlx::Error) -> StoreError {
    if let Some(d) = e.as_database_error() {
        // Serialization failure and deadlock: the transaction was rolled back and may simply be
        // run again.
        if matches!(d.code().as_deref(), Some("40001" | "40P01")) {
            return StoreError::Contention(d.message().to_string());
        }
        if d.is_unique_violation() {
            return StoreError::Conflict(ConflictKind::Duplicate);
        }
        if d.is_foreign_key_violation() {
            return StoreError::Conflict(ConflictKind::MissingReference);
        }
    }
    StoreError::Backend(e.to_string())
}

fn bind<'q>(sql: &'q str, params: &[Value]) -> sqlx::query::Query<'q, Postgres, PgArguments> {
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for v in params {
        q = match v {
            Value::Int(x) => q.bind(*x),
            Value::Real(x) => q.bind(*x),
            Value::Text(x) => q.bind(x.clone()),
            Value::Bool(x) => q.bind(*x),
        };
    }
    q
}

fn value(r: &PgRow, i: usize) -> Result<Value, sqlx::Error> {
    let ty = r.try_get_raw(i)?.type_info().name().to_string();
    Ok(match ty.as_str() {
        "INT8" => Value::Int(r.try_get(i)?),
        "INT4" => Value::Int(r.try_get::<Option<i32>, _>(i)?.map(i64::from)),
        "INT2" => Value::Int(r.try_get::<Option<i16>, _>(i)?.map(i64::from)),
        "FLOAT8" => Value::Real(r.try_get(i)?),
        "FLOAT4" => Value::Real(r.try_get::<Option<f32>, _>(i)?.map(f64::from)),
        "BOOL" => Value::Bool(r.try_get(i)?),
        _ => Value::Text(r.try_get(i)?),
    })
}

fn rows(found: Vec<PgRow>) -> Result<Vec<Row>> {
    let Some(first) = found.first() else { return Ok(Vec::new()) };
    let columns: Arc<[String]> = first.columns().iter().map(|c| c.name().to_string()).collect();
    found
        .iter()
        .map(|r| Ok(Row::new(columns.clone(), (0..columns.len()).map(|i| value(r, i)).collect::<Result<_, _>>().map_err(db_err)?)))
        .collect()
}

impl Conn for PgConn {
    const LOCK_HEAD: &'static str = "SELECT seq, size, hash FROM audit_heads WHERE stream = $1 FOR UPDATE";
    // A sequence: writers of different streams take numbers without waiting on one another.
    const NEXT_SEQ: &'static str = "SELECT nextval('audit_log_seq')";
    const RESYNC_SEQ: Option<&'static str> = Some("SELECT setval('audit_log_seq', (SELECT MAX(seq) FROM audit_log))");
    // One channel per schema: stores in other schemas of the database hear nothing of it.

    fn appended(&mut self, seq: i64) {
        if let PgConn::Tx(_, last) = self {
            *last = Some(seq);
        }
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> impl Future<Output = Result<u64>> + Send {
        let q = bind(sql, params);
        async move { Ok(q.execute(self.raw()).await.map_err(db_err)?.rows_affected()) }
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> impl Future<Output = Result<Vec<Row>>> + Send {
        let q = bind(sql, params);
        async move { rows(q.fetch_all(self.raw()).await.map_err(db_err)?) }
    }
}

/// The `LISTEN` connection of one process: it hears the sequence number of every audit entry
/// committed in its schema, by any process.
struct PgChanges(sqlx::postgres::PgListener);

impl std::fmt::Debug for PgChanges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PgChanges")
    }
}

impl ChangeListener for PgChanges {
    fn next(&mut self) -> cuakhau_store::sql::BoxFuture<'_, Result<Heard>> {
        Box::pin(async move {
            // `None`: the connection dropped (and is made again on the next call); whatever was
            // sent meanwhile is lost, so the follower reads the log.
            Ok(match self.0.try_recv().await.map_err(db_err)? {
                Some(n) => n.payload().parse().map_or(Heard::Lost, Heard::Committed),
                None => Heard::Lost,
            })
        })
    }
}

impl Engine for PgStore {
    type Conn = PgConn;
    const NAME: &'static str = "postgres";

    async fn listen(&self) -> Result<Option<Box<dyn ChangeListener>>> {
        let schema: String = sqlx::query_scalar("SELECT current_schema()").fetch_one(&self.pool).await.map_err(db_err)?;
        let mut l = sqlx::postgres::PgListener::connect_with(&self.pool).await.map_err(db_err)?;
        l.listen(&format!("cuakhau_{schema}")).await.map_err(db_err)?;
        Ok(Some(Box::new(PgChanges(l))))
    }

    async fn write_hot<S, T, F>(&self, key: Option<&str>, state: S, keep: fn(&T) -> bool, f: F) -> Result<T>
    where
        S: Send + Sync + 'static,
        T: Send + 'static,
        F: for<'c> Fn(&'c mut PgConn, &'c S) -> BoxFuture<'c, Result<T>> + Send + Sync + 'static,
    {
        // Fair (first come, first served); the turn is held through the commit.
        let turns = key.map(|k| self.hot.turns(k));
        let _turn = match &turns {
            Some(t) => Some(t.acquire().await.map_err(|e| StoreError::Backend(e.to_string()))?),
            None => None,
        };
        self.write(state, keep, f).await
    }

    async fn replica_lag(&self) -> Result<Option<f64>> {
        // Measured on the replica's own clock: nothing left to replay is no lag, however long ago
        // the primary last committed; otherwise the age of the last commit replayed.
        sqlx::query_scalar(
            "SELECT CASE WHEN NOT pg_is_in_recovery() THEN NULL
                         WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0::float8
                         ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8, 0) END",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)
    }

    async fn read<S, T, F>(&self, state: S, f: F) -> Result<T>
    where
        S: Send + Sync + 'static,
        T: Send + 'static,
        F: for<'c> Fn(&'c mut PgConn, &'c S) -> BoxFuture<'c, Result<T>> + Send + Sync + 'static,
    {
        let mut c = PgConn::Pooled(self.pool.acquire().await.map_err(db_err)?);
        f(&mut c, &state).await
    }

    async fn write<S, T, F>(&self, state: S, keep: fn(&T) -> bool, f: F) -> Result<T>
    where
        S: Send + Sync + 'static,
        T: Send + 'static,
        F: for<'c> Fn(&'c mut PgConn, &'c S) -> BoxFuture<'c, Result<T>> + Send + Sync + 'static,
    {
        // Run again while the engine reports contention (nothing of a failed attempt was kept).
        let mut tries = 0;
        loop {
            let attempt = async {
                let mut c = PgConn::Tx(self.pool.begin().await.map_err(db_err)?, None);
                let out = f(&mut c, &state).await?;
                if let (Some(seq), Some(a)) = (c.finish(keep(&out)).await?, &self.announcer) {
                    let _ = a.0.send(seq);
                }
                Ok(out)
            }
            .await;
            match attempt {
                Err(StoreError::Contention(_)) if tries < CONTENTION_RETRIES => tries += 1,
                other => return other,
            }
        }
    }
}
