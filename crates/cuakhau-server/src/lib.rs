//! cuakhau's HTTP server as a library: the router, authentication, problem+json errors, OpenAPI
//! and metrics.
//!
//! The server is a value: [`app`] builds a `Router` from an [`AppState`], which tests drive with
//! `oneshot` and no socket; [`serve`] runs it on a listener until a shutdown future resolves.
//! Routes parse, ask the use cases (`cuakhau_app::App`) on behalf of the caller, and turn the
//! answer into wire types or one [`ApiError`]. It owns no clock, timer or randomness: they come
//! in through the app's [`Clock`], [`Ticker`] and [`Entropy`].

#![forbid(unsafe_code)]

use axum::Router;
use cuakhau_app::App;
use std::sync::Arc;
use std::time::Duration;

mod auth;
pub mod background;
mod error;
mod extract;
mod metrics;
pub mod openapi;
mod routes;

pub use cuakhau_app::demo;
pub use cuakhau_app::secrets::{hash_password, verify_password};
pub use cuakhau_app::{Clock, Entropy, Ticker};
pub use error::ApiError;

/// HTTP limits and settings. One struct instead of loose parameters; the rules' own settings
/// are the app's (`cuakhau_app::Config`).
#[derive(Debug, Clone)]
pub struct Config {
    /// Largest accepted request body.
    pub body_limit_bytes: usize,
    /// A request that takes longer is cut off with 408.
    pub request_timeout: Duration,
    /// Largest page a list endpoint returns.
    pub page_limit_max: usize,
    /// Mark the session cookie `Secure` (off only for plain-HTTP development).
    pub secure_cookies: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config { body_limit_bytes: 64 * 1024, request_timeout: Duration::from_secs(30), page_limit_max: 500, secure_cookies: true }
    }
}

/// Everything a handler needs, shared: the use cases and what only HTTP has.
#[derive(Debug, Clone)]
pub struct AppState {
    pub app: App,
    pub config: Arc<Config>,
    metrics: Arc<metrics::Metrics>,
    /// Board snapshots as bytes, shared by every stream watching the same board (see `routes::gate`).
    boards: Arc<routes::gate::BoardCache>,
    /// True once the server is stopping: open event streams end, so that browsers see the
    /// connection drop and reconnect elsewhere instead of watching a frozen "live" board.
    closing: tokio::sync::watch::Sender<bool>,
}

impl AppState {
    pub fn new(app: App, config: Config) -> Self {
        AppState {
            app,
            config: Arc::new(config),
            metrics: Arc::new(metrics::Metrics::new()),
            boards: Default::default(),
            closing: tokio::sync::watch::channel(false).0,
        }
    }

    /// Ends every open event stream (called when the server stops).
    pub fn close_streams(&self) {
        self.closing.send_replace(true);
    }
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
