//! The three languages of the border and every message cuakhau shows to a person.
//!
//! Messages are an enum with one exhaustive `match` per language, so a message missing in one
//! language is a compile error, not a runtime surprise. (Fluent was considered; our messages have no
//! plural or gender selectors yet, and a match keeps the core free of dependencies.)

/// A language cuakhau speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    Vi,
    Zh,
    En,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::Vi, Lang::Zh, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        let primary = code.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "vi" => Some(Lang::Vi),
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// Picks the best language from an `Accept-Language` header (RFC 9110 q-values); English when
    /// nothing matches.
    pub fn negotiate(header: Option<&str>) -> Lang {
        let Some(header) = header else { return Lang::En };
        let mut best: Option<(u16, usize, Lang)> = None;
        for (pos, item) in header.split(',').enumerate() {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("");
            let q = parts.find_map(|p| p.trim().strip_prefix("q=")).and_then(|q| q.trim().parse::<f32>().ok()).unwrap_or(1.0);
            let q = (q.clamp(0.0, 1.0) * 1000.0) as u16;
            if q == 0 {
                continue;
            }
            if let Some(lang) = Lang::from_code(tag) {
                // Higher q wins; on a tie the earlier entry wins.
                let better = match best {
                    None => true,
                    Some((bq, _, _)) => q > bq,
                };
                if better {
                    best = Some((q, pos, lang));
                }
            }
        }
        best.map(|(_, _, l)| l).unwrap_or(Lang::En)
    }
}

/// Every message shown to a person. Parameters are carried by the variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    BadRequest,
    InvalidField {
        field: String,
        reason: String,
    },
    MalformedJson {
        detail: String,
    },
    UnknownField {
        field: String,
    },
    BodyTooLarge {
        limit_bytes: usize,
    },
    NotFound {
        what: String,
    },
    Unauthenticated,
    WrongCredentials,
    Forbidden,
    Conflict {
        detail: String,
    },
    Internal,
    Timeout,
    /// The server is stopping; the client should retry (another process, or this one restarted).
    Unavailable,
    /// The server is answering as many requests as it may at once; the client should retry.
    Overloaded,
    /// Too many failed sign-ins for this account or from this address.
    TooManyAttempts {
        retry_after_s: i64,
    },
    /// A public write (a driver's position report) came faster than its limit allows.
    TooManyRequests {
        retry_after_s: i64,
    },
    /// A cookie-authenticated change sent from another site's page (cross-site request forgery).
    CrossSite,
    /// The path exists but not with this method.
    MethodNotAllowed,
    /// A part of the path (an id, a code) is not valid.
    BadPath,
    /// Too many concurrent changes to the same rows, even after retries; nothing was changed.
    Busy,
    ImportRow {
        line: u64,
        reason: String,
    },
    UnsupportedMediaType,
    /// A clearance act the step's rules refuse (see `goods::clearance::ClearanceError`).
    Step {
        error: crate::goods::clearance::ClearanceError,
    },
    /// A change the goods flow's rules refuse (a declaration's state, its truck's progress).
    Refused {
        refusal: crate::goods::Refusal,
    },
    /// A change the store refuses because of what is stored (a taken name, a full yard…).
    Clash {
        kind: ConflictKind,
    },
}

/// Why the store refused a change because of what it holds: kinds, worded in the caller's
/// language by [`Msg::Clash`] (the store carries no prose for people).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConflictKind {
    /// A row with the same key exists (a unique constraint).
    Duplicate,
    /// The change refers to a row that does not exist (a foreign key).
    MissingReference,
    /// A reference-data load would break integrity: table, 1-based row, the check's reason.
    ReferenceRow {
        table: String,
        row: usize,
        reason: String,
    },
    UsernameTaken {
        username: String,
    },
    /// The declaration's booking was cancelled while this booking ran; trying again works.
    BookedMeanwhile {
        declaration: crate::DeclarationId,
    },
    /// The declaration is not accepted, or its validity has run out (state code).
    DeclarationNotValid {
        declaration: crate::DeclarationId,
        state: String,
    },
    YardFull {
        capacity: u32,
    },
    /// The declaration already has a trip (status code).
    TripExists {
        declaration: crate::DeclarationId,
        trip: crate::TripId,
        status: String,
    },
    FeeRecorded {
        trip: crate::TripId,
        receipt: String,
    },
    ReceiptUsed {
        receipt: String,
        trip: crate::TripId,
    },
}

/// What a store looked for and did not find, named in the caller's language by [`missing_name`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    GatePair(String),
    User(String),
    Declaration(crate::DeclarationId),
    Booking(crate::BookingId),
    Trip(crate::TripId),
    /// A Merkle tree of this many entries (the log is shorter).
    Tree(u64),
}

/// The thing that was not found, as a person reads it (the object of [`Msg::NotFound`]).
pub fn missing_name(m: &Missing, lang: Lang) -> String {
    use Missing as M;
    match (m, lang) {
        (M::GatePair(id), Lang::Vi) => format!("cặp cửa khẩu {id}"),
        (M::GatePair(id), Lang::Zh) => format!("口岸对 {id}"),
        (M::GatePair(id), Lang::En) => format!("gate pair {id}"),
        (M::User(u), Lang::Vi) => format!("người dùng {u}"),
        (M::User(u), Lang::Zh) => format!("用户 {u}"),
        (M::User(u), Lang::En) => format!("user {u}"),
        (M::Declaration(n), Lang::Vi) => format!("tờ khai {n}"),
        (M::Declaration(n), Lang::Zh) => format!("申报单 {n}"),
        (M::Declaration(n), Lang::En) => format!("declaration {n}"),
        (M::Booking(n), Lang::Vi) => format!("lượt đặt chỗ còn hiệu lực {n}"),
        (M::Booking(n), Lang::Zh) => format!("有效预约 {n}"),
        (M::Booking(n), Lang::En) => format!("live booking {n}"),
        (M::Trip(n), Lang::Vi) => format!("chuyến xe {n}"),
        (M::Trip(n), Lang::Zh) => format!("车次 {n}"),
        (M::Trip(n), Lang::En) => format!("trip {n}"),
        (M::Tree(n), Lang::Vi) => format!("cây Merkle gồm {n} mục"),
        (M::Tree(n), Lang::Zh) => format!("包含 {n} 个条目的默克尔树"),
        (M::Tree(n), Lang::En) => format!("Merkle tree of {n} entries"),
    }
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&missing_name(self, Lang::En))
    }
}

impl std::fmt::Display for ConflictKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&clash_detail(self, Lang::En))
    }
}

fn clash_detail(k: &ConflictKind, lang: Lang) -> String {
    use ConflictKind as K;
    match (k, lang) {
        (K::Duplicate, Lang::Vi) => "Đã có một bản ghi với cùng mã.".into(),
        (K::Duplicate, Lang::Zh) => "已存在相同编号的记录。".into(),
        (K::Duplicate, Lang::En) => "A record with the same key exists.".into(),
        (K::MissingReference, Lang::Vi) => "Thay đổi tham chiếu tới một bản ghi không tồn tại.".into(),
        (K::MissingReference, Lang::Zh) => "此更改引用了不存在的记录。".into(),
        (K::MissingReference, Lang::En) => "The change refers to a record that does not exist.".into(),
        (K::ReferenceRow { table, row, reason }, Lang::Vi) => format!("Bảng {table}, dòng {row}: {reason}. Không có gì được ghi."),
        (K::ReferenceRow { table, row, reason }, Lang::Zh) => format!("表 {table} 第 {row} 行：{reason}。未写入任何数据。"),
        (K::ReferenceRow { table, row, reason }, Lang::En) => format!("{table} row {row}: {reason}. Nothing was written."),
        (K::UsernameTaken { username }, Lang::Vi) => format!("Tên đăng nhập “{username}” đã có người dùng."),
        (K::UsernameTaken { username }, Lang::Zh) => format!("用户名“{username}”已被占用。"),
        (K::UsernameTaken { username }, Lang::En) => format!("The user name '{username}' is taken."),
        (K::BookedMeanwhile { declaration }, Lang::Vi) => {
            format!("Lượt đặt chỗ của tờ khai {declaration} vừa được đặt rồi hủy trong lúc xử lý; hãy thử lại.")
        }
        (K::BookedMeanwhile { declaration }, Lang::Zh) => format!("申报单 {declaration} 的预约在处理期间被预订又被取消，请重试。"),
        (K::BookedMeanwhile { declaration }, Lang::En) => {
            format!("Declaration {declaration} was booked and released meanwhile; try again.")
        }
        (K::DeclarationNotValid { declaration, state }, Lang::Vi) => {
            format!("Tờ khai {declaration} đang ở trạng thái {} hoặc đã hết hiệu lực.", declaration_state_name(state, lang))
        }
        (K::DeclarationNotValid { declaration, state }, Lang::Zh) => {
            format!("申报单 {declaration} 为{}或已过有效期。", declaration_state_name(state, lang))
        }
        (K::DeclarationNotValid { declaration, state }, Lang::En) => {
            format!("Declaration {declaration} is {} or its validity has run out.", declaration_state_name(state, lang))
        }
        (K::YardFull { capacity }, Lang::Vi) => format!("Bãi xe đã đầy ({capacity} xe)."),
        (K::YardFull { capacity }, Lang::Zh) => format!("停车场已满（{capacity} 辆）。"),
        (K::YardFull { capacity }, Lang::En) => format!("The yard is full ({capacity} trucks)."),
        (K::TripExists { declaration, trip, .. }, Lang::Vi) => format!("Tờ khai {declaration} đã có chuyến xe {trip}."),
        (K::TripExists { declaration, trip, .. }, Lang::Zh) => format!("申报单 {declaration} 已有车次 {trip}。"),
        (K::TripExists { declaration, trip, status }, Lang::En) => format!("Declaration {declaration} already has trip {trip} ({status})."),
        (K::FeeRecorded { trip, receipt }, Lang::Vi) => format!("Chuyến xe {trip} đã có biên lai phí {receipt}."),
        (K::FeeRecorded { trip, receipt }, Lang::Zh) => format!("车次 {trip} 已有收费收据 {receipt}。"),
        (K::FeeRecorded { trip, receipt }, Lang::En) => format!("Trip {trip} already has fee receipt {receipt}."),
        (K::ReceiptUsed { receipt, trip }, Lang::Vi) => format!("Biên lai {receipt} đã được ghi cho chuyến xe {trip}."),
        (K::ReceiptUsed { receipt, trip }, Lang::Zh) => format!("收据 {receipt} 已登记于车次 {trip}。"),
        (K::ReceiptUsed { receipt, trip }, Lang::En) => format!("Receipt {receipt} is already recorded for trip {trip}."),
    }
}

impl Msg {
    /// The short, stable title of the problem (RFC 9457 `title`).
    pub fn title(&self, lang: Lang) -> &'static str {
        use Lang::*;
        use Msg::*;
        match (self, lang) {
            (BadRequest | InvalidField { .. } | MalformedJson { .. } | UnknownField { .. } | ImportRow { .. }, Vi) => {
                "Dữ liệu không hợp lệ"
            }
            (BadRequest | InvalidField { .. } | MalformedJson { .. } | UnknownField { .. } | ImportRow { .. }, Zh) => "数据无效",
            (BadRequest | InvalidField { .. } | MalformedJson { .. } | UnknownField { .. } | ImportRow { .. }, En) => "Invalid input",
            (BodyTooLarge { .. }, Vi) => "Yêu cầu quá lớn",
            (BodyTooLarge { .. }, Zh) => "请求过大",
            (BodyTooLarge { .. }, En) => "Request too large",
            (NotFound { .. }, Vi) => "Không tìm thấy",
            (NotFound { .. }, Zh) => "未找到",
            (NotFound { .. }, En) => "Not found",
            (Unauthenticated | WrongCredentials, Vi) => "Chưa đăng nhập",
            (Unauthenticated | WrongCredentials, Zh) => "未登录",
            (Unauthenticated | WrongCredentials, En) => "Not signed in",
            (Forbidden, Vi) => "Không có quyền",
            (Forbidden, Zh) => "无权限",
            (Forbidden, En) => "Not allowed",
            (Conflict { .. } | Refused { .. } | Clash { .. }, Vi) => "Xung đột dữ liệu",
            (Conflict { .. } | Refused { .. } | Clash { .. }, Zh) => "数据冲突",
            (Conflict { .. } | Refused { .. } | Clash { .. }, En) => "Conflict",
            (Internal, Vi) => "Lỗi hệ thống",
            (Internal, Zh) => "系统错误",
            (Internal, En) => "Internal error",
            (TooManyAttempts { .. }, Vi) => "Quá nhiều lần thử",
            (TooManyAttempts { .. }, Zh) => "尝试次数过多",
            (TooManyAttempts { .. }, En) => "Too many attempts",
            (TooManyRequests { .. }, Vi) => "Quá nhiều yêu cầu",
            (TooManyRequests { .. }, Zh) => "请求过多",
            (TooManyRequests { .. }, En) => "Too many requests",
            (CrossSite, Vi) => "Yêu cầu từ trang khác",
            (CrossSite, Zh) => "来自其他网站的请求",
            (CrossSite, En) => "Cross-site request",
            (MethodNotAllowed, Vi) => "Phương thức không được hỗ trợ",
            (MethodNotAllowed, Zh) => "不支持该方法",
            (MethodNotAllowed, En) => "Method not allowed",
            (BadPath, Vi) => "Đường dẫn không hợp lệ",
            (BadPath, Zh) => "路径无效",
            (BadPath, En) => "Invalid path",
            (Busy, Vi) => "Hệ thống đang bận",
            (Busy, Zh) => "系统繁忙",
            (Busy, En) => "Busy",
            (Unavailable, Vi) => "Máy chủ đang dừng",
            (Unavailable, Zh) => "服务器正在停止",
            (Unavailable, En) => "Server stopping",
            (Overloaded, Vi) => "Máy chủ đang quá tải",
            (Overloaded, Zh) => "服务器繁忙",
            (Overloaded, En) => "Server overloaded",
            (Timeout, Vi) => "Hết thời gian chờ",
            (Timeout, Zh) => "请求超时",
            (Timeout, En) => "Request timed out",
            (UnsupportedMediaType, Vi) => "Định dạng không được hỗ trợ",
            (UnsupportedMediaType, Zh) => "不支持的内容类型",
            (UnsupportedMediaType, En) => "Unsupported media type",
            (Step { .. }, Vi) => "Không thực hiện được bước thông quan",
            (Step { .. }, Zh) => "无法执行该通关步骤",
            (Step { .. }, En) => "Clearance step refused",
        }
    }

    /// The sentence explaining this occurrence (RFC 9457 `detail`).
    pub fn detail(&self, lang: Lang) -> String {
        use Lang::*;
        use Msg::*;
        match (self, lang) {
            (BadRequest, Vi) => "Yêu cầu không hợp lệ.".into(),
            (BadRequest, Zh) => "请求无效。".into(),
            (BadRequest, En) => "The request is not valid.".into(),
            (InvalidField { field, reason }, Vi) => format!("Trường «{field}»: {reason}"),
            (InvalidField { field, reason }, Zh) => format!("字段“{field}”：{reason}"),
            (InvalidField { field, reason }, En) => format!("Field '{field}': {reason}"),
            (MalformedJson { detail }, Vi) => format!("JSON không đúng: {detail}"),
            (MalformedJson { detail }, Zh) => format!("JSON 格式错误：{detail}"),
            (MalformedJson { detail }, En) => format!("Malformed JSON: {detail}"),
            (UnknownField { field }, Vi) => format!("Trường «{field}» không được chấp nhận ở đây."),
            (UnknownField { field }, Zh) => format!("不接受字段“{field}”。"),
            (UnknownField { field }, En) => format!("Field '{field}' is not accepted here."),
            (BodyTooLarge { limit_bytes }, Vi) => format!("Nội dung vượt quá {limit_bytes} byte."),
            (BodyTooLarge { limit_bytes }, Zh) => format!("请求内容超过 {limit_bytes} 字节。"),
            (BodyTooLarge { limit_bytes }, En) => format!("The body is larger than {limit_bytes} bytes."),
            (NotFound { what }, Vi) => format!("Không có {what}."),
            (NotFound { what }, Zh) => format!("不存在：{what}。"),
            (NotFound { what }, En) => format!("There is no {what}."),
            (Unauthenticated, Vi) => "Hãy đăng nhập để thực hiện thao tác này.".into(),
            (Unauthenticated, Zh) => "请先登录再执行此操作。".into(),
            (Unauthenticated, En) => "Sign in to do this.".into(),
            (WrongCredentials, Vi) => "Tên đăng nhập hoặc mật khẩu không đúng.".into(),
            (WrongCredentials, Zh) => "用户名或密码错误。".into(),
            (WrongCredentials, En) => "Wrong user name or password.".into(),
            (Forbidden, Vi) => "Vai trò của bạn không cho phép thao tác này.".into(),
            (Forbidden, Zh) => "您的角色无权执行此操作。".into(),
            (Forbidden, En) => "Your role does not allow this.".into(),
            (Conflict { detail }, Vi) => format!("Xung đột: {detail}"),
            (Conflict { detail }, Zh) => format!("冲突：{detail}"),
            (Conflict { detail }, En) => format!("Conflict: {detail}"),
            (Internal, Vi) => "Đã xảy ra lỗi; sự cố đã được ghi lại.".into(),
            (Internal, Zh) => "发生错误，已记录。".into(),
            (Internal, En) => "Something went wrong; it has been logged.".into(),
            (TooManyAttempts { retry_after_s }, Vi) => format!("Đăng nhập sai quá nhiều lần; hãy thử lại sau {retry_after_s} giây."),
            (TooManyAttempts { retry_after_s }, Zh) => format!("登录失败次数过多，请 {retry_after_s} 秒后重试。"),
            (TooManyAttempts { retry_after_s }, En) => format!("Too many failed sign-ins; try again in {retry_after_s} s."),
            (TooManyRequests { retry_after_s }, Vi) => format!("Gửi quá nhiều yêu cầu; hãy thử lại sau {retry_after_s} giây."),
            (TooManyRequests { retry_after_s }, Zh) => format!("请求过于频繁，请 {retry_after_s} 秒后重试。"),
            (TooManyRequests { retry_after_s }, En) => format!("Too many requests; try again in {retry_after_s} s."),
            (CrossSite, Vi) => "Thay đổi này được gửi từ một trang web khác nên đã bị từ chối.".into(),
            (CrossSite, Zh) => "此更改来自其他网站的页面，已被拒绝。".into(),
            (CrossSite, En) => "This change was sent from another site's page and was refused.".into(),
            (MethodNotAllowed, Vi) => "Địa chỉ này không nhận phương thức đó.".into(),
            (MethodNotAllowed, Zh) => "该地址不接受此请求方法。".into(),
            (MethodNotAllowed, En) => "This address does not accept that method.".into(),
            (BadPath, Vi) => "Một phần của đường dẫn (mã số hoặc mã) không hợp lệ.".into(),
            (BadPath, Zh) => "路径中的某一部分（编号或代码）无效。".into(),
            (BadPath, En) => "A part of the path (an id or a code) is not valid.".into(),
            (Busy, Vi) => "Có quá nhiều thay đổi cùng lúc; không có gì bị thay đổi. Hãy thử lại.".into(),
            (Busy, Zh) => "同时进行的更改过多，未做任何更改，请重试。".into(),
            (Busy, En) => "Too many changes at once; nothing was changed. Try again.".into(),
            (Unavailable, Vi) => "Máy chủ đang dừng; hãy thử lại sau giây lát.".into(),
            (Unavailable, Zh) => "服务器正在停止，请稍后重试。".into(),
            (Unavailable, En) => "The server is stopping; try again in a moment.".into(),
            (Overloaded, Vi) => "Máy chủ đang xử lý tối đa số yêu cầu cùng lúc; không có gì thay đổi, hãy thử lại sau giây lát.".into(),
            (Overloaded, Zh) => "服务器同时处理的请求已达上限；未做任何更改，请稍后重试。".into(),
            (Overloaded, En) => {
                "The server is answering as many requests as it may at once; nothing was changed, try again in a moment.".into()
            }
            (Timeout, Vi) => "Máy chủ không trả lời kịp; không có gì bị thay đổi.".into(),
            (Timeout, Zh) => "服务器未能及时响应；未做任何更改。".into(),
            (Timeout, En) => "The server did not answer in time; nothing was changed.".into(),
            (ImportRow { line, reason }, Vi) => format!("Dòng {line}: {reason}. Không có dòng nào được ghi."),
            (ImportRow { line, reason }, Zh) => format!("第 {line} 行：{reason}。未写入任何数据。"),
            (ImportRow { line, reason }, En) => format!("Line {line}: {reason}. Nothing was written."),
            (UnsupportedMediaType, Vi) => "Hãy gửi JSON (Content-Type: application/json).".into(),
            (UnsupportedMediaType, Zh) => "请发送 JSON（Content-Type: application/json）。".into(),
            (UnsupportedMediaType, En) => "Send JSON (Content-Type: application/json).".into(),
            (Step { error }, lang) => step_detail(error, lang),
            (Refused { refusal }, lang) => refusal_detail(refusal, lang),
            (Clash { kind }, lang) => clash_detail(kind, lang),
        }
    }
}

/// A declaration state's name, as a person reads it.
pub fn declaration_state_name(code: &str, lang: Lang) -> &'static str {
    match (code, lang) {
        ("draft", Lang::Vi) => "bản nháp",
        ("draft", Lang::Zh) => "草稿",
        ("draft", Lang::En) => "a draft",
        ("submitted", Lang::Vi) => "đã nộp",
        ("submitted", Lang::Zh) => "已提交",
        ("submitted", Lang::En) => "submitted",
        ("accepted", Lang::Vi) => "đã được chấp nhận",
        ("accepted", Lang::Zh) => "已受理",
        ("accepted", Lang::En) => "accepted",
        ("rejected", Lang::Vi) => "bị từ chối",
        ("rejected", Lang::Zh) => "已驳回",
        ("rejected", Lang::En) => "rejected",
        ("cancelled", Lang::Vi) => "đã hủy",
        ("cancelled", Lang::Zh) => "已撤销",
        (_, Lang::Vi) => "ở trạng thái khác",
        (_, Lang::Zh) => "处于其他状态",
        (_, Lang::En) => "cancelled",
    }
}

/// A trip status's name, as a person reads it.
pub fn trip_status_name(s: crate::goods::gate::TripStatus, lang: Lang) -> &'static str {
    use crate::goods::gate::TripStatus as T;
    match (s, lang) {
        (T::Virtual, Lang::Vi) => "trong hàng chờ ảo",
        (T::Virtual, Lang::Zh) => "在虚拟排队中",
        (T::Virtual, Lang::En) => "in the virtual queue",
        (T::Yard, Lang::Vi) => "đang chờ ở bãi",
        (T::Yard, Lang::Zh) => "在停车场等候",
        (T::Yard, Lang::En) => "waiting in the yard",
        (T::Called, Lang::Vi) => "đã được gọi vào làn",
        (T::Called, Lang::Zh) => "已被叫号进入车道",
        (T::Called, Lang::En) => "called to a lane",
        (T::Clearing, Lang::Vi) => "đang làm thủ tục thông quan",
        (T::Clearing, Lang::Zh) => "正在通关",
        (T::Clearing, Lang::En) => "in clearance",
        (T::Done, Lang::Vi) => "đã qua cửa khẩu",
        (T::Done, Lang::Zh) => "已通关",
        (T::Done, Lang::En) => "across the border",
        (T::Refused, Lang::Vi) => "đã bị từ chối thông quan",
        (T::Refused, Lang::Zh) => "已被拒绝通关",
        (T::Refused, Lang::En) => "refused at the gate",
        (T::Withdrawn, Lang::Vi) => "đã rút khỏi hàng chờ",
        (T::Withdrawn, Lang::Zh) => "已退出排队",
        (T::Withdrawn, Lang::En) => "withdrawn from the queue",
    }
}

fn event_name(event: &str, lang: Lang) -> &'static str {
    match (event, lang) {
        ("submitted", Lang::Vi) => "nộp",
        ("submitted", Lang::Zh) => "提交",
        ("accepted", Lang::Vi) => "chấp nhận",
        ("accepted", Lang::Zh) => "受理",
        ("rejected", Lang::Vi) => "từ chối",
        ("rejected", Lang::Zh) => "驳回",
        ("amended", Lang::Vi) => "sửa đổi",
        ("amended", Lang::Zh) => "修改",
        ("cancelled", Lang::Vi) => "hủy",
        ("cancelled", Lang::Zh) => "撤销",
        ("submitted", _) => "submitted",
        ("accepted", _) => "accepted",
        ("rejected", _) => "rejected",
        ("amended", _) => "amended",
        _ => "cancelled",
    }
}

fn refusal_detail(r: &crate::goods::Refusal, lang: Lang) -> String {
    use crate::goods::Refusal as R;
    match (r, lang) {
        (R::Transition(t), Lang::Vi) => {
            format!("Tờ khai {} nên không thể {}.", declaration_state_name(t.from, lang), event_name(t.event, lang))
        }
        (R::Transition(t), Lang::Zh) => format!("申报单{}，不能{}。", declaration_state_name(t.from, lang), event_name(t.event, lang)),
        (R::Transition(t), Lang::En) => format!("A declaration that is {} cannot be {}.", t.from, t.event),
        (R::TripLocked(t), Lang::Vi) => {
            let then = if t.status.is_waiting() { " Hãy hủy tờ khai và khai lại." } else { "" };
            format!("Không thể {} tờ khai: xe {}.{then}", event_name(t.event, lang), trip_status_name(t.status, lang))
        }
        (R::TripLocked(t), Lang::Zh) => {
            let then = if t.status.is_waiting() { "请撤销后重新申报。" } else { "" };
            format!("车辆{}，不能{}申报单。{then}", trip_status_name(t.status, lang), event_name(t.event, lang))
        }
        (R::TripLocked(t), Lang::En) => {
            let then = if t.status.is_waiting() { " Cancel it and file a new one." } else { "" };
            format!("The declaration cannot be {} while its truck is {}.{then}", t.event, trip_status_name(t.status, lang))
        }
    }
}

fn step_detail(e: &crate::goods::clearance::ClearanceError, lang: Lang) -> String {
    use crate::goods::clearance::ClearanceError as E;
    match (e, lang) {
        (E::NotYourStep, Lang::Vi) => "Bước này thuộc bên hoặc cơ quan khác.".into(),
        (E::NotYourStep, Lang::Zh) => "此步骤属于另一方或其他机构。".into(),
        (E::NotCurrent, Lang::Vi) => "Xe không ở bước này.".into(),
        (E::NotCurrent, Lang::Zh) => "车辆不在此步骤。".into(),
        (E::WrongState { state }, Lang::Vi) => format!("Bước đang ở trạng thái «{state}»."),
        (E::WrongState { state }, Lang::Zh) => format!("该步骤当前状态为“{state}”。"),
        (E::SideClosed, Lang::Vi) => "Cửa khẩu phía này đang đóng.".into(),
        (E::SideClosed, Lang::Zh) => "该侧口岸现在关闭。".into(),
        (E::NoReason, Lang::Vi) => "Tạm giữ hoặc từ chối phải nêu lý do.".into(),
        (E::NoReason, Lang::Zh) => "扣留或拒绝必须说明理由。".into(),
        (E::Finished, Lang::Vi) => "Chuyến qua cửa khẩu đã kết thúc.".into(),
        (E::Finished, Lang::Zh) => "本次通关已结束。".into(),
        (e, Lang::En) => {
            let s = e.to_string();
            let mut c = s.chars();
            c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str() + ".").unwrap_or_default()
        }
    }
}

/// The web console's messages, by stable id: `(id, [vi, zh, en])`, `{name}` marking a parameter.
/// Ids with a dot (`trip.done`, `step.VN:customs`) are the words for a code the API returns, under
/// the kind of code; the others are the console's own sentences. Served to the browser as
/// `i18n/LANG.json` (`cuakhau-server`'s `routes/web.rs`), so the browser and the server speak from
/// one catalogue; tests check that every message is there in all three languages with the same
/// parameters, that every code of the domain has its words, and that the console uses no id missing here.
pub const CONSOLE: &[(&str, [&str; 3])] = &[
    ("nav_public", ["Bản đồ", "地图", "Map"]),
    ("nav_driver", ["Lái xe", "司机", "Driver"]),
    ("nav_enterprise", ["Doanh nghiệp", "企业", "Enterprise"]),
    ("nav_desk", ["Bàn kiểm tra", "查验台", "Officer desk"]),
    ("nav_operator", ["Quản trị", "管理", "Operator"]),
    ("nav_planner", ["Kế hoạch", "规划", "Planner"]),
    ("main_nav", ["Điều hướng chính", "主导航", "Main"]),
    (
        "menu",
        ["Trình đơn: trang, ngôn ngữ, múi giờ, đăng nhập", "菜单：页面、语言、时区、登录", "Menu: pages, language, time zone, sign-in"],
    ),
    ("demo_short", ["Dữ liệu mẫu", "演示数据", "Demo data"]),
    ("skip", ["Bỏ qua, đến nội dung", "跳到正文", "Skip to content"]),
    ("language", ["Ngôn ngữ", "语言", "Language"]),
    ("time_zone", ["Múi giờ", "时区", "Time zone"]),
    ("login", ["Đăng nhập", "登录", "Sign in"]),
    ("logout", ["Đăng xuất", "退出", "Sign out"]),
    ("username", ["Tên đăng nhập", "用户名", "User name"]),
    ("password", ["Mật khẩu", "密码", "Password"]),
    (
        "demo",
        [
            "DỮ LIỆU DEMO: doanh nghiệp, biển số và lái xe là giả định",
            "演示数据：企业、车牌和司机均为虚构",
            "DEMO DATA: enterprises, plates and drivers are invented",
        ],
    ),
    ("map_title", ["Các cặp cửa khẩu biên giới Việt Nam – Trung Quốc", "中越边境口岸", "Border gates between Vietnam and China"]),
    ("country_vn", ["Việt Nam", "越南", "Vietnam"]),
    ("country_cn", ["Trung Quốc", "中国", "China"]),
    ("country_la", ["Lào", "老挝", "Laos"]),
    ("pairs", ["cặp cửa khẩu", "对口岸", "gate pairs"]),
    (
        "coords_note",
        [
            "{n} trong {t} cặp có toạ độ khảo sát và hiện trên bản đồ; {m} cặp chưa có toạ độ nên chỉ có trong danh sách.",
            "{t} 对口岸中有 {n} 对具有测量坐标并显示在地图上；另有 {m} 对尚无坐标，仅列于清单。",
            "{n} of {t} gate pairs have surveyed coordinates and are on the map; {m} have none yet and are in the list only.",
        ],
    ),
    ("kind", ["Loại", "类型", "Kind"]),
    ("mode", ["Phương thức", "方式", "Mode"]),
    ("vn_side", ["Phía Việt Nam", "越方", "Vietnamese side"]),
    ("cn_side", ["Phía Trung Quốc", "中方", "Chinese side"]),
    ("open", ["Đang mở", "开放中", "Open"]),
    ("closed", ["Đang đóng", "已关闭", "Closed"]),
    ("hours_unknown", ["Chưa rõ giờ", "时间未知", "Hours unknown"]),
    ("board", ["Bảng hàng chờ", "排队看板", "Queue board"]),
    ("yard", ["Trong bãi", "场内", "In the yard"]),
    ("virtual", ["Hàng chờ ảo", "虚拟排队", "Virtual queue"]),
    ("called", ["Đã gọi", "已叫号", "Called"]),
    ("clearing", ["Đang thông quan", "通关中", "Clearing"]),
    ("congestion", ["Mức ùn tắc", "拥堵等级", "Congestion"]),
    ("expected_wait", ["Thời gian chờ dự kiến", "预计等待", "Expected wait"]),
    ("lanes", ["Làn", "通道", "Lanes"]),
    ("lane", ["Làn", "通道", "Lane"]),
    ("truck", ["Xe", "车辆", "Truck"]),
    ("status", ["Trạng thái", "状态", "Status"]),
    ("capacity", ["Công suất/giờ", "每小时能力", "Capacity/hour"]),
    ("booked_ahead", ["Đã đặt chỗ các giờ tới", "未来几小时预约", "Booked for the coming hours"]),
    ("hour", ["Giờ", "时段", "Hour"]),
    ("booked", ["Đã đặt", "已预约", "Booked"]),
    ("queue", ["Hàng chờ", "队列", "Queue"]),
    ("position", ["Vị trí", "位置", "Place"]),
    ("plate", ["Biển số", "车牌", "Plate"]),
    ("class", ["Loại làn", "通道类别", "Lane class"]),
    ("est_call", ["Dự kiến gọi", "预计叫号", "Expected call"]),
    ("live", ["Cập nhật trực tiếp", "实时更新", "Live"]),
    (
        "as_of_behind",
        ["Dữ liệu tính đến {time} (chậm {seconds} giây)", "数据截至 {time}（延迟 {seconds} 秒）", "Data as of {time} ({seconds} s behind)"],
    ),
    (
        "read_fallback",
        [
            "Đọc từ cơ sở dữ liệu chính: bản sao chỉ đọc không trả lời",
            "从主数据库读取：只读副本未响应",
            "Read from the primary database: the read replica did not answer",
        ],
    ),
    (
        "conn_lost",
        [
            "Mất kết nối, đang thử lại… Cập nhật lần cuối {time}",
            "连接中断，正在重试…… 最后更新 {time}",
            "Connection lost, retrying… Last update {time}",
        ],
    ),
    (
        "offline",
        [
            "Không kết nối được máy chủ. Hãy kiểm tra mạng và thử lại.",
            "无法连接服务器，请检查网络后重试。",
            "Cannot reach the server. Check the connection and try again.",
        ],
    ),
    ("driver_title", ["Theo dõi xe của tôi", "查询我的车辆", "Track my truck"]),
    ("decl_no", ["Số tờ khai", "申报单号", "Declaration number"]),
    ("find", ["Tìm", "查询", "Find"]),
    (
        "your_turn",
        [
            "ĐẾN LƯỢT BẠN: vào {lane} tại cửa khẩu {gate}, chiều {direction}, trước {time} {zone}",
            "轮到您了：请于{zone}{time} 前驶入{gate}口岸 {lane}，方向：{direction}",
            "YOUR TURN: go to {lane} at {gate} gate, {direction}, before {time} {zone}",
        ],
    ),
    ("held_by", ["Xe đang bị {who} tạm giữ: {reason}", "车辆被{who}扣留：{reason}", "Truck held by {who}: {reason}"]),
    (
        "held_next",
        [
            "Dừng xe tại làn, giữ điện thoại bên mình và làm theo hướng dẫn của cán bộ; liên hệ doanh nghiệp khai báo nếu cần bổ sung giấy tờ.",
            "请在通道内停车等候，保持电话畅通，听从工作人员指示；如需补充材料，请联系申报企业。",
            "Stay at the lane with your phone and follow the officers' instructions; call the declaring firm if papers are missing.",
        ],
    ),
    ("refused_by", ["Xe bị {who} từ chối thông quan: {reason}", "车辆被{who}拒绝通关：{reason}", "Truck refused by {who}: {reason}"]),
    (
        "refused_next",
        [
            "Xe không được qua cửa khẩu. Rời làn theo hướng dẫn của cán bộ và liên hệ doanh nghiệp khai báo.",
            "车辆不得通关。请按工作人员指示驶离通道，并联系申报企业。",
            "The truck may not cross. Leave the lane as the officers direct and contact the declaring firm.",
        ],
    ),
    ("holder.handover", ["Biên phòng tại vạch km 0", "零公里线边防", "the border guards at the zero-kilometre line"]),
    ("officer.VN:gate-board", ["Ban quản lý cửa khẩu Việt Nam", "越方口岸管理委员会", "Vietnamese gate management board"]),
    ("officer.CN:gate-board", ["Ban quản lý cửa khẩu Trung Quốc", "中方口岸管理委员会", "Chinese gate management board"]),
    ("officer.VN:labour", ["Lao động Việt Nam", "越方劳动部门", "Vietnamese labour office"]),
    ("officer.CN:labour", ["Lao động Trung Quốc", "中方劳动部门", "Chinese labour office"]),
    ("officer.VN:foreign-affairs", ["Ngoại vụ Việt Nam", "越方外事部门", "Vietnamese foreign affairs"]),
    ("officer.CN:foreign-affairs", ["Ngoại vụ Trung Quốc", "中方外事部门", "Chinese foreign affairs"]),
    ("role.admin", ["Quản trị", "管理员", "Administrator"]),
    ("all_gate_pairs", ["mọi cặp cửa khẩu", "所有口岸", "every gate pair"]),
    ("field_row", ["{label} (dòng {row})", "{label}（第 {row} 行）", "{label} (row {row})"]),
    ("lane_named", ["làn số {number} ({class})", "{number} 号通道（{class}）", "lane {number} ({class})"]),
    ("place", ["Vị trí trong hàng", "队列位置", "Place in queue"]),
    ("of", ["trên", "/", "of"]),
    ("not_in_queue", ["Xe chưa vào hàng chờ.", "车辆尚未排队。", "The truck is not in a queue yet."]),
    ("step_now", ["Bước hiện tại", "当前环节", "Current step"]),
    ("declarations", ["Tờ khai", "申报单", "Declarations"]),
    ("new_decl", ["Tờ khai mới", "新申报", "New declaration"]),
    ("gate_pair", ["Cặp cửa khẩu", "口岸", "Gate pair"]),
    ("direction", ["Chiều", "方向", "Direction"]),
    ("plate_country", ["Nước đăng ký xe", "车辆登记国", "Country of registration"]),
    ("vehicle_kind", ["Loại phương tiện", "车辆类型", "Vehicle"]),
    ("driver_name", ["Tên lái xe", "司机姓名", "Driver's name"]),
    ("nationality", ["Quốc tịch", "国籍", "Nationality"]),
    ("document_no", ["Số giấy tờ", "证件号码", "Document number"]),
    ("hs_code", ["Mã HS", "HS 编码", "HS code"]),
    ("desc_vi", ["Mô tả (tiếng Việt)", "描述（越南语）", "Description (Vietnamese)"]),
    ("desc_zh", ["Mô tả (tiếng Trung)", "描述（中文）", "Description (Chinese)"]),
    ("packages", ["Số kiện", "件数", "Packages"]),
    ("gross_kg", ["Trọng lượng (kg)", "毛重（千克）", "Gross weight (kg)"]),
    ("value", ["Trị giá", "货值", "Value"]),
    ("currency", ["Tiền tệ", "币种", "Currency"]),
    ("origin", ["Xuất xứ", "原产地", "Origin"]),
    ("shelf_life", ["Hạn dùng (giờ, hàng tươi)", "保质期（小时，生鲜）", "Shelf life (hours, perishables)"]),
    ("certificate", ["Số giấy chứng nhận KDTV", "检疫证书号", "Phytosanitary/health certificate no."]),
    ("create", ["Tạo", "创建", "Create"]),
    ("submit", ["Nộp", "提交", "Submit"]),
    ("cancel", ["Huỷ", "撤销", "Cancel"]),
    ("state", ["Trạng thái", "状态", "State"]),
    ("book", ["Đặt chỗ", "预约", "Book"]),
    ("slots", ["Lịch khung giờ", "时段日历", "Slot calendar"]),
    ("free", ["Còn trống", "空余", "Free"]),
    ("join_queue", ["Vào hàng chờ ảo", "加入虚拟排队", "Join the virtual queue"]),
    ("booking", ["Đặt chỗ", "预约", "Booking"]),
    ("cancel_booking", ["Huỷ đặt chỗ", "取消预约", "Cancel booking"]),
    ("saved", ["Đã lưu.", "已保存。", "Saved."]),
    ("booking_confirmed", ["Đã đặt chỗ", "预约成功", "Booking confirmed"]),
    (
        "booked_hour_closed",
        [
            "Giờ đã đặt nay không nhận xe (cửa khẩu tạm dừng hoặc ngoài giờ làm việc): hãy huỷ và đặt giờ khác.",
            "所订时段现已不通关（口岸暂停或不在开放时间）：请取消后另订时段。",
            "The booked hour no longer takes trucks (a suspension, or outside the gate's hours): cancel it and book another hour.",
        ],
    ),
    ("reference", ["Mã đặt chỗ", "预约编号", "Reference"]),
    ("qr_alt", ["Mã QR mở trang của lái xe", "打开司机页面的二维码", "QR code that opens the driver's page"]),
    (
        "qr_caption",
        [
            "Lái xe quét mã này để theo dõi xe và nhận lượt gọi.",
            "司机扫描此码即可查看车辆并接收叫号。",
            "The driver scans this to follow the truck and be called.",
        ],
    ),
    ("rules", ["Quy định", "规则", "Rules"]),
    (
        "rule_arrive",
        [
            "Xe vào bãi trong giờ đã đặt; lái xe được gọi vào làn theo thứ tự, hàng tươi được ưu tiên.",
            "车辆须在预约时段内进入停车场；司机按顺序被叫号进入通道，生鲜货物优先。",
            "Bring the truck into the yard within the booked hour; drivers are called to a lane in turn, perishables first.",
        ],
    ),
    (
        "rule_no_show",
        [
            "Xe chưa vào bãi sau 2 giờ kể từ đầu giờ đã đặt thì mất chỗ, chỗ được trả lại cho xe khác.",
            "预约时段开始后 2 小时内车辆仍未进入停车场的，预约作废，名额释放给其他车辆。",
            "A truck not in the yard 2 hours after the start of the booked hour loses the booking; the place goes back to others.",
        ],
    ),
    (
        "rule_perishable",
        [
            "Khi được gọi, xe phải vào làn trước giờ hạn hiển thị trên trang của lái xe, nếu không sẽ quay lại hàng chờ.",
            "被叫号后须在司机页面显示的时限前驶入通道，否则重新排队。",
            "Once called, the truck must reach the lane before the deadline on the driver's page, or it goes back to the queue.",
        ],
    ),
    ("print", ["In", "打印", "Print"]),
    (
        "cancel_confirm",
        [
            "Huỷ đặt chỗ này? Giờ đã đặt sẽ được trả lại cho người khác.",
            "确定取消此预约吗？该时段将释放给其他人。",
            "Cancel this booking? The hour goes back to others.",
        ],
    ),
    ("cancel_yes", ["Có, huỷ đặt chỗ", "是，取消预约", "Yes, cancel the booking"]),
    ("cancel_keep", ["Không, giữ lại", "不，保留", "No, keep it"]),
    ("booking_cancelled", ["Đã huỷ đặt chỗ.", "预约已取消。", "Booking cancelled."]),
    ("time_left", ["Còn {time}", "剩余 {time}", "{time} left"]),
    ("accepted_msg", ["Đã chấp nhận tờ khai.", "申报单已接受。", "Declaration accepted."]),
    ("rejected_msg", ["Đã từ chối tờ khai.", "申报单已驳回。", "Declaration rejected."]),
    ("actions", ["Thao tác", "操作", "Actions"]),
    ("worklist", ["Danh sách việc", "待办清单", "Worklist"]),
    ("channel", ["Luồng", "通道", "Channel"]),
    ("step", ["Bước", "环节", "Step"]),
    ("start", ["Bắt đầu", "开始", "Start"]),
    ("pass", ["Cho qua", "放行", "Pass"]),
    ("hold", ["Tạm giữ", "扣留", "Hold"]),
    ("refuse", ["Từ chối", "拒绝", "Refuse"]),
    ("reason", ["Lý do", "理由", "Reason"]),
    ("consignments", ["Lô hàng", "货物", "Consignments"]),
    ("steps", ["Các bước", "环节", "Steps"]),
    ("nothing", ["Không có gì.", "暂无。", "Nothing here."]),
    ("disable", ["Khóa tài khoản", "停用账户", "Disable"]),
    ("enable", ["Mở khóa", "启用账户", "Enable"]),
    ("track_code", ["Mã theo dõi", "跟踪码", "Tracking code"]),
    ("driver_link", ["Liên kết cho lái xe", "司机链接", "Driver's link"]),
    ("need_login", ["Hãy đăng nhập để xem trang này.", "请登录后查看此页。", "Sign in to see this page."]),
    ("not_allowed", ["Vai trò của bạn không được xem trang này.", "您的角色无权查看此页。", "Your role may not see this page."]),
    ("hours", ["Giờ mở cửa", "开放时间", "Opening hours"]),
    ("opens", ["Mở", "开", "Opens"]),
    ("closes", ["Đóng", "关", "Closes"]),
    ("source", ["Nguồn", "来源", "Source"]),
    ("save", ["Lưu", "保存", "Save"]),
    ("active", ["Hoạt động", "启用", "Active"]),
    ("suspensions", ["Tạm dừng", "暂停通关", "Suspensions"]),
    ("from", ["Từ", "自", "From"]),
    ("until", ["Đến", "至", "Until"]),
    ("preregistered", ["Chỉ xe đã đăng ký", "仅限已预约车辆", "Pre-registered trucks only"]),
    ("add", ["Thêm", "添加", "Add"]),
    ("users", ["Người dùng", "用户", "Users"]),
    ("roles", ["Vai trò", "角色", "Roles"]),
    ("display_name", ["Tên hiển thị", "显示名称", "Display name"]),
    ("audit", ["Nhật ký kiểm toán", "审计日志", "Audit log"]),
    ("verified", ["Chuỗi băm nguyên vẹn: {n} bản ghi", "哈希链完整：{n} 条记录", "Hash chain intact: {n} entries"]),
    ("broken", ["Chuỗi băm bị phá vỡ", "哈希链已断裂", "Hash chain broken"]),
    ("actor", ["Người thực hiện", "操作人", "Actor"]),
    ("action", ["Hành động", "操作", "Action"]),
    ("entity", ["Đối tượng", "对象", "Entity"]),
    ("when", ["Thời điểm", "时间", "When"]),
    ("dwell", ["Thời gian giải phóng hàng (WCO TRS)", "货物放行时间（WCO TRS）", "Time release (WCO TRS)"]),
    ("group_by", ["Nhóm theo", "分组", "Group by"]),
    ("interval", ["Khoảng", "区间", "Interval"]),
    ("csv", ["Tải CSV", "下载 CSV", "Download CSV"]),
    ("simulate", ["Mô phỏng năng lực", "能力仿真", "Capacity simulation"]),
    ("scenario", ["Kịch bản", "场景", "Scenario"]),
    ("scenario_toml", ["Kịch bản (TOML)", "场景（TOML）", "Scenario (TOML)"]),
    ("run", ["Chạy", "运行", "Run"]),
    ("running", ["Đang chạy", "运行中", "Running"]),
    ("variants", ["Phương án", "方案", "Variants"]),
    ("mean_wait", ["Chờ trung bình (giờ)", "平均等待（小时）", "Mean wait (h)"]),
    ("served", ["Đã phục vụ", "已服务", "Served"]),
    ("spoiled", ["Hàng hỏng", "变质", "Spoiled"]),
    ("side", ["Phía", "方", "Side"]),
    ("zone_vn", ["giờ Việt Nam (UTC+7)", "越南时间（UTC+7）", "Vietnam time (UTC+7)"]),
    ("zone_cn", ["giờ Bắc Kinh (UTC+8)", "北京时间（UTC+8）", "Beijing time (UTC+8)"]),
    ("refresh", ["Làm mới", "刷新", "Refresh"]),
    ("error", ["Lỗi", "错误", "Error"]),
    ("upload", ["Tải tệp kịch bản", "上传场景文件", "Upload a scenario file"]),
    ("view", ["Xem", "查看", "Open"]),
    ("seconds", ["giây", "秒", "s"]),
    ("minutes", ["phút", "分钟", "min"]),
    ("hours_short", ["giờ", "小时", "h"]),
    ("none", ["—", "—", "—"]),
    ("amend", ["Sửa đổi", "修改", "Amend"]),
    ("accept", ["Chấp nhận", "接受", "Accept"]),
    ("reject", ["Từ chối", "驳回", "Reject"]),
    ("nationality.VN", ["Việt Nam", "越南", "Vietnam"]),
    ("nationality.CN", ["Trung Quốc", "中国", "China"]),
    ("dir.export", ["Xuất (VN → TQ)", "出口（越→中）", "Export (VN → CN)"]),
    ("dir.import", ["Nhập (TQ → VN)", "进口（中→越）", "Import (CN → VN)"]),
    ("class.general", ["thường", "普通", "general"]),
    ("class.perishable", ["hàng tươi", "生鲜", "perishable"]),
    ("class.agv", ["xe tự hành", "无人驾驶", "driverless (AGV)"]),
    ("class.reserved", ["dành riêng", "预留", "reserved"]),
    ("congestion.green", ["xanh", "绿色", "green"]),
    ("congestion.yellow", ["vàng", "黄色", "yellow"]),
    ("congestion.orange", ["cam", "橙色", "orange"]),
    ("congestion.red", ["đỏ", "红色", "red"]),
    ("channel.green", ["xanh", "绿色", "green"]),
    ("channel.yellow", ["vàng", "黄色", "yellow"]),
    ("channel.red", ["đỏ", "红色", "red"]),
    ("state.draft", ["nháp", "草稿", "draft"]),
    ("state.submitted", ["đã nộp", "已提交", "submitted"]),
    ("state.accepted", ["đã chấp nhận", "已接受", "accepted"]),
    ("state.rejected", ["bị từ chối", "已驳回", "rejected"]),
    ("state.cancelled", ["đã huỷ", "已撤销", "cancelled"]),
    ("trip.none", ["chưa vào hàng chờ", "尚未排队", "not in a queue"]),
    ("trip.virtual", ["Xe đang trong hàng chờ ảo", "车辆在虚拟排队中", "Truck in the virtual queue"]),
    ("trip.yard", ["Xe đang chờ ở bãi", "车辆在停车场等候", "Truck waiting in the yard"]),
    ("trip.called", ["Xe đã được gọi vào làn", "车辆已被叫号", "Truck called to a lane"]),
    ("trip.clearing", ["Đang thông quan", "正在通关", "In clearance"]),
    ("trip.done", ["Đã qua cửa khẩu", "已通关", "Crossed"]),
    ("trip.refused", ["Bị từ chối thông quan", "已被拒绝通关", "Refused at the gate"]),
    ("trip.withdrawn", ["Đã rút khỏi hàng chờ", "已退出排队", "Withdrawn from the queue"]),
    ("step_state.pending", ["chờ", "待办", "waiting"]),
    ("step_state.in-progress", ["đang làm", "进行中", "in progress"]),
    ("step_state.held", ["tạm giữ", "扣留", "held"]),
    ("step_state.passed", ["đã cho qua", "已放行", "passed"]),
    ("step_state.refused", ["bị từ chối", "已拒绝", "refused"]),
    ("step.VN:customs", ["Hải quan Việt Nam", "越方海关", "Vietnamese customs"]),
    ("step.VN:border-guard", ["Biên phòng Việt Nam", "越方边防", "Vietnamese border guard"]),
    ("step.VN:quarantine", ["Kiểm dịch Việt Nam", "越方检疫", "Vietnamese quarantine"]),
    ("step.CN:customs", ["Hải quan Trung Quốc", "中方海关", "Chinese customs"]),
    ("step.CN:border-guard", ["Biên phòng Trung Quốc", "中方边检", "Chinese border inspection"]),
    ("step.CN:quarantine", ["Kiểm dịch Trung Quốc", "中方检疫", "Chinese quarantine"]),
    ("step.handover", ["Bàn giao tại vạch km 0", "零公里线交接", "Hand-over at the zero-kilometre line"]),
    ("kind.international", ["quốc tế", "国际", "international"]),
    ("kind.main", ["chính", "主要", "main"]),
    ("kind.auxiliary", ["phụ", "辅助", "auxiliary"]),
    ("kind.crossing-point", ["lối mở", "通道", "crossing point"]),
    ("mode.road", ["đường bộ", "公路", "road"]),
    ("mode.rail", ["đường sắt", "铁路", "rail"]),
    ("mode.river", ["đường sông", "水路", "river"]),
    ("vehicle.truck", ["xe tải", "货车", "truck"]),
    ("vehicle.tractor-trailer", ["đầu kéo + rơ-moóc", "牵引车+挂车", "tractor + trailer"]),
    ("vehicle.refrigerated", ["xe lạnh", "冷藏车", "refrigerated"]),
    ("vehicle.agv", ["xe tự hành", "无人驾驶车", "driverless (AGV)"]),
    ("risk.none", ["không quy tắc rủi ro nào khớp", "未命中风险规则", "no risk rule matched"]),
    ("group.gate-pair,direction", ["cặp cửa khẩu · chiều", "口岸 · 方向", "gate pair · direction"]),
    ("group.day", ["ngày", "日期", "day"]),
    ("group.commodity", ["mặt hàng (HS)", "商品（HS）", "commodity (HS)"]),
    ("group.channel", ["luồng", "通道", "channel"]),
    ("interval.arrival-to-call", ["đến bãi → được gọi", "到场 → 叫号", "arrival → call"]),
    ("interval.call-to-exit-release", ["được gọi → xuất được giải phóng", "叫号 → 出境放行", "call → exit release"]),
    ("interval.exit-release-to-crossing", ["xuất được giải phóng → qua biên giới", "出境放行 → 过境", "exit release → crossing"]),
    ("interval.crossing-to-entry-release", ["qua biên giới → nhập được giải phóng", "过境 → 入境放行", "crossing → entry release"]),
    ("interval.arrival-to-entry-release", ["đến bãi → nhập được giải phóng", "到场 → 入境放行", "arrival → entry release"]),
    ("interval.agency-time", ["thời gian của từng cơ quan", "各机构用时", "time per agency"]),
];

/// The console message `id` in `lang` with its `{name}` parameters filled from `vars` — what the
/// console's `t()` does, for words that leave the server another way (the drivers' webhook). An
/// unknown id is returned as is, as the console does.
pub fn console_text(lang: Lang, id: &str, vars: &[(&str, &str)]) -> String {
    let Some(template) = console_messages(lang).find(|(k, _)| *k == id).map(|(_, t)| t) else { return id.to_string() };
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                out.push_str(vars.iter().find(|(k, _)| *k == name).map_or("", |(_, v)| v));
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

impl Lang {
    /// The language of a side's people: Vietnamese for Vietnam, Chinese for China.
    pub fn of_side(side: crate::refdata::Side) -> Lang {
        match side {
            crate::refdata::Side::Vn => Lang::Vi,
            crate::refdata::Side::Cn => Lang::Zh,
        }
    }
}

/// Where and by when a called truck must go: the lane by its number and class, the exit side's
/// gate, the direction, and the deadline, read in the exit side's zone.
#[derive(Debug, Clone, Copy)]
pub struct CallPlace<'a> {
    pub lane_number: usize,
    pub class: crate::refdata::LaneClass,
    /// The gate the truck leaves from (the exit side's).
    pub gate: &'a crate::refdata::Gate,
    pub direction: crate::refdata::Direction,
    pub deadline: crate::time::Timestamp,
}

/// The zone's name as people read it ("giờ Việt Nam (UTC+7)"), by side.
pub fn zone_name(lang: Lang, side: crate::refdata::Side) -> String {
    console_text(lang, if side == crate::refdata::Side::Vn { "zone_vn" } else { "zone_cn" }, &[])
}

/// "Your turn" in `lang`, as the driver's page says it: "ĐẾN LƯỢT BẠN: vào làn số 2 (hàng tươi) tại
/// cửa khẩu Hữu Nghị, chiều Xuất (VN → TQ), trước 10:15 giờ Việt Nam (UTC+7)".
pub fn your_turn(lang: Lang, p: &CallPlace<'_>) -> String {
    let side = p.direction.exit_side();
    let minute = p.deadline.local_minute_of_day(side.zone()).unwrap_or(0);
    let time = format!("{:02}:{:02}", minute / 60, minute % 60);
    let class = console_text(lang, &format!("class.{}", p.class.code()), &[]);
    let lane = console_text(lang, "lane_named", &[("number", &p.lane_number.to_string()), ("class", &class)]);
    let direction = console_text(lang, &format!("dir.{}", p.direction.code()), &[]);
    let zone = zone_name(lang, side);
    console_text(
        lang,
        "your_turn",
        &[("lane", &lane), ("gate", p.gate.name_in(lang)), ("direction", &direction), ("time", &time), ("zone", &zone)],
    )
}

/// The console's label (message id) of each request field that a form asks for, by the field's
/// path in the request without its row (`consignments[0].hs_code` → `consignments.hs_code`).
const FIELD_LABELS: &[(&str, &str)] = &[
    ("gate_pair", "gate_pair"),
    ("direction", "direction"),
    ("plate", "plate"),
    ("plate_country", "plate_country"),
    ("vehicle_kind", "vehicle_kind"),
    ("driver", "driver_name"),
    ("driver.name", "driver_name"),
    ("driver.nationality", "nationality"),
    ("driver.document_no", "document_no"),
    ("consignments", "consignments"),
    ("consignments.hs_code", "hs_code"),
    ("consignments.description_vi", "desc_vi"),
    ("consignments.description_zh", "desc_zh"),
    ("consignments.packages", "packages"),
    ("consignments.gross_kg", "gross_kg"),
    ("consignments.value", "value"),
    ("consignments.currency", "currency"),
    ("consignments.origin", "origin"),
    ("consignments.shelf_life_h", "shelf_life"),
    ("consignments.certificate", "certificate"),
    ("reason", "reason"),
    ("reasons", "reason"),
    ("hour", "hour"),
];

/// A request field as its form labels it, in `lang`, with the row of a list counted from 1:
/// `consignments[0].hs_code` is "Mã HS (dòng 1)". A field no form asks for keeps its path.
pub fn field_label(lang: Lang, path: &str) -> String {
    // `a[3].b` → key `a.b`, row 4.
    let (key, row) = match (path.find('['), path.find(']')) {
        (Some(open), Some(close)) if open < close => {
            let row = path[open + 1..close].parse::<usize>().ok().map(|i| i + 1);
            (format!("{}{}", &path[..open], &path[close + 1..]), row)
        }
        _ => (path.to_string(), None),
    };
    let Some((_, id)) = FIELD_LABELS.iter().find(|(k, _)| *k == key) else { return path.to_string() };
    let label = console_text(lang, id, &[]);
    match row {
        Some(row) => console_text(lang, "field_row", &[("label", &label), ("row", &row.to_string())]),
        None => label,
    }
}

/// Who acts at a clearance step, as a person reads it ("Hải quan Việt Nam").
pub fn step_holder(lang: Lang, step: &crate::goods::clearance::Step) -> String {
    match step {
        crate::goods::clearance::Step::Handover => console_text(lang, "holder.handover", &[]),
        s => console_text(lang, &format!("step.{}", s.code()), &[]),
    }
}

/// A refusal at the gate as the driver's page says it: who refused, why, and what to do.
pub fn refused_text(lang: Lang, step: &crate::goods::clearance::Step, reason: &str) -> String {
    let who = step_holder(lang, step);
    format!("{} {}", console_text(lang, "refused_by", &[("who", &who), ("reason", reason)]), console_text(lang, "refused_next", &[]))
}

/// The console's messages in one language, in catalogue order.
pub fn console_messages(lang: Lang) -> impl Iterator<Item = (&'static str, &'static str)> {
    let i = Lang::ALL.iter().position(|l| *l == lang).unwrap_or(2);
    CONSOLE.iter().map(move |(id, texts)| (*id, texts[i]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_known_language() {
        let cases = [
            (None, Lang::En),
            (Some("vi-VN,vi;q=0.9,en;q=0.8"), Lang::Vi),
            (Some("zh-CN"), Lang::Zh),
            (Some("fr-FR, zh;q=0.5, en;q=0.4"), Lang::Zh),
            (Some("en;q=0.3, vi;q=0.9"), Lang::Vi),
            (Some("de"), Lang::En),
            (Some("vi;q=0, zh"), Lang::Zh),
        ];
        for (header, want) in cases {
            assert_eq!(Lang::negotiate(header), want, "{header:?}");
        }
    }

    #[test]
    fn every_message_differs_between_languages() {
        let msgs = [Msg::WrongCredentials, Msg::Forbidden, Msg::UnknownField { field: "x".into() }, Msg::BodyTooLarge { limit_bytes: 10 }];
        for m in msgs {
            let texts: Vec<String> = Lang::ALL.iter().map(|l| m.detail(*l)).collect();
            assert_ne!(texts[0], texts[1]);
            assert_ne!(texts[1], texts[2]);
            assert_ne!(m.title(Lang::Vi), m.title(Lang::En));
        }
    }

    /// The `{name}` parameters of a message, sorted.
    fn params(s: &str) -> Vec<&str> {
        let mut out: Vec<&str> = s.split('{').skip(1).filter_map(|p| p.split_once('}').map(|(n, _)| n)).collect();
        out.sort_unstable();
        out
    }

    #[test]
    fn every_console_message_is_there_in_each_language_with_the_same_parameters() {
        let mut seen = std::collections::HashSet::new();
        for (id, texts) in CONSOLE {
            assert!(seen.insert(*id), "{id} is defined twice");
            assert!(!id.is_empty() && !id.contains(['"', '\\']), "{id:?}");
            for (lang, text) in Lang::ALL.iter().zip(texts) {
                assert!(!text.trim().is_empty(), "{id} has no {} message", lang.code());
                assert_eq!(params(text), params(texts[2]), "{id} in {} has other parameters than in English", lang.code());
            }
        }
        assert_eq!(console_messages(Lang::Zh).find(|(id, _)| *id == "nav_public"), Some(("nav_public", "地图")));
    }

    #[test]
    fn the_call_names_the_lane_gate_direction_and_deadline_with_its_zone_in_each_language() {
        use crate::refdata::{Direction, LaneClass, Side, named_gate};
        let vn = named_gate(Side::Vn, "Hữu Nghị", "友谊", "", "Huu Nghi");
        let deadline = crate::time::parse_rfc3339("2026-11-23T10:15:00+07:00").unwrap();
        let call = CallPlace { lane_number: 2, class: LaneClass::Perishable, gate: &vn, direction: Direction::Export, deadline };
        assert_eq!(
            your_turn(Lang::Vi, &call),
            "ĐẾN LƯỢT BẠN: vào làn số 2 (hàng tươi) tại cửa khẩu Hữu Nghị, chiều Xuất (VN → TQ), trước 10:15 giờ Việt Nam (UTC+7)"
        );
        assert_eq!(
            your_turn(Lang::En, &call),
            "YOUR TURN: go to lane 2 (perishable) at Huu Nghi gate, Export (VN → CN), before 10:15 Vietnam time (UTC+7)"
        );
        // Leaving China: the Chinese gate, Beijing time (an hour ahead of Hà Nội).
        let cn = named_gate(Side::Cn, "Hữu Nghị Quan", "友谊关", "", "Youyiguan");
        let call = CallPlace { lane_number: 1, class: LaneClass::General, gate: &cn, direction: Direction::Import, deadline };
        assert_eq!(
            your_turn(Lang::Zh, &call),
            "轮到您了：请于北京时间（UTC+8）11:15 前驶入友谊关口岸 1 号通道（普通），方向：进口（中→越）"
        );
        assert_eq!(console_text(Lang::En, "no such message", &[]), "no such message");
        assert_eq!(console_text(Lang::En, "time_left", &[("time", "4:59")]), "4:59 left");
    }

    #[test]
    fn request_fields_are_named_as_their_form_labels_them_with_the_row() {
        assert_eq!(field_label(Lang::Vi, "consignments[0].hs_code"), "Mã HS (dòng 1)");
        assert_eq!(field_label(Lang::Zh, "consignments[2].gross_kg"), "毛重（千克）（第 3 行）");
        assert_eq!(field_label(Lang::En, "driver.document_no"), "Document number");
        assert_eq!(field_label(Lang::En, "plate"), "Plate");
        assert_eq!(field_label(Lang::En, "cursor"), "cursor", "no form asks for it: the path");
        for (_, id) in FIELD_LABELS {
            assert!(CONSOLE.iter().any(|(k, _)| k == id), "no console message {id}");
        }
    }

    #[test]
    fn every_code_the_console_shows_has_words() {
        use crate::goods::clearance::{Channel, Step};
        use crate::goods::gate::TripStatus;
        use crate::refdata::{Direction, GateKind, LaneClass, Mode, Side};
        let ids: std::collections::HashSet<&str> = CONSOLE.iter().map(|(id, _)| *id).collect();
        let mut want: Vec<String> = Vec::new();
        let mut add = |kind: &str, codes: &[&str]| want.extend(codes.iter().map(|c| format!("{kind}.{c}")));
        add("dir", Direction::CODES);
        add("kind", GateKind::CODES);
        add("mode", Mode::CODES);
        add("class", LaneClass::CODES);
        add("class", &crate::goods::slots::Bucket::ALL.map(|b| b.code()));
        add("vehicle", crate::goods::parties::VehicleKind::CODES);
        add("channel", Channel::CODES);
        add("trip", &TripStatus::ALL.map(|s| s.code()));
        add("state", crate::goods::declaration::StateKind::CODES);
        add("step_state", &["pending", "in-progress", "held", "passed", "refused"]);
        add("interval", &crate::goods::dwell::INTERVALS);
        add("interval", &["agency-time"]);
        let congestion = [0, 500, 1001, 5001].map(|n| crate::goods::slots::CongestionLevel::of(n).code());
        add("congestion", &congestion);
        let mut steps = vec![Step::Handover.code()];
        for side in [Side::Vn, Side::Cn] {
            for agency in [crate::auth::Agency::Customs, crate::auth::Agency::BorderGuard, crate::auth::Agency::Quarantine] {
                steps.push(Step::Agency { side, agency }.code());
            }
        }
        let steps: Vec<&str> = steps.iter().map(String::as_str).collect();
        add("step", &steps);
        add("holder", &["handover"]);
        for side in ["VN", "CN"] {
            add(
                "officer",
                &["gate-board", "labour", "foreign-affairs"].map(|a| format!("{side}:{a}")).iter().map(String::as_str).collect::<Vec<_>>(),
            );
        }
        let missing: Vec<&String> = want.iter().filter(|id| !ids.contains(id.as_str())).collect();
        // The booking rules the console shows state the no-show grace the server applies.
        let grace_h = crate::goods::slots::SlotPolicy::default().no_show_grace_s / 3600;
        let rule = CONSOLE.iter().find(|(id, _)| *id == "rule_no_show").map(|(_, t)| t).expect("the no-show rule");
        assert!(rule.iter().all(|t| t.contains(&format!("{grace_h} "))), "{rule:?} does not say {grace_h} hours");
        assert!(missing.is_empty(), "no words for {missing:?}");
    }
}
