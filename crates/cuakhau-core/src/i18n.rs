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
        declaration: i64,
    },
    /// The declaration is not accepted, or its validity has run out (state code).
    DeclarationNotValid {
        declaration: i64,
        state: String,
    },
    YardFull {
        capacity: u32,
    },
    /// The declaration already has a trip (status code).
    TripExists {
        declaration: i64,
        trip: i64,
        status: String,
    },
    FeeRecorded {
        trip: i64,
        receipt: String,
    },
    ReceiptUsed {
        receipt: String,
        trip: i64,
    },
}

/// What a store looked for and did not find, named in the caller's language by [`missing_name`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    GatePair(String),
    User(String),
    Declaration(i64),
    Booking(i64),
    Trip(i64),
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
}
