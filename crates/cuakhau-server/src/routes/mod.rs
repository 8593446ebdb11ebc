//! The router: one module per resource, plus health, metrics and the OpenAPI document.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{BodyLimit, lang_of};
use crate::metrics::{RequestLabels, RouteLabels};
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use cuakhau_core::Msg;
use std::time::Instant;

pub mod audit;
pub mod gate;
pub mod goods;
pub mod reference;
pub mod reports;
pub mod session;
pub mod simulations;
pub mod web;

/// Adds `Link: <path?query>; rel="next"` to a page's response (RFC 8288).
pub(crate) fn with_next(mut resp: Response, next: Option<String>) -> Response {
    if let Some(v) = next.and_then(|n| axum::http::HeaderValue::from_str(&format!("<{n}>; rel=\"next\"")).ok()) {
        resp.headers_mut().insert(header::LINK, v);
    }
    resp
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .merge(reference::routes())
        .merge(session::routes())
        .merge(audit::routes())
        .merge(simulations::routes())
        .merge(goods::routes())
        .merge(gate::routes())
        .merge(reports::routes())
        .route("/openapi.json", get(openapi));
    Router::new()
        .nest("/api/v1", api)
        .merge(web::routes())
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route_layer(middleware::from_fn_with_state(state.clone(), observe))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(state.config.body_limit_bytes))
        .with_state(state)
}

/// Logs each request, counts it, limits its time, and tells extractors the body limit.
async fn observe(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let lang = lang_of(req.headers());
    let method = req.method().to_string();
    let route = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string()).unwrap_or_default();
    req.extensions_mut().insert(BodyLimit(st.config.body_limit_bytes));
    let started = Instant::now();
    // Dropping the handler future on timeout rolls back any open transaction: nothing half-done.
    let res = match tokio::time::timeout(st.config.request_timeout, next.run(req)).await {
        Ok(r) => r,
        Err(_) => ApiError::new(lang, StatusCode::REQUEST_TIMEOUT, Msg::Timeout).into_response(),
    };
    let elapsed = started.elapsed();
    let status = res.status().as_u16();
    st.metrics.requests.get_or_create(&RequestLabels { method: method.clone(), route: route.clone(), status }).inc();
    st.metrics.latency.get_or_create(&RouteLabels { route: route.clone() }).observe(elapsed.as_secs_f64());
    tracing::info!(%method, %route, status, latency_ms = elapsed.as_secs_f64() * 1e3, "request");
    res
}

async fn not_found(req: Request) -> ApiError {
    let lang = lang_of(req.headers());
    ApiError::not_found(lang, req.uri().path().to_string())
}

#[utoipa::path(get, path = "/healthz", tag = "meta", responses((status = 200, body = cuakhau_api::Health)))]
pub async fn healthz(State(st): State<AppState>) -> Response {
    match st.store.setting("demo").await {
        Ok(demo) => {
            Json(cuakhau_api::Health { status: "ok".into(), engine: st.store.engine().into(), demo: demo.is_some() }).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(cuakhau_api::Health { status: "unavailable".into(), engine: st.store.engine().into(), demo: false }),
            )
                .into_response()
        }
    }
}

#[utoipa::path(get, path = "/metrics", tag = "meta", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(State(st): State<AppState>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], st.metrics.render()).into_response()
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], crate::openapi::json()).into_response()
}
