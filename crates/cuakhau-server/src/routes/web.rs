//! The web console's files, compiled into the binary: no CDN, no tile server, nothing fetched
//! from elsewhere. `/` is the single page (`no-cache`); every other file is under
//! `/assets/VERSION/…`, where VERSION is a hash of all the files and the message catalogue, so the
//! browser may keep them for a year (`immutable`) and a new build changes every URL at once. The
//! ES modules import each other by relative path, so they stay under the same VERSION.
//! `i18n/LANG.json` is the console's message catalogue, generated from
//! `cuakhau_core::i18n::CONSOLE`. Every answer carries an `ETag`, and a matching `If-None-Match`
//! gets 304; compression (gzip, brotli) is the router's layer. `/qr.svg?text=URL` draws a link as
//! a QR code (the booking confirmation's link to the driver's page).

use axum::Router;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cuakhau_core::Lang;
use cuakhau_core::i18n::console_messages;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::LazyLock;

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JSON: &str = "application/json";
const SVG: &str = "image/svg+xml";

const INDEX: &str = include_str!("../../web/index.html");
/// The console's files by path under `/assets/VERSION/`.
const FILES: &[(&str, &str, &str)] = &[
    ("app.js", JS, include_str!("../../web/app.js")),
    ("api.js", JS, include_str!("../../web/api.js")),
    ("dom.js", JS, include_str!("../../web/dom.js")),
    ("i18n.js", JS, include_str!("../../web/i18n.js")),
    ("state.js", JS, include_str!("../../web/state.js")),
    ("ui.js", JS, include_str!("../../web/ui.js")),
    ("pages/public.js", JS, include_str!("../../web/pages/public.js")),
    ("pages/board.js", JS, include_str!("../../web/pages/board.js")),
    ("pages/driver.js", JS, include_str!("../../web/pages/driver.js")),
    ("pages/enterprise.js", JS, include_str!("../../web/pages/enterprise.js")),
    ("pages/desk.js", JS, include_str!("../../web/pages/desk.js")),
    ("pages/operator.js", JS, include_str!("../../web/pages/operator.js")),
    ("pages/planner.js", JS, include_str!("../../web/pages/planner.js")),
    ("pages/login.js", JS, include_str!("../../web/pages/login.js")),
    ("app.css", CSS, include_str!("../../web/app.css")),
    ("favicon.svg", SVG, include_str!("../../web/favicon.svg")),
    // Natural Earth 1:10m shapes of the border region (see web/tools/make-map.mjs).
    ("map.json", JSON, include_str!("../../web/map.json")),
];

/// One file as served: its type, bytes and validator.
struct File {
    content_type: &'static str,
    body: Vec<u8>,
    etag: HeaderValue,
}

impl File {
    fn new(content_type: &'static str, body: Vec<u8>) -> File {
        let etag = HeaderValue::from_str(&format!("W/\"{}\"", hex::encode(&Sha256::digest(&body)[..12])))
            .unwrap_or(HeaderValue::from_static("W/\"0\""));
        File { content_type, body, etag }
    }
}

struct Assets {
    version: String,
    index: File,
    files: HashMap<String, File>,
}

/// The console's catalogue in one language, as one JSON object `{id: message}`.
fn catalogue(lang: Lang) -> Vec<u8> {
    let map: serde_json::Map<String, serde_json::Value> =
        console_messages(lang).map(|(id, text)| (id.to_string(), serde_json::Value::from(text))).collect();
    serde_json::to_vec(&map).unwrap_or_default()
}

static ASSETS: LazyLock<Assets> = LazyLock::new(|| {
    let mut files: HashMap<String, File> =
        FILES.iter().map(|(path, ct, body)| (path.to_string(), File::new(ct, body.as_bytes().to_vec()))).collect();
    for lang in Lang::ALL {
        files.insert(format!("i18n/{}.json", lang.code()), File::new(JSON, catalogue(lang)));
    }
    let mut paths: Vec<&String> = files.keys().collect();
    paths.sort();
    let mut h = Sha256::new();
    for p in paths {
        h.update(p.as_bytes());
        h.update(files[p].etag.as_bytes());
    }
    let version = hex::encode(&h.finalize()[..6]);
    let index = File::new(HTML, INDEX.replace("{v}", &version).into_bytes());
    Assets { version, index, files }
});

pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(|h: HeaderMap| async move { answer(&h, &ASSETS.index, "no-cache") }))
        .route("/favicon.ico", get(|h: HeaderMap| async move { answer(&h, &ASSETS.files["favicon.svg"], "public, max-age=86400") }))
        .route("/assets/{version}/{*path}", get(asset))
        .route("/qr.svg", get(qr))
}

#[derive(serde::Deserialize)]
struct QrQuery {
    text: String,
}

/// The longest link drawn as a QR code: a driver's link is about 80 bytes.
const QR_MAX_BYTES: usize = 512;

/// A web link as a QR code in SVG (black on white, with the quiet zone), for phones to scan.
async fn qr(Query(q): Query<QrQuery>) -> Response {
    let link = q.text.starts_with("http://") || q.text.starts_with("https://");
    if !link || q.text.len() > QR_MAX_BYTES {
        return StatusCode::BAD_REQUEST.into_response();
    }
    let Ok(code) = qrcode::QrCode::new(q.text.as_bytes()) else { return StatusCode::BAD_REQUEST.into_response() };
    let svg = code.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).build();
    ([(header::CONTENT_TYPE, SVG), (header::CACHE_CONTROL, "public, max-age=86400")], svg).into_response()
}

async fn asset(Path((version, path)): Path<(String, String)>, headers: HeaderMap) -> Response {
    let Some(file) = ASSETS.files.get(&path) else { return StatusCode::NOT_FOUND.into_response() };
    // A page loaded before an upgrade may still ask for its old version: it gets today's file,
    // which it must not keep.
    let cache = if version == ASSETS.version { "public, max-age=31536000, immutable" } else { "no-cache" };
    answer(&headers, file, cache)
}

/// Whether `If-None-Match` names this validator (weak comparison, RFC 9110 §13.1.2).
fn matches(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let bare = |s: &str| s.trim().trim_start_matches("W/").to_string();
    let Some(want) = etag.to_str().ok().map(bare) else { return false };
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim() == "*" || bare(tag) == want)
}

fn answer(headers: &HeaderMap, file: &'static File, cache: &'static str) -> Response {
    let common = [
        (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        (header::ETAG, file.etag.clone()),
        (header::VARY, HeaderValue::from_static("accept-encoding")),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
            ),
        ),
    ];
    if matches(headers, &file.etag) {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    (common, [(header::CONTENT_TYPE, HeaderValue::from_static(file.content_type))], file.body.as_slice()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    fn scripts() -> impl Iterator<Item = (&'static str, &'static str)> {
        FILES.iter().filter(|(p, _, _)| p.ends_with(".js")).map(|(p, _, body)| (*p, *body))
    }

    /// Where a script calls `t("…")` (not `foo.t(` or `get(`), the ids it names.
    fn message_ids(src: &str) -> Vec<&str> {
        let mut ids = Vec::new();
        let mut rest = src;
        while let Some(i) = rest.find("t(\"") {
            let before = rest[..i].chars().next_back();
            let tail = &rest[i + 3..];
            if !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.' || c == '$')
                && let Some(end) = tail.find('"')
            {
                ids.push(&tail[..end]);
            }
            rest = tail;
        }
        ids
    }

    #[test]
    fn every_script_in_the_web_folder_is_served() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
        let mut on_disk = Vec::new();
        for sub in ["", "pages"] {
            for e in std::fs::read_dir(dir.join(sub)).expect("web/ is readable") {
                let name = e.expect("an entry").file_name().into_string().expect("a UTF-8 name");
                if name.ends_with(".js") {
                    on_disk.push(if sub.is_empty() { name } else { format!("{sub}/{name}") });
                }
            }
        }
        on_disk.sort();
        let mut served: Vec<String> = scripts().map(|(p, _)| p.to_string()).collect();
        served.sort();
        assert_eq!(on_disk, served);
    }

    #[test]
    fn only_the_dom_module_writes_markup() {
        let sinks = ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "createContextualFragment"];
        for (path, src) in scripts().filter(|(p, _)| *p != "dom.js") {
            for sink in sinks {
                assert!(!src.contains(sink), "{path} uses {sink}: build markup with html`` and render it with dom.js");
            }
        }
        // The checker itself can fail: the dom module does use them.
        let dom = scripts().find(|(p, _)| *p == "dom.js").map(|(_, s)| s).unwrap_or_default();
        assert!(dom.contains("innerHTML") && dom.contains("insertAdjacentHTML"));
    }

    #[test]
    fn the_console_uses_only_messages_the_catalogue_defines() {
        let known: std::collections::HashSet<&str> = cuakhau_core::i18n::CONSOLE.iter().map(|(id, _)| *id).collect();
        let mut used = 0;
        for (path, src) in scripts() {
            for id in message_ids(src) {
                used += 1;
                assert!(known.contains(id), "{path} uses t(\"{id}\"), which cuakhau-core's i18n::CONSOLE does not define");
            }
        }
        assert!(used > 100, "only {used} messages found: the scanner is broken");
        assert_eq!(message_ids(r#"q.get("d"); t("nav_public"); x.t("no"); $t("no")"#), ["nav_public"]);
    }

    fn version() -> &'static str {
        &ASSETS.version
    }

    async fn get(path: &str, headers: &[(&str, &str)]) -> Response {
        let mut req = Request::get(path);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        routes::<()>().oneshot(req.body(Body::empty()).expect("a request")).await.expect("an answer")
    }

    async fn body(r: Response) -> Vec<u8> {
        r.into_body().collect().await.expect("a body").to_bytes().to_vec()
    }

    #[tokio::test]
    async fn the_page_is_revalidated_and_its_versioned_assets_are_kept() {
        let index = get("/", &[]).await;
        assert_eq!(index.headers()[header::CACHE_CONTROL], "no-cache");
        let etag = index.headers()[header::ETAG].clone();
        let html = String::from_utf8(body(index).await).expect("UTF-8");
        let app = format!("/assets/{}/app.js", version());
        assert!(html.contains(&format!("src=\"{app}\"")), "{html}");
        assert!(!html.contains("{v}"));
        assert_eq!(get("/", &[("if-none-match", etag.to_str().expect("ASCII"))]).await.status(), StatusCode::NOT_MODIFIED);

        let js = get(&app, &[]).await;
        assert_eq!(js.status(), StatusCode::OK);
        assert_eq!(js.headers()[header::CACHE_CONTROL], "public, max-age=31536000, immutable");
        assert_eq!(js.headers()[header::CONTENT_TYPE], JS);
        let etag = js.headers()[header::ETAG].to_str().expect("ASCII").to_string();
        let not_modified = get(&app, &[("if-none-match", &format!("\"x\", {etag}"))]).await;
        assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);
        assert!(body(not_modified).await.is_empty());
        assert_eq!(get(&app, &[("if-none-match", "W/\"other\"")]).await.status(), StatusCode::OK);

        let old = get("/assets/0123456789ab/pages/public.js", &[]).await;
        assert_eq!(old.status(), StatusCode::OK);
        assert_eq!(old.headers()[header::CACHE_CONTROL], "no-cache");
        assert_eq!(get(&format!("/assets/{}/nothing.js", version()), &[]).await.status(), StatusCode::NOT_FOUND);
        assert_eq!(get("/favicon.ico", &[]).await.headers()[header::CONTENT_TYPE], SVG);
    }

    #[tokio::test]
    async fn a_link_is_drawn_as_a_qr_code_and_nothing_else_is() {
        let ok = get("/qr.svg?text=http%3A%2F%2F127.0.0.1%3A8080%2F%23%2Fdriver%3Fd%3D1%26code%3Dabc", &[]).await;
        assert_eq!(ok.status(), StatusCode::OK);
        assert_eq!(ok.headers()[header::CONTENT_TYPE], SVG);
        let svg = String::from_utf8(body(ok).await).expect("UTF-8");
        assert!(svg.contains("<svg") && svg.contains("<path"), "{svg}");
        assert_eq!(get("/qr.svg?text=javascript%3Aalert(1)", &[]).await.status(), StatusCode::BAD_REQUEST);
        let long = format!("/qr.svg?text=https%3A%2F%2F{}", "a".repeat(QR_MAX_BYTES));
        assert_eq!(get(&long, &[]).await.status(), StatusCode::BAD_REQUEST);
    }

    #[tokio::test]
    async fn the_browser_catalogue_is_the_rust_catalogue() {
        for lang in Lang::ALL {
            let r = get(&format!("/assets/{}/i18n/{}.json", version(), lang.code()), &[]).await;
            assert_eq!(r.headers()[header::CONTENT_TYPE], JSON);
            let got: HashMap<String, String> = serde_json::from_slice(&body(r).await).expect("a JSON object");
            assert_eq!(got.len(), cuakhau_core::i18n::CONSOLE.len());
            for (id, text) in console_messages(lang) {
                assert_eq!(got.get(id).map(String::as_str), Some(text), "{id} in {}", lang.code());
            }
        }
    }
}
