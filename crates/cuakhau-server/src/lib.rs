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
    /// Changes at gate pairs, for queue streams.
    events: tokio::sync::broadcast::Sender<routes::gate::GateEvent>,
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
            events: tokio::sync::broadcast::channel(256).0,
        }
    }
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    routes::router(state)
}

/// Serves `app` on `listener` until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}
