//! The one API error: every failure becomes an RFC 9457 problem+json document in the caller's
//! language. Internal details are logged, never returned.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use cuakhau_api::Problem;
use cuakhau_core::{FieldError, Lang, Msg};
use cuakhau_store::StoreError;

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub msg: Msg,
    pub field: Option<String>,
    pub lang: Lang,
}

impl ApiError {
    pub fn new(lang: Lang, status: StatusCode, msg: Msg) -> Self {
        ApiError { status, msg, field: None, lang }
    }
    pub fn field(lang: Lang, e: FieldError) -> Self {
        ApiError { status: StatusCode::UNPROCESSABLE_ENTITY, msg: e.message(lang), field: Some(e.field), lang }
    }
    pub fn not_found(lang: Lang, what: impl Into<String>) -> Self {
        Self::new(lang, StatusCode::NOT_FOUND, Msg::NotFound { what: what.into() })
    }
    pub fn forbidden(lang: Lang) -> Self {
        Self::new(lang, StatusCode::FORBIDDEN, Msg::Forbidden)
    }
    pub fn unauthenticated(lang: Lang) -> Self {
        Self::new(lang, StatusCode::UNAUTHORIZED, Msg::Unauthenticated)
    }
    pub fn store(lang: Lang, e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => Self::not_found(lang, cuakhau_core::i18n::missing_name(&what, lang)),
            StoreError::Conflict(kind) => Self::new(lang, StatusCode::CONFLICT, Msg::Clash { kind }),
            StoreError::Contention(detail) => {
                tracing::warn!(%detail, "contention outlasted the retries");
                Self::new(lang, StatusCode::SERVICE_UNAVAILABLE, Msg::Busy)
            }
            StoreError::Refused(refusal) => Self::new(lang, StatusCode::CONFLICT, Msg::Refused { refusal }),
            other => {
                tracing::error!(error = %other, "store error");
                Self::new(lang, StatusCode::INTERNAL_SERVER_ERROR, Msg::Internal)
            }
        }
    }
    fn type_uri(&self) -> String {
        let slug = match &self.msg {
            Msg::BadRequest | Msg::MalformedJson { .. } => "bad-request",
            Msg::InvalidField { .. } => "invalid-field",
            Msg::UnknownField { .. } => "unknown-field",
            Msg::BodyTooLarge { .. } => "body-too-large",
            Msg::NotFound { .. } => "not-found",
            Msg::Unauthenticated => "unauthenticated",
            Msg::WrongCredentials => "wrong-credentials",
            Msg::Forbidden => "forbidden",
            Msg::Conflict { .. } | Msg::Clash { .. } => "conflict",
            Msg::Refused { refusal: cuakhau_core::goods::Refusal::TripLocked(_) } => "declaration-locked",
            Msg::Refused { refusal: cuakhau_core::goods::Refusal::Transition(_) } => "bad-transition",
            Msg::Internal => "internal",
            Msg::Timeout => "timeout",
            Msg::Unavailable => "unavailable",
            Msg::Busy => "busy",
            Msg::TooManyAttempts { .. } => "too-many-attempts",
            Msg::CrossSite => "cross-site",
            Msg::MethodNotAllowed => "method-not-allowed",
            Msg::BadPath => "bad-path",
            Msg::ImportRow { .. } => "import-row",
            Msg::UnsupportedMediaType => "unsupported-media-type",
            Msg::Step { .. } => "clearance-step",
        };
        format!("/problems/{slug}")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Problem {
            type_: self.type_uri(),
            title: self.msg.title(self.lang).to_string(),
            status: self.status.as_u16(),
            detail: self.msg.detail(self.lang),
            field: self.field.clone(),
            lang: self.lang.code().to_string(),
        };
        let mut res = (self.status, axum::Json(body)).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/problem+json"));
        res.headers_mut().insert(header::CONTENT_LANGUAGE, header::HeaderValue::from_static(self.lang.code()));
        res
    }
}
