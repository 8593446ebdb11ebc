//! Validation problems, named by field and explained in each language.
//!
//! Values are checked once, in `parse` constructors; a value that exists is valid.

use crate::i18n::Lang;

/// Why a field's value was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    Empty,
    TooLong {
        max: usize,
    },
    NotOneOf {
        allowed: &'static [&'static str],
    },
    BadTime,
    OutOfRange {
        min: f64,
        max: f64,
    },
    UnknownZone,
    BadSlug,
    NotANumber,
    UnknownReference {
        what: &'static str,
    },
    /// A control character (NUL, ESC, …) or a bidirectional override in text.
    ControlCharacter,
    /// Absent, and required.
    Required,
    /// A value of the wrong kind (text where a number is wanted…).
    Expected(ValueKind),
    Other(&'static str),
}

/// The kind of value a request field takes, for saying what a field wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    WholeNumber,
    Number,
    Text,
    List,
    Object,
    TrueOrFalse,
    /// A value the field does not take (an unknown option…).
    Valid,
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
            (Problem::ControlCharacter, Vi) => "chứa ký tự điều khiển hoặc ký tự đảo chiều văn bản không được phép".into(),
            (Problem::ControlCharacter, Zh) => "包含不允许的控制字符或文字方向控制符".into(),
            (Problem::ControlCharacter, En) => "contains a control character or a text-direction override, which is not allowed".into(),
            (Problem::Required, Vi) => "bắt buộc phải có".into(),
            (Problem::Required, Zh) => "为必填项".into(),
            (Problem::Required, En) => "is required".into(),
            (Problem::Expected(k), lang) => expected(*k, lang).into(),
            (Problem::Other(s), En) => (*s).to_string(),
            (Problem::Other(s), lang) => other_in(s, lang).unwrap_or(s).to_string(),
        }
    }
}

fn expected(k: ValueKind, lang: Lang) -> &'static str {
    use Lang::*;
    use ValueKind::*;
    match (k, lang) {
        (WholeNumber, Vi) => "phải là một số nguyên",
        (WholeNumber, Zh) => "必须是整数",
        (WholeNumber, En) => "must be a whole number",
        (Number, Vi) => "phải là một số",
        (Number, Zh) => "必须是数字",
        (Number, En) => "must be a number",
        (Text, Vi) => "phải là văn bản",
        (Text, Zh) => "必须是文本",
        (Text, En) => "must be text",
        (List, Vi) => "phải là một danh sách",
        (List, Zh) => "必须是列表",
        (List, En) => "must be a list",
        (Object, Vi) => "phải là một đối tượng có các trường",
        (Object, Zh) => "必须是包含字段的对象",
        (Object, En) => "must be an object with fields",
        (TrueOrFalse, Vi) => "phải là true hoặc false",
        (TrueOrFalse, Zh) => "必须是 true 或 false",
        (TrueOrFalse, En) => "must be true or false",
        (Valid, Vi) => "giá trị không hợp lệ",
        (Valid, Zh) => "取值无效",
        (Valid, En) => "is not a value this field takes",
    }
}

/// Translations of the free-text problems, keyed by their English wording (a message catalogue:
/// the English text is the key, as in gettext). A wording missing here is shown in English.
const OTHER: &[(&str, &str, &str)] = &[
    ("an event id this server sent", "một mã sự kiện do máy chủ này gửi", "本服务器发出的事件编号"),
    ("a JSON object", "một đối tượng JSON", "一个 JSON 对象"),
    ("the hour starts after the declaration's validity ends", "giờ này bắt đầu sau khi tờ khai hết hiệu lực", "该时段开始时申报单已失效"),
    ("the hour is further ahead than bookings may be made", "giờ này xa hơn thời hạn được phép đặt trước", "该时段超出可提前预约的范围"),
    ("the hour has passed", "giờ này đã qua", "该时段已过"),
    ("was used for another request", "đã được dùng cho một yêu cầu khác", "已用于另一个请求"),
    ("a request with this key is still running", "một yêu cầu với khóa này vẫn đang chạy", "使用此键的请求仍在处理中"),
    ("1 to 200 visible ASCII characters", "từ 1 đến 200 ký tự ASCII nhìn thấy được", "1 至 200 个可见 ASCII 字符"),
    ("the current password is not right", "mật khẩu hiện tại không đúng", "当前密码不正确"),
    ("an administrator cannot lock themselves out", "quản trị viên không thể tự khóa mình", "管理员不能锁定自己的账户"),
    ("6 to 10 digits", "từ 6 đến 10 chữ số", "6 至 10 位数字"),
    ("6 to 32 letters and digits", "từ 6 đến 32 chữ cái và chữ số", "6 至 32 个字母和数字"),
    ("a description in Vietnamese or Chinese is required", "cần mô tả bằng tiếng Việt hoặc tiếng Trung", "需要越南语或中文描述"),
    ("a driver is required unless the vehicle is an AGV", "cần có lái xe, trừ xe tự hành AGV", "除 AGV 无人驾驶车外必须有司机"),
    ("a plate as read at the gate", "biển số như camera đọc tại cổng", "闸口读取的车牌号"),
    ("a plate has at least 5 letters and digits", "biển số có ít nhất 5 chữ cái và chữ số", "车牌至少有 5 个字母和数字"),
    (
        "an ISO 3166 two-letter country code such as VN or CN",
        "mã nước ISO 3166 hai chữ cái, ví dụ VN hoặc CN",
        "ISO 3166 两位国家代码，如 VN 或 CN",
    ),
    ("an ISO 4217 code such as VND, CNY or USD", "mã tiền tệ ISO 4217, ví dụ VND, CNY hoặc USD", "ISO 4217 币种代码，如 VND、CNY 或 USD"),
    ("an RFC 3339 time with offset", "thời điểm RFC 3339 có múi giờ", "带时区偏移的 RFC 3339 时间"),
    ("closes must be after opens", "giờ đóng phải sau giờ mở", "关闭时间必须晚于开放时间"),
    ("duplicate id", "mã bị trùng", "编号重复"),
    (
        "goods of HS chapters 01–24 need a phytosanitary or health certificate number",
        "hàng thuộc chương HS 01–24 cần số giấy chứng nhận kiểm dịch thực vật hoặc vệ sinh",
        "HS 第 01–24 章的货物需要植物检疫或卫生证书编号",
    ),
    (
        "not a Vietnamese tax code (10 or 10-3 digits) or a Chinese unified social credit code (18 characters)",
        "không phải mã số thuế Việt Nam (10 hoặc 10-3 chữ số) hay mã tín dụng xã hội thống nhất của Trung Quốc (18 ký tự)",
        "不是越南税号（10 位或 10-3 位）或中国统一社会信用代码（18 位）",
    ),
    (
        "the check character of this unified social credit code is wrong",
        "ký tự kiểm tra của mã tín dụng xã hội thống nhất sai",
        "统一社会信用代码校验码错误",
    ),
    ("the hour has passed", "giờ này đã qua", "该时段已过"),
    ("until must be after from", "thời điểm kết thúc phải sau thời điểm bắt đầu", "结束时间必须晚于开始时间"),
];

fn other_in(s: &str, lang: Lang) -> Option<&'static str> {
    OTHER.iter().find(|(en, _, _)| *en == s).map(|(_, vi, zh)| if lang == Lang::Vi { *vi } else { *zh })
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
    /// The same problem, named by the request's own field (`gate_pair`, not the core's `gate_pair_id`).
    pub fn named(self, field: &str) -> Self {
        FieldError { field: field.into(), ..self }
    }
    pub fn message(&self, lang: Lang) -> crate::i18n::Msg {
        crate::i18n::Msg::InvalidField { field: self.field.clone(), reason: self.problem.explain(lang) }
    }
}

/// Keeps `r`'s value, or adds its error to `errors` (for validation that reports every bad field
/// at once rather than the first).
pub fn collect<T>(errors: &mut Vec<FieldError>, r: Result<T, FieldError>) -> Option<T> {
    r.map_err(|e| errors.push(e)).ok()
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.problem.explain(Lang::En))
    }
}

impl std::error::Error for FieldError {}

/// A non-empty, trimmed text of at most `max` characters.
/// A character no text field accepts: C0 and C1 controls other than tab and line breaks, DEL,
/// and the bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069)
/// that can make a plate or a name read differently from what is stored.
pub fn is_forbidden_char(c: char) -> bool {
    FORBIDDEN_CHARS.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

/// The characters [`is_forbidden_char`] refuses, as inclusive ranges (the API's schemas state
/// them as a `pattern`, so a client sees the same rule the server applies).
pub const FORBIDDEN_CHARS: &[(char, char)] = &[
    ('\u{0}', '\u{8}'),
    ('\u{B}', '\u{C}'),
    ('\u{E}', '\u{1F}'),
    ('\u{7F}', '\u{9F}'),
    ('\u{202A}', '\u{202E}'),
    ('\u{2066}', '\u{2069}'),
];

/// Refuses text with a forbidden character (see [`is_forbidden_char`]).
pub fn plain(field: &str, value: &str) -> Result<(), FieldError> {
    if value.chars().any(is_forbidden_char) { Err(FieldError::new(field, Problem::ControlCharacter)) } else { Ok(()) }
}

pub fn text(field: &str, value: &str, max: usize) -> Result<String, FieldError> {
    plain(field, value)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forbidden_ranges_are_the_controls_but_tab_and_line_breaks_and_the_direction_overrides() {
        for c in (0..=0x3000u32).filter_map(char::from_u32) {
            let expected =
                (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
            assert_eq!(is_forbidden_char(c), expected, "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn free_text_problems_are_translated() {
        let p = Problem::Other("6 to 10 digits");
        assert_eq!(
            (p.explain(Lang::Vi), p.explain(Lang::Zh), p.explain(Lang::En)),
            ("từ 6 đến 10 chữ số".to_string(), "6 至 10 位数字".to_string(), "6 to 10 digits".to_string())
        );
        assert_eq!(Problem::Other("no translation yet").explain(Lang::Zh), "no translation yet");
        // Every entry of the catalogue is used somewhere and translated both ways.
        for (en, vi, zh) in OTHER {
            assert!(!vi.is_empty() && !zh.is_empty() && vi != en && zh != en, "{en}");
        }
    }
}
