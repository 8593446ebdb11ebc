//! Validation problems, named by field and explained in each language.
//!
//! Values are checked once, in `parse` constructors; a value that exists is valid.

use crate::i18n::Lang;

/// Why a field's value was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    Empty,
    TooLong { max: usize },
    NotOneOf { allowed: &'static [&'static str] },
    BadTime,
    OutOfRange { min: f64, max: f64 },
    UnknownZone,
    BadSlug,
    NotANumber,
    UnknownReference { what: &'static str },
    Other(&'static str),
}

impl Problem {
    pub fn explain(&self, lang: Lang) -> String {
        use Lang::*;
        match (self, lang) {
            (Problem::Empty, Vi) => "không được để trống".into(),
            (Problem::Empty, Zh) => "不能为空".into(),
            (Problem::Empty, En) => "must not be empty".into(),
            (Problem::TooLong { max }, Vi) => format!("dài quá {max} ký tự"),
            (Problem::TooLong { max }, Zh) => format!("超过 {max} 个字符"),
            (Problem::TooLong { max }, En) => format!("longer than {max} characters"),
            (Problem::NotOneOf { allowed }, Vi) => format!("phải là một trong: {}", allowed.join(", ")),
            (Problem::NotOneOf { allowed }, Zh) => format!("必须是以下之一：{}", allowed.join(", ")),
            (Problem::NotOneOf { allowed }, En) => format!("must be one of: {}", allowed.join(", ")),
            (Problem::BadTime, Vi) => "giờ phải có dạng HH:MM (00:00–24:00)".into(),
            (Problem::BadTime, Zh) => "时间格式应为 HH:MM（00:00–24:00）".into(),
            (Problem::BadTime, En) => "time must be HH:MM (00:00–24:00)".into(),
            (Problem::OutOfRange { min, max }, Vi) => format!("phải nằm trong khoảng {min}–{max}"),
            (Problem::OutOfRange { min, max }, Zh) => format!("必须在 {min}–{max} 之间"),
            (Problem::OutOfRange { min, max }, En) => format!("must be between {min} and {max}"),
            (Problem::UnknownZone, Vi) => "múi giờ IANA không tồn tại".into(),
            (Problem::UnknownZone, Zh) => "未知的 IANA 时区".into(),
            (Problem::UnknownZone, En) => "not a known IANA time zone".into(),
            (Problem::BadSlug, Vi) => "chỉ dùng chữ thường a–z, số và dấu gạch ngang".into(),
            (Problem::BadSlug, Zh) => "只能使用小写字母 a–z、数字和连字符".into(),
            (Problem::BadSlug, En) => "use only lower-case a–z, digits and hyphens".into(),
            (Problem::NotANumber, Vi) => "phải là một số".into(),
            (Problem::NotANumber, Zh) => "必须是数字".into(),
            (Problem::NotANumber, En) => "must be a number".into(),
            (Problem::UnknownReference { what }, Vi) => format!("không có {what} này"),
            (Problem::UnknownReference { what }, Zh) => format!("不存在此{what}"),
            (Problem::UnknownReference { what }, En) => format!("no such {what}"),
            (Problem::Other(s), _) => (*s).to_string(),
        }
    }
}

/// A field and what is wrong with it.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub field: String,
    pub problem: Problem,
}

impl FieldError {
    pub fn new(field: impl Into<String>, problem: Problem) -> Self {
        FieldError { field: field.into(), problem }
    }
    pub fn message(&self, lang: Lang) -> crate::i18n::Msg {
        crate::i18n::Msg::InvalidField { field: self.field.clone(), reason: self.problem.explain(lang) }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.problem.explain(Lang::En))
    }
}

impl std::error::Error for FieldError {}

/// A non-empty, trimmed text of at most `max` characters.
pub fn text(field: &str, value: &str, max: usize) -> Result<String, FieldError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(FieldError::new(field, Problem::Empty));
    }
    if v.chars().count() > max {
        return Err(FieldError::new(field, Problem::TooLong { max }));
    }
    Ok(v.to_string())
}

/// An optional text: empty means absent.
pub fn opt_text(field: &str, value: &str, max: usize) -> Result<Option<String>, FieldError> {
    if value.trim().is_empty() { Ok(None) } else { text(field, value, max).map(Some) }
}
