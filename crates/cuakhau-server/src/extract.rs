//! Request extractors whose failures are localised problem+json errors.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use cuakhau_core::validate::ValueKind;
use cuakhau_core::{FieldError, Lang, Msg, Problem};
use serde::de::DeserializeOwned;

/// The caller's language, from `Accept-Language` (English when nothing matches).
#[derive(Debug, Clone, Copy)]
pub struct ReqLang(pub Lang);

pub fn lang_of(headers: &axum::http::HeaderMap) -> Lang {
    Lang::negotiate(headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()))
}

impl<S: Send + Sync> FromRequestParts<S> for ReqLang {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Ok(ReqLang(lang_of(&parts.headers)))
    }
}

/// A JSON body that must be `application/json`, within the size limit, well-formed and free of
/// unknown fields.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

/// Turns a serde_json syntax error into the message a person can act on.
fn json_msg(e: &serde_json::Error) -> Msg {
    Msg::MalformedJson { detail: e.to_string() }
}

/// A value that did not fit the request's shape, as a localised problem naming the request's own
/// field by its path (`consignments[0].packages`, `limit`): an unknown field is `unknown-field`, a
/// missing or mistyped one `invalid-field`, each with `status` (400 for a query, 422 for a body).
fn shape_error(lang: Lang, status: StatusCode, path: &serde_path_to_error::Path, e: &dyn std::fmt::Display) -> ApiError {
    let text = e.to_string();
    let at = |name: &str| {
        let p = path.to_string();
        match (p.as_str(), name) {
            (".", n) | ("", n) => n.to_string(),
            (p, "") => p.to_string(),
            (p, n) => format!("{p}.{n}"),
        }
    };
    let quoted = |prefix: &str| text.strip_prefix(prefix).and_then(|rest| rest.split('`').next()).map(str::to_string);
    if let Some(name) = quoted("unknown field `") {
        // The path already ends with the unknown field's name.
        let field = match path.to_string() {
            p if p == "." || p.is_empty() => name,
            p => p,
        };
        return ApiError { field: Some(field.clone()), ..ApiError::new(lang, status, Msg::UnknownField { field }) };
    }
    let e = match quoted("missing field `") {
        Some(name) => FieldError::new(at(&name), Problem::Required),
        None => FieldError::new(at(""), Problem::Expected(expected_kind(&text))),
    };
    ApiError { status, ..ApiError::field(lang, e) }
}

/// What a serde message says the field wanted ("invalid type: string \"x\", expected u32").
fn expected_kind(text: &str) -> ValueKind {
    let wanted = text.rsplit_once("expected ").map_or(text, |(_, w)| w);
    let has = |words: &[&str]| words.iter().any(|w| wanted.contains(w));
    if has(&["u8", "u16", "u32", "u64", "usize", "i8", "i16", "i32", "i64", "isize", "integer"]) || text.contains("invalid digit") {
        ValueKind::WholeNumber
    } else if has(&["f32", "f64", "float", "number"]) {
        ValueKind::Number
    } else if has(&["a string", "string", "str"]) {
        ValueKind::Text
    } else if has(&["sequence", "array", "list"]) {
        ValueKind::List
    } else if has(&["struct", "map"]) {
        ValueKind::Object
    } else if has(&["bool"]) {
        ValueKind::TrueOrFalse
    } else {
        ValueKind::Valid
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let lang = lang_of(req.headers());
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json")));
        if !is_json {
            return Err(ApiError::new(lang, StatusCode::UNSUPPORTED_MEDIA_TYPE, Msg::UnsupportedMediaType));
        }
        let limit = req.extensions().get::<BodyLimit>().map(|l| l.0).unwrap_or(0);
        let bytes = Bytes::from_request(req, state).await.map_err(|rej| {
            if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(lang, StatusCode::PAYLOAD_TOO_LARGE, Msg::BodyTooLarge { limit_bytes: limit })
            } else {
                ApiError::new(lang, StatusCode::BAD_REQUEST, Msg::BadRequest)
            }
        })?;
        let mut value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| ApiError::new(lang, StatusCode::BAD_REQUEST, json_msg(&e)))?;
        // Every body is an object (serde would otherwise read an array as a struct's fields in order).
        if !value.is_object() {
            return Err(ApiError::field(lang, FieldError::new("body", Problem::Other("a JSON object"))));
        }
        // No text anywhere in a body may carry control characters or direction overrides: they
        // hide what a plate or a name really says, and some engines refuse them (NUL).
        if let Some(field) = forbidden_text(&value, &mut String::new()) {
            return Err(ApiError::field(lang, FieldError::new(&field, Problem::ControlCharacter)));
        }
        whole_numbers_as_integers(&mut value);
        serde_path_to_error::deserialize(value)
            .map(ApiJson)
            .map_err(|e| shape_error(lang, StatusCode::UNPROCESSABLE_ENTITY, e.path(), e.inner()))
    }
}

/// JSON has one number type: `30.0` is the whole number 30 (as JSON Schema's `integer` says), so
/// a whole number written with a fraction is read as an integer wherever one is expected. (A
/// number field still reads it as a number.)
fn whole_numbers_as_integers(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|f| n.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15) {
                *n = serde_json::Number::from(f as i64);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        serde_json::Value::Object(map) => map.values_mut().for_each(whole_numbers_as_integers),
        _ => {}
    }
}

/// The path of the first string (or key) in `v` holding a forbidden character, e.g.
/// `consignments[0].description_vi`.
fn forbidden_text(v: &serde_json::Value, path: &mut String) -> Option<String> {
    use cuakhau_core::validate::is_forbidden_char;
    let here = |p: &str| if p.is_empty() { "body".to_string() } else { p.to_string() };
    match v {
        serde_json::Value::String(s) => s.chars().any(is_forbidden_char).then(|| here(path)),
        serde_json::Value::Array(items) => items.iter().enumerate().find_map(|(i, x)| {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            let r = forbidden_text(x, path);
            path.truncate(len);
            r
        }),
        serde_json::Value::Object(map) => map.iter().find_map(|(k, x)| {
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(k);
            let r = if k.chars().any(is_forbidden_char) { Some(here(path)) } else { forbidden_text(x, path) };
            path.truncate(len);
            r
        }),
        _ => None,
    }
}

/// True when a raw query string, once percent-decoded, would hold a forbidden character.
fn query_has_forbidden(q: &str) -> bool {
    let mut bytes = Vec::with_capacity(q.len());
    let raw = q.as_bytes();
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'%' if i + 2 < raw.len() => match u8::from_str_radix(std::str::from_utf8(&raw[i + 1..i + 3]).unwrap_or("zz"), 16) {
                Ok(b) => {
                    bytes.push(b);
                    i += 3;
                    continue;
                }
                Err(_) => bytes.push(b'%'),
            },
            b'+' => bytes.push(b' '),
            b => bytes.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&bytes).chars().any(cuakhau_core::validate::is_forbidden_char)
}

/// The configured body limit, put into request extensions so errors can name it.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// Query parameters, with a localised error when they do not parse.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let lang = lang_of(&parts.headers);
        let q = parts.uri.query().unwrap_or("");
        if query_has_forbidden(q) {
            return Err(ApiError::field(lang, FieldError::new("query", Problem::ControlCharacter)));
        }
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(q.as_bytes()));
        serde_path_to_error::deserialize(de).map(ApiQuery).map_err(|e| shape_error(lang, StatusCode::BAD_REQUEST, e.path(), e.inner()))
    }
}

/// The client's address, when the server was started with connection info (`serve`); tests
/// that call the router directly have none.
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for PeerAddr {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(PeerAddr(parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip())))
    }
}

/// The request's media type, lower-cased, without parameters (empty when absent).
pub fn media_type(headers: &axum::http::HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}
