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
        .layer(middleware::from_fn(harden))
        .with_state(state)
}

/// On every request and response: refuses cookie-authenticated changes sent from another site
/// (CSRF: `Sec-Fetch-Site`, else `Origin` against `Host`); turns axum's bare 405s and plain-text
/// path rejections into problem+json in the caller's language; sets `X-Content-Type-Options`
/// and `Referrer-Policy`.
async fn harden(req: Request, next: Next) -> Response {
    let lang = lang_of(req.headers());
    if is_cross_site_cookie_write(&req) {
        return finish(ApiError::new(lang, StatusCode::FORBIDDEN, Msg::CrossSite).into_response());
    }
    let res = next.run(req).await;
    let plain = res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_none_or(|ct| ct.starts_with("text/plain"));
    let res = match res.status() {
        StatusCode::METHOD_NOT_ALLOWED => {
            let allow = res.headers().get(header::ALLOW).cloned();
            let mut r = ApiError::new(lang, StatusCode::METHOD_NOT_ALLOWED, Msg::MethodNotAllowed).into_response();
            if let Some(a) = allow {
                r.headers_mut().insert(header::ALLOW, a);
            }
            r
        }
        // Path extractors (`Path<i64>`) reject with English text/plain: say it as a problem.
        StatusCode::BAD_REQUEST if plain => ApiError::new(lang, StatusCode::BAD_REQUEST, Msg::BadPath).into_response(),
        _ => res,
    };
    finish(res)
}

fn finish(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, header::HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, header::HeaderValue::from_static("same-origin"));
    res
}

/// A state-changing request that a browser sent from another site's page with the session
/// cookie. Bearer-token requests are not at risk (a page cannot add the header cross-site); a
/// request with neither `Sec-Fetch-Site` nor `Origin` is not from a browser page.
fn is_cross_site_cookie_write(req: &Request) -> bool {
    use axum::http::Method;
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    let h = req.headers();
    if h.contains_key(header::AUTHORIZATION)
        || !h.get_all(header::COOKIE).iter().any(|c| c.to_str().is_ok_and(|c| c.contains(crate::auth::COOKIE)))
    {
        return false;
    }
    if let Some(site) = h.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return !matches!(site, "same-origin" | "none");
    }
    match (h.get(header::ORIGIN).and_then(|v| v.to_str().ok()), h.get(header::HOST).and_then(|v| v.to_str().ok())) {
        (Some(origin), Some(host)) => origin.split_once("://").map(|(_, rest)| rest) != Some(host),
        (Some(_), None) => true,
        (None, _) => false,
    }
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
