//! The SQLite backend of cuakhau's store: one file, WAL, foreign keys on, migrations embedded and
//! applied on open.
//!
//! Writers start with `BEGIN IMMEDIATE`, so a transaction that reads and then writes waits for
//! the write lock (busy timeout) instead of failing with `SQLITE_BUSY` half-way. Inside one
//! process, writers also queue on an async mutex first: SQLite has one writer anyway, and a fair
//! queue beats its busy handler, which sleeps and retries (long tails under load). Other processes
//! (the CLI next to a running server) still meet the busy timeout.

#![forbid(unsafe_code)]

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// This backend's migrations, compiled in.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A store on one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// This process's writers, one at a time, first come first served.
    writer: Arc<tokio::sync::Mutex<()>>,
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
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(opts).await?;
        MIGRATOR.run(&pool).await?;
        Ok(SqliteStore { pool, writer: Arc::new(tokio::sync::Mutex::new(())) })
    }

    /// The pool, for tests and benchmarks that need raw SQL.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    async fn begin_write(&self) -> Result<(tokio::sync::OwnedMutexGuard<()>, sqlx::Transaction<'static, sqlx::Sqlite>), sqlx::Error> {
        let turn = self.writer.clone().lock_owned().await;
        Ok((turn, self.pool.begin_with("BEGIN IMMEDIATE").await?))
    }
}

cuakhau_store::impl_sql_store!(
    store = SqliteStore,
    db = sqlx::Sqlite,
    engine = "sqlite",
    lock_head = "SELECT seq, hash FROM audit_head WHERE id = 1"
);
