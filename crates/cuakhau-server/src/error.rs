//! The one API error: every failure becomes an RFC 9457 problem+json document in the caller's
//! language. Internal details are logged, never returned.

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cuakhau_api::{FieldProblem, Problem};
use cuakhau_app::{AppError, ConflictKind, What};
use cuakhau_core::goods::clearance::ClearanceError;
use cuakhau_core::{FieldError, Lang, Msg, Side};
use cuakhau_store::StoreError;

/// The bad fields of a request, in its order.
#[derive(Debug)]
pub struct FieldErrors(pub Vec<FieldError>);

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub msg: Msg,
    pub field: Option<String>,
    /// Every bad field (for a 422 that names several at once; the first is `field`). Boxed, as most
    /// errors have none and the error travels in every `Result` of the edge.
    pub errors: Option<Box<FieldErrors>>,
    pub lang: Lang,
    /// Headers the answer carries besides the problem (`Retry-After`, `X-Alternatives`).
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    pub fn new(lang: Lang, status: StatusCode, msg: Msg) -> Self {
        ApiError { status, msg, field: None, errors: None, lang, headers: Vec::new() }
    }
    pub fn field(lang: Lang, e: FieldError) -> Self {
        Self::fields(lang, vec![e])
    }
    /// A 422 naming every bad field (at least one); the first is the problem's `field` and `detail`.
    pub fn fields(lang: Lang, errors: Vec<FieldError>) -> Self {
        let errors: Vec<FieldError> = errors.into_iter().map(|e| FieldError::new(request_path(&e.field), e.problem)).collect();
        let first = errors.first().cloned().unwrap_or_else(|| FieldError::new("", cuakhau_core::Problem::Empty));
        ApiError {
            field: Some(first.field.clone()),
            errors: Some(Box::new(FieldErrors(errors))),
            ..Self::new(lang, StatusCode::UNPROCESSABLE_ENTITY, first.message(lang))
        }
    }
    pub(crate) fn with_header(mut self, name: HeaderName, value: impl TryInto<HeaderValue>) -> Self {
        if let Ok(v) = value.try_into() {
            self.headers.push((name, v));
        }
        self
    }
    /// A use case's refusal, worded in `lang`: the one place kinds become statuses and messages.
    pub fn app(lang: Lang, e: AppError) -> Self {
        match e {
            AppError::Unauthenticated => Self::unauthenticated(lang),
            AppError::Forbidden => Self::forbidden(lang),
            AppError::WrongCredentials => Self::new(lang, StatusCode::UNAUTHORIZED, Msg::WrongCredentials),
            AppError::TooManyAttempts { retry_after_s } => {
                Self::new(lang, StatusCode::TOO_MANY_REQUESTS, Msg::TooManyAttempts { retry_after_s })
                    .with_header(header::RETRY_AFTER, HeaderValue::from(retry_after_s))
            }
            AppError::TooManyRequests { retry_after_s } => {
                Self::new(lang, StatusCode::TOO_MANY_REQUESTS, Msg::TooManyRequests { retry_after_s })
                    .with_header(header::RETRY_AFTER, HeaderValue::from(retry_after_s))
            }
            AppError::NotFound(What::Stored(m)) => Self::not_found(lang, cuakhau_core::i18n::missing_name(&m, lang)),
            AppError::NotFound(what) => Self::not_found(lang, what.to_string()),
            AppError::Invalid(fe) => Self::field(lang, fe),
            AppError::InvalidScenario(reason) => ApiError {
                field: Some("scenario".into()),
                ..Self::new(lang, StatusCode::UNPROCESSABLE_ENTITY, Msg::InvalidField { field: "scenario".into(), reason })
            },
            AppError::Import(e) => Self::new(lang, StatusCode::UNPROCESSABLE_ENTITY, e.message(lang)),
            AppError::Conflict(ConflictKind::HourFull { alternatives, direction }) => {
                let header_value = alternatives.iter().map(|t| t.to_rfc3339()).collect::<Vec<_>>().join(",");
                Self::new(lang, StatusCode::CONFLICT, Msg::Conflict { detail: hour_full(lang, &alternatives, direction.exit_side()) })
                    .with_header(HeaderName::from_static("x-alternatives"), header_value)
            }
            AppError::Conflict(ConflictKind::Stored(kind)) => Self::new(lang, StatusCode::CONFLICT, Msg::Clash { kind }),
            AppError::Conflict(kind) => Self::new(lang, StatusCode::CONFLICT, Msg::Conflict { detail: conflict_detail(lang, kind) }),
            AppError::Refused(refusal) => Self::new(lang, StatusCode::CONFLICT, Msg::Refused { refusal }),
            AppError::Step(error) => {
                let status = match error {
                    ClearanceError::NotYourStep => StatusCode::FORBIDDEN,
                    ClearanceError::NoReason => StatusCode::UNPROCESSABLE_ENTITY,
                    _ => StatusCode::CONFLICT,
                };
                let field = (error == ClearanceError::NoReason).then(|| "reason".to_string());
                ApiError { field, ..Self::new(lang, status, Msg::Step { error }) }
            }
            AppError::Busy => Self::new(lang, StatusCode::SERVICE_UNAVAILABLE, Msg::Busy),
            AppError::Store(e) => Self::store(lang, e),
        }
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
            Msg::Overloaded => "overloaded",
            Msg::Busy => "busy",
            Msg::TooManyAttempts { .. } => "too-many-attempts",
            Msg::TooManyRequests { .. } => "too-many-requests",
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

/// A field's path in the request, where the core names it otherwise (`driver_name` is the
/// request's `driver.name`).
fn request_path(field: &str) -> String {
    match field {
        "driver_name" => "driver.name".into(),
        "driver_nationality" => "driver.nationality".into(),
        "driver_document_no" => "driver.document_no".into(),
        other => other.into(),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // A problem may quote what the client sent (a path, a field's name): never its control
        // characters, which would reach a terminal or a log as they are.
        let lang = self.lang;
        let errors = self
            .errors
            .iter()
            .flat_map(|e| e.0.iter())
            .map(|e| {
                let label = cuakhau_core::i18n::field_label(lang, &e.field);
                let message = Msg::InvalidField { field: label.clone(), reason: e.problem.explain(lang) }.detail(lang);
                FieldProblem { field: printable(&label), path: printable(&e.field), message: printable(&message) }
            })
            .collect();
        let body = Problem {
            type_: self.type_uri(),
            title: self.msg.title(self.lang).to_string(),
            status: self.status.as_u16(),
            detail: printable(&self.msg.detail(self.lang)),
            field: self.field.as_deref().map(printable),
            errors,
            lang: self.lang.code().to_string(),
        };
        let mut res = (self.status, axum::Json(body)).into_response();
        let h = res.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        h.insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(self.lang.code()));
        for (name, value) in self.headers {
            h.insert(name, value);
        }
        res
    }
}

/// `s` with every forbidden character (`validate::is_forbidden_char`) replaced by U+FFFD.
fn printable(s: &str) -> String {
    s.chars().map(|c| if cuakhau_core::validate::is_forbidden_char(c) { char::REPLACEMENT_CHARACTER } else { c }).collect()
}

/// "The hour is full" with the next free hours in the exit side's local time, as the enterprise
/// plans in it.
fn hour_full(lang: Lang, alternatives: &[cuakhau_core::Timestamp], exit: Side) -> String {
    let local: Vec<String> = alternatives.iter().map(|t| t.to_rfc3339_in(exit.zone())[..16].replace('T', " ")).collect();
    let list = format!("{} ({})", local.join(", "), if exit == Side::Vn { "UTC+7" } else { "UTC+8" });
    match (lang, local.is_empty()) {
        (Lang::Vi, false) => format!("giờ này đã kín chỗ; các giờ còn trống tiếp theo: {list}"),
        (Lang::Vi, true) => "giờ này đã kín chỗ; 72 giờ tới không còn giờ trống".into(),
        (Lang::Zh, false) => format!("该时段已满；接下来的空余时段：{list}"),
        (Lang::Zh, true) => "该时段已满；未来 72 小时内没有空余时段".into(),
        (Lang::En, false) => format!("the hour is full; next free hours: {list}"),
        (Lang::En, true) => "the hour is full; none free in the next 72 h".into(),
    }
}

/// The other collisions, in `lang` where the words are the edge's own.
fn conflict_detail(lang: Lang, kind: ConflictKind) -> String {
    match kind {
        ConflictKind::HourFull { alternatives, direction } => hour_full(lang, &alternatives, direction.exit_side()),
        ConflictKind::DailyLimit => match lang {
            Lang::Vi => "doanh nghiệp đã dùng hết số lượt đặt chỗ trong ngày",
            Lang::Zh => "该企业当日预约次数已用完",
            Lang::En => "the enterprise holds its daily number of bookings",
        }
        .into(),
        ConflictKind::AlreadyBooked { booking } => match lang {
            Lang::Vi => format!("tờ khai đã có lượt đặt chỗ {booking}"),
            Lang::Zh => format!("该申报单已有预约 {booking}"),
            Lang::En => format!("the declaration already holds booking {booking}"),
        },
        ConflictKind::LaneExists(id) => match lang {
            Lang::Vi => format!("làn {id} đã có"),
            Lang::Zh => format!("车道 {id} 已存在"),
            Lang::En => format!("lane {id} exists"),
        },
        ConflictKind::SimulationsBusy { slots } => match lang {
            Lang::Vi => format!("đang chạy {slots} mô phỏng; hãy thử lại khi một mô phỏng xong"),
            Lang::Zh => format!("已有 {slots} 个仿真在运行，请在其中一个完成后重试"),
            Lang::En => format!("{slots} simulations are running; try again when one is done"),
        },
        ConflictKind::Stored(kind) => Msg::Clash { kind }.detail(lang),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cuakhau_app::What;
    use cuakhau_core::{Direction, Timestamp};

    fn status_and_type(e: AppError) -> (u16, String) {
        let e = ApiError::app(Lang::En, e);
        (e.status.as_u16(), e.type_uri())
    }

    #[test]
    fn every_use_case_error_kind_has_its_status_and_problem_type() {
        let cases: Vec<(AppError, u16, &str)> = vec![
            (AppError::Unauthenticated, 401, "unauthenticated"),
            (AppError::Forbidden, 403, "forbidden"),
            (AppError::WrongCredentials, 401, "wrong-credentials"),
            (AppError::TooManyAttempts { retry_after_s: 3 }, 429, "too-many-attempts"),
            (AppError::TooManyRequests { retry_after_s: 3 }, 429, "too-many-requests"),
            (AppError::NotFound(What::Trip(cuakhau_core::TripId(7))), 404, "not-found"),
            (AppError::Invalid(FieldError::new("hour", cuakhau_core::Problem::Empty)), 422, "invalid-field"),
            (AppError::InvalidScenario("bad".into()), 422, "invalid-field"),
            (AppError::Conflict(ConflictKind::DailyLimit), 409, "conflict"),
            (AppError::Step(ClearanceError::NotYourStep), 403, "clearance-step"),
            (AppError::Step(ClearanceError::NoReason), 422, "clearance-step"),
            (AppError::Busy, 503, "busy"),
            (AppError::Store(StoreError::Backend("disk".into())), 500, "internal"),
        ];
        for (e, status, slug) in cases {
            let shown = format!("{e:?}");
            assert_eq!(status_and_type(e), (status, format!("/problems/{slug}")), "{shown}");
        }
    }

    #[test]
    fn every_conflict_is_worded_in_the_reader_s_language_with_no_english_inside() {
        let kinds = vec![
            ConflictKind::HourFull { alternatives: vec![], direction: Direction::Export },
            ConflictKind::DailyLimit,
            ConflictKind::AlreadyBooked { booking: cuakhau_core::BookingId(3) },
            ConflictKind::LaneExists("hn-vn-exp-9".into()),
            ConflictKind::SimulationsBusy { slots: 2 },
            ConflictKind::Stored(cuakhau_core::i18n::ConflictKind::DeclarationNotValid {
                declaration: cuakhau_core::DeclarationId(5),
                state: "draft".into(),
            }),
        ];
        let english = ["the ", " is ", " are ", "exists", "running", "declaration"];
        for kind in kinds {
            for lang in [Lang::Vi, Lang::Zh] {
                let text = conflict_detail(lang, kind.clone());
                assert!(!english.iter().any(|w| text.contains(w)), "{lang:?} {kind:?}: {text}");
            }
        }
    }

    #[test]
    fn a_full_hour_names_the_next_free_hours_in_the_exit_side_s_zone_and_in_a_header() {
        // 2026-11-23 05:00 UTC is 12:00 in Hà Nội.
        let e = ApiError::app(
            Lang::Vi,
            AppError::Conflict(ConflictKind::HourFull {
                alternatives: vec![Timestamp(1_795_410_000_000_000)],
                direction: Direction::Export,
            }),
        );
        assert_eq!(e.status, StatusCode::CONFLICT);
        let Msg::Conflict { detail } = &e.msg else { panic!("{:?}", e.msg) };
        assert_eq!(detail, "giờ này đã kín chỗ; các giờ còn trống tiếp theo: 2026-11-23 12:00 (UTC+7)");
        assert_eq!(e.headers[0].0, "x-alternatives");
        assert_eq!(e.headers[0].1, "2026-11-23T05:00:00Z");
        let none = ApiError::app(Lang::En, AppError::TooManyAttempts { retry_after_s: 4 });
        assert_eq!((none.headers[0].0.as_str(), none.headers[0].1.to_str().unwrap()), ("retry-after", "4"));
    }
}
