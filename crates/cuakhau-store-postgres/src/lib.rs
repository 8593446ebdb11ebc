//! The PostgreSQL backend of cuakhau's store, selected by a `postgres://` URL.
//!
//! Audited writes serialise on the audit head row (`SELECT … FOR UPDATE`), so the hash chain has
//! no forks however many servers share the database. No advisory locks, triggers or
//! `LISTEN/NOTIFY`, to stay portable to PostgreSQL-compatible distributed engines.

#![forbid(unsafe_code)]

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::str::FromStr;
use std::time::Duration;

/// How long to wait for a connection before giving up (an unreachable server fails fast).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// This backend's migrations, compiled in.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A store on a PostgreSQL database (optionally inside one schema).
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to `url` and applies pending migrations.
    pub async fn open(url: &str) -> Result<Self, sqlx::Error> {
        Self::open_in_schema(url, None).await
    }

    /// Connects with `search_path` set to `schema` (created if missing), so that tests and
    /// tenants can share one database without sharing tables.
    pub async fn open_in_schema(url: &str, schema: Option<&str>) -> Result<Self, sqlx::Error> {
        let mut opts = PgConnectOptions::from_str(url)?;
        if let Some(schema) = schema {
            let admin = PgPoolOptions::new().max_connections(1).acquire_timeout(ACQUIRE_TIMEOUT).connect_with(opts.clone()).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA IF NOT EXISTS \"{}\"", schema.replace('"', ""))))
                .execute(&admin)
                .await?;
            admin.close().await;
            opts = opts.options([("search_path", schema)]);
        }
        let pool = PgPoolOptions::new().max_connections(16).acquire_timeout(ACQUIRE_TIMEOUT).connect_with(opts).await?;
        MIGRATOR.run(&pool).await?;
        Ok(PgStore { pool })
    }

    /// The pool, for tests and benchmarks that need raw SQL.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// PostgreSQL has row locks: writers need no turn of their own.
    async fn begin_write(&self) -> Result<((), sqlx::Transaction<'static, sqlx::Postgres>), sqlx::Error> {
        Ok(((), self.pool.begin().await?))
    }
}

cuakhau_store::impl_sql_store!(
    store = PgStore,
    db = sqlx::Postgres,
    engine = "postgres",
    lock_head = "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE"
);
