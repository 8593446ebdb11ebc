//! cuakhau's use cases, one module per context: what an HTTP request, the background loop, the
//! demo day, the CLI and (later) the other side's node all call, so that each applies the same
//! rules without HTTP.
//!
//! An [`App`] owns the store handle, the injected [`Clock`], [`Ticker`] and [`Entropy`], the
//! [`Config`] the rules need, the caches (reference data, sessions, suspensions), the event bus
//! (changes at gate pairs) and the running simulations. Each context is a borrowed handle:
//! `app.goods().book(&principal, id, hour)`. Use cases take the authenticated [`Principal`] and
//! refuse with [`AppError::Forbidden`] themselves, asking `cuakhau_core::auth::allows`; errors are
//! kinds ([`AppError`]), never prose: the edge words them in the caller's language.
//!
//! Architecture invariant: no axum, hyper, utoipa or wire types (`cuakhau-api`); checked by
//! `cargo xtask check`.

#![forbid(unsafe_code)]

use cuakhau_core::Timestamp;
use cuakhau_store::Store;
use std::sync::Arc;
use std::time::Duration;

pub mod accounts;
pub mod audit;
mod caches;
pub mod demo;
mod error;
pub mod events;
pub mod gate;
pub mod goods;
pub mod leases;
mod principal;
pub mod reference;
pub mod reports;
pub mod secrets;
pub mod simulations;
pub mod throttle;

pub use error::{AppError, ConflictKind, What};
pub use principal::Principal;

/// Results of use cases.
pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// The time of day, as the rules need it. The CLI passes the system clock; tests a fixed one.
pub trait Clock: Send + Sync + std::fmt::Debug + 'static {
    fn now(&self) -> Timestamp;
    /// A clock moved by hand (a test's) says when it moves, so that what waits for an instant
    /// (a live board waiting for a side to open) looks again; a clock that moves on its own
    /// says nothing (`None`), and waiting for an instant is sleeping until it.
    fn moved(&self) -> Option<tokio::sync::watch::Receiver<Timestamp>> {
        None
    }
}

/// Monotonic time since an arbitrary origin, for ages and timeouts (caches' TTLs, latencies):
/// the CLI passes `Instant`-based time, tests one they move by hand.
pub trait Ticker: Send + Sync + std::fmt::Debug + 'static {
    fn elapsed(&self) -> Duration;
}

/// Random bytes for session tokens, tracking codes and password salts.
pub trait Entropy: Send + Sync + std::fmt::Debug + 'static {
    fn fill(&self, buf: &mut [u8]);
}

/// The settings the rules need. One struct instead of loose parameters.
#[derive(Debug, Clone)]
pub struct Config {
    /// How long a login lasts.
    pub session_ttl_s: i64,
    /// Simulations that may run at once (each uses half the cores).
    pub simulation_slots: usize,
    /// Call-forward policy, answer window and yard size.
    pub gate_rules: cuakhau_core::goods::gate::GateRules,
    /// Customs risk rules that pick a truck's channel (first match wins).
    pub risk_rules: Vec<cuakhau_core::goods::clearance::RiskRule>,
    /// How far ahead an hour may be booked (besides the declaration's own validity).
    pub max_booking_ahead_h: i64,
    /// Where "your turn" and "refused" messages for drivers are POSTed (an SMS or chat gateway).
    pub webhook_url: Option<String>,
    /// This process's name among several on one database (`--instance`): background work is
    /// leased to it. `None`: the only process (SQLite, one-shot commands), every lease granted.
    pub instance: Option<String>,
    /// How long a lease on background work lasts unless renewed (another process takes over
    /// within about this long after its holder dies).
    pub lease_ttl_s: i64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            session_ttl_s: 12 * 3600,
            simulation_slots: 2,
            gate_rules: Default::default(),
            risk_rules: cuakhau_data::parse_risk_rules(cuakhau_data::BUNDLED_RISK_RULES).expect("the bundled risk rules parse"),
            max_booking_ahead_h: 7 * 24,
            webhook_url: None,
            instance: None,
            lease_ttl_s: 10,
        }
    }
}

/// How long a replica that did not answer is left alone before a public read tries it again.
pub const REPLICA_RETRY: std::time::Duration = std::time::Duration::from_secs(5);

/// Where a public read (board, driver's page) was answered from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadSource {
    /// The primary: no replica is configured (or the reader sees the detail).
    Primary,
    /// The read replica (`--read-database`).
    Replica,
    /// The primary, because the replica did not answer (down or unreachable).
    Fallback,
}

impl ReadSource {
    /// The code the API answers with.
    pub fn code(self) -> &'static str {
        match self {
            ReadSource::Primary => "primary",
            ReadSource::Replica => "replica",
            ReadSource::Fallback => "primary-fallback",
        }
    }
}

/// The use cases and everything they share. Cheap to clone (one `Arc`).
#[derive(Debug, Clone)]
pub struct App {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Arc<dyn Store>,
    /// Where the public boards and the driver's page read: a read replica, or `store` itself.
    reads: Arc<dyn Store>,
    /// Until when (on the ticker) the replica is taken for down, after a read there failed.
    replica_down_until: std::sync::Mutex<Option<std::time::Duration>>,
    /// Public reads answered from the primary because the replica was down.
    fallbacks: std::sync::atomic::AtomicU64,
    clock: Arc<dyn Clock>,
    ticker: Arc<dyn Ticker>,
    entropy: Arc<dyn Entropy>,
    config: Config,
    caches: caches::Caches,
    events: events::EventBus,
    sims: simulations::Registry,
    logins: throttle::LoginThrottle,
    /// Position reports per client address (`gate::POSITIONS_BURST`, then one a second).
    positions: throttle::RateLimit,
    held: leases::Held,
}

impl App {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, ticker: Arc<dyn Ticker>, entropy: Arc<dyn Entropy>, config: Config) -> Self {
        App {
            inner: Arc::new(Inner {
                reads: store.clone(),
                replica_down_until: Default::default(),
                fallbacks: Default::default(),
                store,
                clock,
                ticker,
                entropy,
                config,
                caches: Default::default(),
                events: events::EventBus::new(),
                sims: Default::default(),
                logins: Default::default(),
                positions: throttle::RateLimit::new(gate::POSITIONS_BURST, gate::POSITIONS_EVERY_MS),
                held: Default::default(),
            }),
        }
    }

    pub fn reference(&self) -> reference::Reference<'_> {
        reference::Reference(self)
    }
    pub fn accounts(&self) -> accounts::Accounts<'_> {
        accounts::Accounts(self)
    }
    pub fn goods(&self) -> goods::Goods<'_> {
        goods::Goods(self)
    }
    pub fn gate(&self) -> gate::Gate<'_> {
        gate::Gate(self)
    }
    pub fn reports(&self) -> reports::Reports<'_> {
        reports::Reports(self)
    }
    pub fn simulations(&self) -> simulations::Simulations<'_> {
        simulations::Simulations(self)
    }
    pub fn audit(&self) -> audit::Audit<'_> {
        audit::Audit(self)
    }

    /// The app, with the public boards and the driver's page read from `reads` (a read replica
    /// of the store's database; see `gate::Gate::public_board`). Writes, sessions, reference data
    /// and everything an officer acts on stay on the store. Called while composing the app,
    /// before it is cloned.
    pub fn reading_from(mut self, reads: Arc<dyn Store>) -> Self {
        Arc::get_mut(&mut self.inner).expect("the read store is set before the app is shared").reads = reads;
        self
    }

    /// The store the public boards and the driver's page read (the store itself unless
    /// [`Self::reading_from`] named a replica).
    pub fn reads(&self) -> &Arc<dyn Store> {
        &self.inner.reads
    }

    /// Whether public reads go to the store itself (no replica was named).
    pub fn reads_primary(&self) -> bool {
        Arc::ptr_eq(&self.inner.reads, &self.inner.store)
    }

    /// How far the read store is behind the primary, in seconds (`None`: it is the primary, or
    /// the replica is taken for down and the primary answers instead).
    pub async fn replica_lag(&self) -> Result<Option<f64>> {
        if self.replica_down() {
            return Ok(None);
        }
        Ok(self.inner.reads.replica_lag().await?)
    }

    /// Public reads answered from the primary so far because the replica was down.
    pub fn replica_fallbacks(&self) -> u64 {
        self.inner.fallbacks.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn replica_down(&self) -> bool {
        let until = *self.inner.replica_down_until.lock().expect("not poisoned");
        until.is_some_and(|u| self.ticker().elapsed() < u)
    }

    /// Where a public read goes now: the replica, or the primary when there is none or while the
    /// replica is taken for down (counted as a fallback).
    pub(crate) fn public_reads(&self) -> (&dyn Store, ReadSource) {
        if Arc::ptr_eq(&self.inner.reads, &self.inner.store) {
            (self.inner.store.as_ref(), ReadSource::Primary)
        } else if self.replica_down() {
            self.inner.fallbacks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            (self.inner.store.as_ref(), ReadSource::Fallback)
        } else {
            (self.inner.reads.as_ref(), ReadSource::Replica)
        }
    }

    /// A read on the replica failed with `e`: when the database did not answer (down,
    /// unreachable), the replica is taken for down for [`REPLICA_RETRY`] and the read is made on
    /// the primary instead (counted as a fallback); `true` then.
    pub(crate) fn replica_failed(&self, e: &AppError) -> bool {
        if !matches!(e, AppError::Store(cuakhau_store::StoreError::Backend(_))) {
            return false;
        }
        tracing::warn!("the read replica did not answer ({e:?}); reading the primary for {REPLICA_RETRY:?}");
        *self.inner.replica_down_until.lock().expect("not poisoned") = Some(self.ticker().elapsed() + REPLICA_RETRY);
        self.inner.fallbacks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        true
    }

    /// The store, for what no context owns yet (idempotency records, settings).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }
    pub fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }
    pub fn ticker(&self) -> &Arc<dyn Ticker> {
        &self.inner.ticker
    }
    pub fn entropy(&self) -> &dyn Entropy {
        self.inner.entropy.as_ref()
    }
    pub fn config(&self) -> &Config {
        &self.inner.config
    }
    /// Changes at gate pairs, for live boards.
    pub fn events(&self) -> &events::EventBus {
        &self.inner.events
    }

    /// The storage engine's name and whether the database holds the demo day; an error when the
    /// store does not answer.
    pub async fn health(&self) -> Result<(&'static str, bool)> {
        let demo = self.inner.store.setting("demo").await?;
        Ok((self.inner.store.engine(), demo.is_some()))
    }
}
