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
    /// Requests handled at once; one more is answered 503 at once, never queued. (An event
    /// stream counts while its first board is made, not while it stays open.)
    pub max_concurrent_requests: usize,
    /// A client must send a request's headers within this long, or its connection is closed.
    pub header_read_timeout: Duration,
    /// A client must send a request's body within this long, or it is answered 408.
    pub body_read_timeout: Duration,
    /// This process's name in `/metrics` (`cuakhau_instance_info`), among several on one database.
    pub instance: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            body_limit_bytes: 64 * 1024,
            request_timeout: Duration::from_secs(30),
            page_limit_max: 500,
            secure_cookies: true,
            max_concurrent_requests: 1024,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(15),
            instance: "local".into(),
        }
    }
}

/// Everything a handler needs, shared: the use cases and what only HTTP has.
#[derive(Debug, Clone)]
pub struct AppState {
    pub app: App,
    pub config: Arc<Config>,
    metrics: Arc<metrics::Metrics>,
    /// Board snapshots as bytes and the feeds that send them to every stream watching the same board
    /// (see `routes::stream`).
    boards: Arc<routes::stream::BoardCache>,
    /// True once the server is stopping: open event streams end, so that browsers see the
    /// connection drop and reconnect elsewhere instead of watching a frozen "live" board.
    closing: tokio::sync::watch::Sender<bool>,
    /// Permits for requests in flight (`Config::max_concurrent_requests`).
    in_flight: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    pub fn new(app: App, config: Config) -> Self {
        AppState {
            app,
            in_flight: Arc::new(tokio::sync::Semaphore::new(config.max_concurrent_requests.max(1))),
            metrics: Arc::new(metrics::Metrics::new(&config.instance)),
            config: Arc::new(config),
            boards: Default::default(),
            closing: tokio::sync::watch::channel(false).0,
        }
    }

    /// Counts one round of background `work` in `/metrics`.
    pub fn background_round(&self, work: &str) {
        self.metrics.rounds.get_or_create(&metrics::WorkLabels { work: work.to_string() }).inc();
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
///
/// Connections are served by hyper's HTTP/1 connection builder on tokio's timer, so that a client
/// that does not finish its headers within `Config::header_read_timeout` is cut off (axum's own
/// `serve` has no such limit); the peer's address reaches handlers (sign-in throttling).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt;
    let router = app(state.clone());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(state.config.header_read_timeout);
    tokio::pin!(shutdown);
    loop {
        // The shutdown future is polled first, always: the first poll is what installs a signal
        // handler, and it must be in place before the first connection is answered.
        let (stream, peer) = tokio::select! {
            biased;
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // Out of descriptors and the like: the listener stays; try the next connection.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
            router.clone().oneshot(req.map(axum::body::Body::new))
        });
        let conn = http.serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    state.close_streams();
    graceful.shutdown().await;
    Ok(())
}
