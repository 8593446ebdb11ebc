//! The router: one module per resource, plus health, metrics and the OpenAPI document.
//!
//! Every API route is registered once, with `utoipa_axum::routes!`: the path and method come from
//! the handler's `#[utoipa::path]`, so the router and the OpenAPI document cannot disagree.

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
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub mod audit;
pub mod gate;
pub mod goods;
pub mod reference;
pub mod reports;
pub mod session;
pub mod simulations;
pub mod stream;
pub mod web;

/// Adds `Link: <path?query>; rel="next"` to a page's response (RFC 8288).
pub(crate) fn with_next(mut resp: Response, next: Option<String>) -> Response {
    if let Some(v) = next.and_then(|n| axum::http::HeaderValue::from_str(&format!("<{n}>; rel=\"next\"")).ok()) {
        resp.headers_mut().insert(header::LINK, v);
    }
    resp
}

/// Every documented route with its OpenAPI entry: the one list of what the API serves.
pub fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(crate::openapi::ApiDoc::openapi())
        .merge(reference::routes())
        .merge(session::routes())
        .merge(audit::routes())
        .merge(simulations::routes())
        .merge(goods::routes())
        .merge(gate::routes())
        .merge(reports::routes())
        .routes(routes!(healthz))
        .routes(routes!(metrics))
}

pub fn router(state: AppState) -> Router {
    let (api, doc) = documented().split_for_parts();
    let doc = crate::openapi::json(doc);
    api.route(
        "/api/v1/openapi.json",
        get(move || async move { ([(header::CONTENT_TYPE, "application/json")], doc.clone()).into_response() }),
    )
    .merge(web::routes())
    .route_layer(middleware::from_fn_with_state(state.clone(), observe))
    .route_layer(middleware::from_fn_with_state(state.clone(), idempotent))
    .fallback(not_found)
    .layer(DefaultBodyLimit::max(state.config.body_limit_bytes))
    .layer(middleware::from_fn_with_state(state.clone(), limit))
    .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked))
    .layer(middleware::from_fn(harden))
    .layer(tower_http::compression::CompressionLayer::new())
    .with_state(state)
}

/// `Idempotency-Key` on POST: the first request with a key runs and its answer is kept; the same
/// request again (same caller, method, path and body) gets that answer back with
/// `Idempotent-Replayed: true` instead of running twice; the key with another request is refused.
/// Server errors are not kept, so a retry runs again. Kept in the database: every process agrees.
fn idempotency_key(lang: cuakhau_core::Lang, req: &Request) -> Result<Option<String>, ApiError> {
    let Some(v) = req.headers().get("idempotency-key") else { return Ok(None) };
    let bad = || {
        ApiError::field(
            lang,
            cuakhau_core::FieldError::new("Idempotency-Key", cuakhau_core::Problem::Other("1 to 200 visible ASCII characters")),
        )
    };
    let key = v.to_str().map_err(|_| bad())?;
    if key.is_empty() || key.len() > 200 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad());
    }
    Ok(Some(key.to_string()))
}

async fn idempotent(State(st): State<AppState>, req: Request, next: Next) -> Response {
    use sha2::{Digest, Sha256};
    let lang = lang_of(req.headers());
    if req.method() != axum::http::Method::POST {
        return next.run(req).await;
    }
    let key = match idempotency_key(lang, &req) {
        Ok(Some(k)) => k,
        Ok(None) => return next.run(req).await,
        Err(e) => return e.into_response(),
    };
    // Whose key: the credentials' hash (a key is private to its caller).
    let who = req
        .headers()
        .get(header::AUTHORIZATION)
        .or_else(|| req.headers().get(header::COOKIE))
        .map(|v| v.as_bytes().to_vec())
        .unwrap_or_default();
    let scope = format!("{}:{key}", hex::encode(Sha256::digest(&who)));
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, st.config.body_limit_bytes).await else {
        return ApiError::new(lang, StatusCode::PAYLOAD_TOO_LARGE, Msg::BodyTooLarge { limit_bytes: st.config.body_limit_bytes })
            .into_response();
    };
    let mut h = Sha256::new();
    h.update(parts.method.as_str());
    h.update([0]);
    h.update(parts.uri.path());
    h.update([0]);
    h.update(&bytes);
    let request_hash = hex::encode(h.finalize());
    let now = st.app.now();
    let claimed = st.app.store().idempotency_claim(&scope, &request_hash, now, now.plus_seconds(-60)).await;
    match claimed {
        Err(e) => return ApiError::store(lang, e).into_response(),
        Ok(Some((hash, _))) if hash != request_hash => {
            return ApiError::field(
                lang,
                cuakhau_core::FieldError::new("Idempotency-Key", cuakhau_core::Problem::Other("was used for another request")),
            )
            .into_response();
        }
        Ok(Some((_, None))) => {
            let mut e = ApiError::field(
                lang,
                cuakhau_core::FieldError::new("Idempotency-Key", cuakhau_core::Problem::Other("a request with this key is still running")),
            );
            e.status = StatusCode::CONFLICT;
            return e.into_response();
        }
        Ok(Some((_, Some((status, body))))) => {
            let ct = if status >= 400 { "application/problem+json" } else { "application/json" };
            let mut res = (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), [(header::CONTENT_TYPE, ct)], body).into_response();
            res.headers_mut().insert("idempotent-replayed", header::HeaderValue::from_static("true"));
            return res;
        }
        Ok(None) => {}
    }
    let res = next.run(Request::from_parts(parts, axum::body::Body::from(bytes))).await;
    let (parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    let keep = !parts.status.is_server_error();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let _ = st.app.store().idempotency_finish(&scope, keep.then_some((parts.status.as_u16(), text.as_str()))).await;
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// A handler panicked: logged here with its message; `harden`, which knows the caller's
/// language, answers the problem.
#[derive(Debug, Clone, Copy)]
struct Panicked;

fn panicked(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = err.downcast_ref::<String>().map(String::as_str).or_else(|| err.downcast_ref::<&str>().copied()).unwrap_or("(no message)");
    tracing::error!(panic = detail, "a request's handler panicked");
    let mut res = StatusCode::INTERNAL_SERVER_ERROR.into_response();
    res.extensions_mut().insert(Panicked);
    res
}

/// Limits on every request: at most `max_concurrent_requests` at once (one more is answered 503
/// with `Retry-After` at once, never queued), and the body read within `body_read_timeout` and
/// `body_limit_bytes` (a slow client gets 408, a large body 413) before any handler runs.
async fn limit(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let lang = lang_of(req.headers());
    let Ok(_permit) = st.in_flight.clone().try_acquire_owned() else {
        return ApiError::new(lang, StatusCode::SERVICE_UNAVAILABLE, Msg::Overloaded).with_header(header::RETRY_AFTER, 1).into_response();
    };
    let (parts, body) = req.into_parts();
    let limit = st.config.body_limit_bytes;
    let bytes = match tokio::time::timeout(st.config.body_read_timeout, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => return ApiError::new(lang, StatusCode::PAYLOAD_TOO_LARGE, Msg::BodyTooLarge { limit_bytes: limit }).into_response(),
        Err(_) => return ApiError::new(lang, StatusCode::REQUEST_TIMEOUT, Msg::Timeout).into_response(),
    };
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes))).await
}

/// On every request and response: refuses cookie-authenticated changes sent from another site
/// (CSRF: `Sec-Fetch-Site`, else `Origin` against `Host`); turns axum's bare 405s and plain-text
/// path rejections and panics into problem+json in the caller's language; sets
/// `X-Content-Type-Options` and `Referrer-Policy`.
async fn harden(req: Request, next: Next) -> Response {
    let lang = lang_of(req.headers());
    if is_cross_site_cookie_write(&req) {
        return finish(ApiError::new(lang, StatusCode::FORBIDDEN, Msg::CrossSite).into_response());
    }
    let res = next.run(req).await;
    if res.extensions().get::<Panicked>().is_some() {
        return finish(ApiError::new(lang, StatusCode::INTERNAL_SERVER_ERROR, Msg::Internal).into_response());
    }
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
    let started = st.app.ticker().elapsed();
    // Dropping the handler future on timeout rolls back any open transaction: nothing half-done.
    let res = match tokio::time::timeout(st.config.request_timeout, next.run(req)).await {
        Ok(r) => r,
        Err(_) => ApiError::new(lang, StatusCode::REQUEST_TIMEOUT, Msg::Timeout).into_response(),
    };
    let elapsed = st.app.ticker().elapsed().saturating_sub(started);
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
    match st.app.health().await {
        Ok((engine, demo)) => Json(cuakhau_api::Health { status: "ok".into(), engine: engine.into(), demo }).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(cuakhau_api::Health { status: "unavailable".into(), engine: st.app.store().engine().into(), demo: false }),
            )
                .into_response()
        }
    }
}

#[utoipa::path(get, path = "/metrics", tag = "meta", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(State(st): State<AppState>) -> Response {
    match st.app.replica_lag().await {
        Ok(Some(lag)) => st.metrics.set_replica_lag(lag),
        Ok(None) => {}
        Err(e) => tracing::warn!("the read replica's lag could not be read: {e}"),
    }
    st.metrics.set_replica_fallbacks(st.app.replica_fallbacks());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], st.metrics.render()).into_response()
}
