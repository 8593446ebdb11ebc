//! The web console's files, compiled into the binary: no CDN, no tile server, nothing fetched
//! from elsewhere. `/` is the single page; `/assets/*` its script, style and map geometry.

use crate::AppState;
use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

const INDEX: &str = include_str!("../../web/index.html");
const APP_JS: &str = include_str!("../../web/app.js");
const APP_CSS: &str = include_str!("../../web/app.css");
/// Natural Earth 1:10m shapes of the border region (see web/tools/make-map.mjs).
const MAP_JSON: &str = include_str!("../../web/map.json");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { asset("text/html; charset=utf-8", INDEX, "no-cache") }))
        .route("/assets/app.js", get(|| async { asset("text/javascript; charset=utf-8", APP_JS, "no-cache") }))
        .route("/assets/app.css", get(|| async { asset("text/css; charset=utf-8", APP_CSS, "no-cache") }))
        .route("/assets/map.json", get(|| async { asset("application/json", MAP_JSON, "public, max-age=86400") }))
}

fn asset(content_type: &'static str, body: &'static str, cache: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, cache),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
            ),
        ],
        body,
    )
        .into_response()
}
