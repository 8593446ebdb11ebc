//! cuakhau's HTTP server as a library: the router, authentication, problem+json errors, OpenAPI
//! and metrics.
//!
//! The server is a value: [`app`] builds a `Router` from an [`AppState`], which tests drive with
//! `oneshot` and no socket; [`serve`] runs it on a listener until a shutdown future resolves. It
//! owns no clock and no randomness: both come in through [`Clock`] and [`Entropy`].

#![forbid(unsafe_code)]

use axum::Router;
use cuakhau_core::Timestamp;
use cuakhau_store::Store;
use std::sync::Arc;
use std::time::Duration;

mod auth;
pub mod background;
pub mod demo;
mod error;
mod extract;
mod metrics;
pub mod openapi;
mod routes;
mod throttle;

pub use auth::{hash_password, verify_password};
pub use error::ApiError;
pub use routes::session::new_user as validate_new_user;

/// The time, as the server needs it. The CLI passes the system clock; tests pass a fixed one.
pub trait Clock: Send + Sync + std::fmt::Debug + 'static {
    fn now(&self) -> Timestamp;
}

/// Random bytes for session tokens and password salts.
pub trait Entropy: Send + Sync + std::fmt::Debug + 'static {
    fn fill(&self, buf: &mut [u8]);
}

/// Limits and lifetimes. One struct instead of loose parameters.
#[derive(Debug, Clone)]
pub struct Config {
    /// Largest accepted request body.
    pub body_limit_bytes: usize,
    /// A request that takes longer is cut off with 408.
    pub request_timeout: Duration,
    /// How long a login lasts.
    pub session_ttl_s: i64,
    /// Largest page a list endpoint returns.
    pub page_limit_max: usize,
    /// Mark the session cookie `Secure` (off only for plain-HTTP development).
    pub secure_cookies: bool,
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
}

impl Default for Config {
    fn default() -> Self {
        Config {
            body_limit_bytes: 64 * 1024,
            request_timeout: Duration::from_secs(30),
            session_ttl_s: 12 * 3600,
            page_limit_max: 500,
            secure_cookies: true,
            simulation_slots: 2,
            gate_rules: Default::default(),
            risk_rules: cuakhau_data::parse_risk_rules(cuakhau_data::BUNDLED_RISK_RULES).expect("the bundled risk rules parse"),
            max_booking_ahead_h: 7 * 24,
            webhook_url: None,
        }
    }
}

/// Everything a handler needs, shared.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub entropy: Arc<dyn Entropy>,
    pub config: Arc<Config>,
    metrics: Arc<metrics::Metrics>,
    sims: Arc<routes::simulations::Simulations>,
    reference: Arc<ReferenceCache>,
    /// Recently checked sessions (see [`SessionCache`]).
    sessions: Arc<SessionCache>,
    /// Suspensions per gate pair, read often (every calendar and dispatch), changed rarely.
    suspensions: Arc<SuspensionCache>,
    /// Board snapshots shared by every stream watching the same board (see `routes::gate`).
    boards: Arc<routes::gate::BoardCache>,
    /// Changes at gate pairs, for queue streams.
    events: tokio::sync::broadcast::Sender<routes::gate::GateEvent>,
    /// True once the server is stopping: open event streams end, so that browsers see the
    /// connection drop and reconnect elsewhere instead of watching a frozen "live" board.
    closing: tokio::sync::watch::Sender<bool>,
    /// Failed sign-ins per account and per address (see [`throttle`]).
    logins: Arc<throttle::LoginThrottle>,
}

/// The reference data, read once and kept: every list and every slot calendar needs it, and it
/// changes rarely. This node's own writes clear it; other nodes' writes show within `TTL`.
#[derive(Debug, Default)]
struct ReferenceCache {
    slot: std::sync::RwLock<Option<(std::time::Instant, Arc<cuakhau_core::ReferenceData>)>>,
}

impl ReferenceCache {
    const TTL: Duration = Duration::from_secs(5);
}

/// Sessions checked in the last few seconds, by token hash: a busy client's every request would
/// otherwise read the session table. This node's logouts and password changes evict at once;
/// another node's take effect within `TTL`, as do expiries.
#[derive(Debug, Default)]
struct SessionCache {
    map: std::sync::Mutex<std::collections::HashMap<String, (Timestamp, cuakhau_store::User)>>,
}

/// Per gate pair: when read, and its suspensions.
type SuspensionCache =
    std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, Arc<Vec<cuakhau_core::goods::slots::Suspension>>)>>;

impl SessionCache {
    const TTL: Duration = Duration::from_secs(5);
    const MAX: usize = 100_000;
}

impl AppState {
    /// The reference data, from the cache when fresh.
    pub async fn reference(&self) -> Result<Arc<cuakhau_core::ReferenceData>, cuakhau_store::StoreError> {
        if let Some((_, data)) =
            self.reference.slot.read().expect("not poisoned").as_ref().filter(|(at, _)| at.elapsed() < ReferenceCache::TTL)
        {
            return Ok(data.clone());
        }
        let data = Arc::new(self.store.reference().await?);
        *self.reference.slot.write().expect("not poisoned") = Some((std::time::Instant::now(), data.clone()));
        Ok(data)
    }

    /// Forgets the cached reference data (after a write to it).
    pub fn reference_changed(&self) {
        *self.reference.slot.write().expect("not poisoned") = None;
    }

    /// The user of a live session, from the cache when checked within the last seconds.
    pub async fn session_user(&self, token_hash: &str) -> Result<Option<cuakhau_store::User>, cuakhau_store::StoreError> {
        // Cache age is read on the injected clock, so that tests moving time see expiries at once.
        let now = self.clock.now();
        let fresh = |at: &Timestamp| *at <= now && now.as_micros() - at.as_micros() < SessionCache::TTL.as_micros() as i64;
        if let Some((_, u)) = self.sessions.map.lock().expect("not poisoned").get(token_hash).filter(|(at, _)| fresh(at)) {
            return Ok(Some(u.clone()));
        }
        let user = self.store.session_user(token_hash, now).await?;
        let mut map = self.sessions.map.lock().expect("not poisoned");
        match &user {
            Some(u) => {
                if map.len() >= SessionCache::MAX {
                    map.retain(|_, (at, _)| fresh(at));
                }
                map.insert(token_hash.to_string(), (now, u.clone()));
            }
            None => {
                map.remove(token_hash);
            }
        }
        Ok(user)
    }

    /// Forgets cached sessions: one token's, or every session of a user.
    pub fn sessions_changed(&self, token_hash: Option<&str>, username: Option<&str>) {
        let mut map = self.sessions.map.lock().expect("not poisoned");
        if let Some(t) = token_hash {
            map.remove(t);
        }
        if let Some(name) = username {
            map.retain(|_, (_, u)| u.username != name);
        }
    }

    /// A gate pair's suspensions that end after `from` (cached like the reference data).
    pub async fn suspensions(
        &self,
        pair: &cuakhau_core::GatePairId,
        from: Timestamp,
    ) -> Result<Arc<Vec<cuakhau_core::goods::slots::Suspension>>, cuakhau_store::StoreError> {
        // Cache from a day back, so that any window starting in the last day is covered.
        let horizon = self.clock.now().plus_seconds(-86_400);
        if let Some((_, list)) = self
            .suspensions
            .lock()
            .expect("not poisoned")
            .get(pair.as_str())
            .filter(|(at, _)| from >= horizon && at.elapsed() < ReferenceCache::TTL)
        {
            return Ok(list.clone());
        }
        let start = if from >= horizon { horizon } else { from };
        let list: Arc<Vec<_>> =
            Arc::new(self.store.suspensions(pair, start, Timestamp(i64::MAX)).await?.into_iter().map(|(_, s)| s).collect());
        if from >= horizon {
            self.suspensions.lock().expect("not poisoned").insert(pair.as_str().to_string(), (std::time::Instant::now(), list.clone()));
        }
        Ok(list)
    }

    /// Forgets a gate pair's cached suspensions (after adding one).
    pub fn suspensions_changed(&self, pair: &cuakhau_core::GatePairId) {
        self.suspensions.lock().expect("not poisoned").remove(pair.as_str());
    }
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, entropy: Arc<dyn Entropy>, config: Config) -> Self {
        AppState {
            store,
            clock,
            entropy,
            config: Arc::new(config),
            metrics: Arc::new(metrics::Metrics::new()),
            sims: Default::default(),
            reference: Default::default(),
            sessions: Default::default(),
            suspensions: Default::default(),
            boards: Default::default(),
            events: tokio::sync::broadcast::channel(256).0,
            closing: tokio::sync::watch::channel(false).0,
            logins: Default::default(),
        }
    }

    /// Ends every open event stream (called when the server stops).
    pub fn close_streams(&self) {
        self.closing.send_replace(true);
    }
}

/// A gate pair's live queue board with full plates (for the CLI and other trusted callers).
pub async fn queue_board(
    st: &AppState,
    pair: &cuakhau_core::GatePairId,
    direction: cuakhau_core::Direction,
) -> Result<cuakhau_api::QueueOut, ApiError> {
    routes::gate::snapshot(st, cuakhau_core::Lang::En, pair, direction, true).await
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    routes::router(state)
}

/// Serves `state`'s application on `listener` until `shutdown` resolves; then ends the open event
/// streams (a stream never finishes by itself) and finishes in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = app(state.clone());
    // The peer's address reaches handlers (sign-in throttling per address).
    axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(async move {
            shutdown.await;
            state.close_streams();
        })
        .await
}
