// cuakhau web console: one page per user group, every figure from the API, no logic of its own
// beyond formatting. Hash routes: #/ (map), #/board/PAIR/DIR, #/driver, #/enterprise, #/desk,
// #/operator, #/planner, #/login.

const T = {
  vi: {
    nav_public: "Bản đồ", nav_driver: "Lái xe", nav_enterprise: "Doanh nghiệp", nav_desk: "Bàn kiểm tra", nav_operator: "Quản trị", nav_planner: "Kế hoạch",
    login: "Đăng nhập", logout: "Đăng xuất", username: "Tên đăng nhập", password: "Mật khẩu", demo: "DỮ LIỆU DEMO: doanh nghiệp, biển số và lái xe là giả định",
    map_title: "Các cặp cửa khẩu biên giới Việt Nam – Trung Quốc", pairs: "cặp cửa khẩu", coords_note: "{n} trong {t} cặp có toạ độ khảo sát và hiện trên bản đồ; các cặp còn lại chỉ có trong danh sách.",
    kind: "Loại", mode: "Phương thức", vn_side: "Phía Việt Nam", cn_side: "Phía Trung Quốc", open: "Đang mở", closed: "Đang đóng", hours_unknown: "Chưa rõ giờ", board: "Bảng hàng chờ",
    export: "Xuất (VN → TQ)", import: "Nhập (TQ → VN)", yard: "Trong bãi", virtual: "Hàng chờ ảo", called: "Đã gọi", clearing: "Đang thông quan", congestion: "Mức ùn tắc",
    expected_wait: "Thời gian chờ dự kiến", lanes: "Làn", lane: "Làn", truck: "Xe", status: "Trạng thái", capacity: "Công suất/giờ", booked_ahead: "Đã đặt chỗ các giờ tới",
    hour: "Giờ", booked: "Đã đặt", queue: "Hàng chờ", position: "Vị trí", plate: "Biển số", class: "Loại làn", est_call: "Dự kiến gọi", live: "Cập nhật trực tiếp", conn_lost: "Mất kết nối, đang thử lại… Cập nhật lần cuối {time}", offline: "Không kết nối được máy chủ. Hãy kiểm tra mạng và thử lại.",
    driver_title: "Theo dõi xe của tôi", decl_no: "Số tờ khai", find: "Tìm", your_turn: "ĐẾN LƯỢT BẠN: vào {lane} trước {time}", place: "Vị trí trong hàng", of: "trên",
    not_in_queue: "Xe chưa vào hàng chờ.", step_now: "Bước hiện tại", declarations: "Tờ khai", new_decl: "Tờ khai mới", gate_pair: "Cặp cửa khẩu", direction: "Chiều",
    plate_country: "Nước đăng ký xe", vehicle_kind: "Loại phương tiện", driver_name: "Tên lái xe", nationality: "Quốc tịch", document_no: "Số giấy tờ", hs_code: "Mã HS",
    desc_vi: "Mô tả (tiếng Việt)", desc_zh: "Mô tả (tiếng Trung)", packages: "Số kiện", gross_kg: "Trọng lượng (kg)", value: "Trị giá", currency: "Tiền tệ", origin: "Xuất xứ",
    shelf_life: "Hạn dùng (giờ, hàng tươi)", certificate: "Số giấy chứng nhận KDTV", create: "Tạo", submit: "Nộp", cancel: "Huỷ", state: "Trạng thái", book: "Đặt chỗ",
    slots: "Lịch khung giờ", free: "Còn trống", join_queue: "Vào hàng chờ ảo", booking: "Đặt chỗ", cancel_booking: "Huỷ đặt chỗ", saved: "Đã lưu.",
    worklist: "Danh sách việc", channel: "Luồng", step: "Bước", start: "Bắt đầu", pass: "Cho qua", hold: "Tạm giữ", refuse: "Từ chối", reason: "Lý do",
    consignments: "Lô hàng", steps: "Các bước", nothing: "Không có gì.", disable: "Khóa tài khoản", enable: "Mở khóa", track_code: "Mã theo dõi", driver_link: "Liên kết cho lái xe", trip_virtual: "Xe đang trong hàng chờ ảo", trip_yard: "Xe đang chờ ở bãi", trip_called: "Xe đã được gọi vào làn", trip_clearing: "Đang thông quan", trip_done: "Đã qua cửa khẩu", trip_refused: "Bị từ chối thông quan", trip_withdrawn: "Đã rút khỏi hàng chờ", need_login: "Hãy đăng nhập để xem trang này.", not_allowed: "Vai trò của bạn không được xem trang này.",
    hours: "Giờ mở cửa", opens: "Mở", closes: "Đóng", save: "Lưu", active: "Hoạt động", suspensions: "Tạm dừng", from: "Từ", until: "Đến", preregistered: "Chỉ xe đã đăng ký",
    add: "Thêm", users: "Người dùng", roles: "Vai trò", display_name: "Tên hiển thị", audit: "Nhật ký kiểm toán", verified: "Chuỗi băm nguyên vẹn: {n} bản ghi", broken: "Chuỗi băm bị phá vỡ",
    actor: "Người thực hiện", action: "Hành động", entity: "Đối tượng", when: "Thời điểm", dwell: "Thời gian giải phóng hàng (WCO TRS)", group_by: "Nhóm theo",
    interval: "Khoảng", simulate: "Mô phỏng năng lực", scenario: "Kịch bản", run: "Chạy", running: "Đang chạy", variants: "Phương án", mean_wait: "Chờ trung bình (giờ)",
    served: "Đã phục vụ", spoiled: "Hàng hỏng", side: "Phía", zone_vn: "giờ Việt Nam (UTC+7)", zone_cn: "giờ Bắc Kinh (UTC+8)", refresh: "Làm mới", error: "Lỗi",
    upload: "Tải tệp kịch bản", view: "Xem", "no risk rule matched": "không quy tắc rủi ro nào khớp", seconds: "giây", minutes: "phút", none: "—", amend: "Sửa đổi", accept: "Chấp nhận", reject: "Từ chối",
  },
  zh: {
    nav_public: "地图", nav_driver: "司机", nav_enterprise: "企业", nav_desk: "查验台", nav_operator: "管理", nav_planner: "规划",
    login: "登录", logout: "退出", username: "用户名", password: "密码", demo: "演示数据：企业、车牌和司机均为虚构",
    map_title: "中越边境口岸", pairs: "对口岸", coords_note: "{t} 对口岸中有 {n} 对具有测量坐标并显示在地图上；其余仅列于清单。",
    kind: "类型", mode: "方式", vn_side: "越方", cn_side: "中方", open: "开放中", closed: "已关闭", hours_unknown: "时间未知", board: "排队看板",
    export: "出口（越→中）", import: "进口（中→越）", yard: "场内", virtual: "虚拟排队", called: "已叫号", clearing: "通关中", congestion: "拥堵等级",
    expected_wait: "预计等待", lanes: "通道", lane: "通道", truck: "车辆", status: "状态", capacity: "每小时能力", booked_ahead: "未来几小时预约",
    hour: "时段", booked: "已预约", queue: "队列", position: "位置", plate: "车牌", class: "通道类别", est_call: "预计叫号", live: "实时更新", conn_lost: "连接中断，正在重试…… 最后更新 {time}", offline: "无法连接服务器，请检查网络后重试。",
    driver_title: "查询我的车辆", decl_no: "申报单号", find: "查询", your_turn: "轮到您了：请在 {time} 前驶入 {lane}", place: "队列位置", of: "/",
    not_in_queue: "车辆尚未排队。", step_now: "当前环节", declarations: "申报单", new_decl: "新申报", gate_pair: "口岸", direction: "方向",
    plate_country: "车辆登记国", vehicle_kind: "车辆类型", driver_name: "司机姓名", nationality: "国籍", document_no: "证件号码", hs_code: "HS 编码",
    desc_vi: "描述（越南语）", desc_zh: "描述（中文）", packages: "件数", gross_kg: "毛重（千克）", value: "货值", currency: "币种", origin: "原产地",
    shelf_life: "保质期（小时，生鲜）", certificate: "检疫证书号", create: "创建", submit: "提交", cancel: "撤销", state: "状态", book: "预约",
    slots: "时段日历", free: "空余", join_queue: "加入虚拟排队", booking: "预约", cancel_booking: "取消预约", saved: "已保存。",
    worklist: "待办清单", channel: "通道", step: "环节", start: "开始", pass: "放行", hold: "扣留", refuse: "拒绝", reason: "理由",
    consignments: "货物", steps: "环节", nothing: "暂无。", disable: "停用账户", enable: "启用账户", track_code: "跟踪码", driver_link: "司机链接", trip_virtual: "车辆在虚拟排队中", trip_yard: "车辆在停车场等候", trip_called: "车辆已被叫号", trip_clearing: "正在通关", trip_done: "已通关", trip_refused: "已被拒绝通关", trip_withdrawn: "已退出排队", need_login: "请登录后查看此页。", not_allowed: "您的角色无权查看此页。",
    hours: "开放时间", opens: "开", closes: "关", save: "保存", active: "启用", suspensions: "暂停通关", from: "自", until: "至", preregistered: "仅限已预约车辆",
    add: "添加", users: "用户", roles: "角色", display_name: "显示名称", audit: "审计日志", verified: "哈希链完整：{n} 条记录", broken: "哈希链已断裂",
    actor: "操作人", action: "操作", entity: "对象", when: "时间", dwell: "货物放行时间（WCO TRS）", group_by: "分组",
    interval: "区间", simulate: "能力仿真", scenario: "场景", run: "运行", running: "运行中", variants: "方案", mean_wait: "平均等待（小时）",
    served: "已服务", spoiled: "变质", side: "方", zone_vn: "越南时间（UTC+7）", zone_cn: "北京时间（UTC+8）", refresh: "刷新", error: "错误",
    upload: "上传场景文件", view: "查看", "no risk rule matched": "未命中风险规则", seconds: "秒", minutes: "分钟", none: "—", amend: "修改", accept: "接受", reject: "驳回",
  },
  en: {
    nav_public: "Map", nav_driver: "Driver", nav_enterprise: "Enterprise", nav_desk: "Officer desk", nav_operator: "Operator", nav_planner: "Planner",
    login: "Sign in", logout: "Sign out", username: "User name", password: "Password", demo: "DEMO DATA: enterprises, plates and drivers are invented",
    map_title: "Border gates between Vietnam and China", pairs: "gate pairs", coords_note: "{n} of {t} gate pairs have surveyed coordinates and are on the map; the others are in the list only.",
    kind: "Kind", mode: "Mode", vn_side: "Vietnamese side", cn_side: "Chinese side", open: "Open", closed: "Closed", hours_unknown: "Hours unknown", board: "Queue board",
    export: "Export (VN → CN)", import: "Import (CN → VN)", yard: "In the yard", virtual: "Virtual queue", called: "Called", clearing: "Clearing", congestion: "Congestion",
    expected_wait: "Expected wait", lanes: "Lanes", lane: "Lane", truck: "Truck", status: "Status", capacity: "Capacity/hour", booked_ahead: "Booked for the coming hours",
    hour: "Hour", booked: "Booked", queue: "Queue", position: "Place", plate: "Plate", class: "Lane class", est_call: "Expected call", live: "Live", conn_lost: "Connection lost, retrying… Last update {time}", offline: "Cannot reach the server. Check the connection and try again.",
    driver_title: "Track my truck", decl_no: "Declaration number", find: "Find", your_turn: "YOUR TURN: go to {lane} before {time}", place: "Place in queue", of: "of",
    not_in_queue: "The truck is not in a queue yet.", step_now: "Current step", declarations: "Declarations", new_decl: "New declaration", gate_pair: "Gate pair", direction: "Direction",
    plate_country: "Country of registration", vehicle_kind: "Vehicle", driver_name: "Driver's name", nationality: "Nationality", document_no: "Document number", hs_code: "HS code",
    desc_vi: "Description (Vietnamese)", desc_zh: "Description (Chinese)", packages: "Packages", gross_kg: "Gross weight (kg)", value: "Value", currency: "Currency", origin: "Origin",
    shelf_life: "Shelf life (hours, perishables)", certificate: "Phytosanitary/health certificate no.", create: "Create", submit: "Submit", cancel: "Cancel", state: "State", book: "Book",
    slots: "Slot calendar", free: "Free", join_queue: "Join the virtual queue", booking: "Booking", cancel_booking: "Cancel booking", saved: "Saved.",
    worklist: "Worklist", channel: "Channel", step: "Step", start: "Start", pass: "Pass", hold: "Hold", refuse: "Refuse", reason: "Reason",
    consignments: "Consignments", steps: "Steps", nothing: "Nothing here.", disable: "Disable", enable: "Enable", track_code: "Tracking code", driver_link: "Driver's link", trip_virtual: "Truck in the virtual queue", trip_yard: "Truck waiting in the yard", trip_called: "Truck called to a lane", trip_clearing: "In clearance", trip_done: "Crossed", trip_refused: "Refused at the gate", trip_withdrawn: "Withdrawn from the queue", need_login: "Sign in to see this page.", not_allowed: "Your role may not see this page.",
    hours: "Opening hours", opens: "Opens", closes: "Closes", save: "Save", active: "Active", suspensions: "Suspensions", from: "From", until: "Until", preregistered: "Pre-registered trucks only",
    add: "Add", users: "Users", roles: "Roles", display_name: "Display name", audit: "Audit log", verified: "Hash chain intact: {n} entries", broken: "Hash chain broken",
    actor: "Actor", action: "Action", entity: "Entity", when: "When", dwell: "Time release (WCO TRS)", group_by: "Group by",
    interval: "Interval", simulate: "Capacity simulation", scenario: "Scenario", run: "Run", running: "Running", variants: "Variants", mean_wait: "Mean wait (h)",
    served: "Served", spoiled: "Spoiled", side: "Side", zone_vn: "Vietnam time (UTC+7)", zone_cn: "Beijing time (UTC+8)", refresh: "Refresh", error: "Error",
    upload: "Upload a scenario file", view: "Open", seconds: "s", minutes: "min", none: "—", amend: "Amend", accept: "Accept", reject: "Reject",
  },
};

// Codes the API returns, in words.
const CODES = {
  vi: { general: "thường", perishable: "hàng tươi", agv: "xe tự hành", green: "xanh", yellow: "vàng", orange: "cam", red: "đỏ", done: "đã qua", refused: "bị từ chối",
    draft: "nháp", submitted: "đã nộp", accepted: "đã chấp nhận", rejected: "bị từ chối", cancelled: "đã huỷ", pending: "chờ", "in-progress": "đang làm", held: "tạm giữ", passed: "đã qua",
    international: "quốc tế", truck: "xe tải", "tractor-trailer": "đầu kéo + rơ-moóc", refrigerated: "xe lạnh", source: "nguồn", main: "chính", auxiliary: "phụ", "crossing-point": "lối mở", road: "đường bộ", rail: "đường sắt", river: "đường sông" },
  zh: { general: "普通", perishable: "生鲜", agv: "无人驾驶", green: "绿色", yellow: "黄色", orange: "橙色", red: "红色", done: "已通关", refused: "已拒绝",
    draft: "草稿", submitted: "已提交", accepted: "已接受", rejected: "已驳回", cancelled: "已撤销", pending: "待办", "in-progress": "进行中", held: "扣留", passed: "已放行",
    international: "国际", truck: "货车", "tractor-trailer": "牵引车+挂车", refrigerated: "冷藏车", source: "来源", main: "主要", auxiliary: "辅助", "crossing-point": "通道", road: "公路", rail: "铁路", river: "水路" },
  en: { "in-progress": "in progress", "crossing-point": "crossing point", "tractor-trailer": "tractor + trailer", source: "source" },
};
for (const l of Object.keys(T)) Object.assign(T[l], CODES[l]);
const LOCALE = { vi: "vi-VN", zh: "zh-CN", en: "en-GB" };
const ZONE = { VN: "Asia/Ho_Chi_Minh", CN: "Asia/Shanghai" };

const S = {
  lang: localStorage.getItem("lang") || (navigator.languages || [navigator.language]).map((l) => l.slice(0, 2)).find((l) => T[l]) || "en",
  // The zone a person chose; otherwise their side's (an officer's role, a driver's exit side),
  // otherwise their language's (zh: Beijing time, else Vietnam time). See `zoneOf`.
  chosenZone: localStorage.getItem("zone"),
  pageZone: null,
  get zone() { return this.chosenZone || this.pageZone || sideOfRoles(this.me) || (this.lang === "zh" ? "CN" : "VN"); },
  me: null,
  stream: null,
  timers: [],
};
const t = (k, vars = {}) => (T[S.lang][k] || T.en[k] || k).replace(/\{(\w+)\}/g, (_, v) => vars[v] ?? "");
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const num = (n, d = 0) => (n == null ? t("none") : new Intl.NumberFormat(LOCALE[S.lang], { maximumFractionDigits: d }).format(n));
const fmt = (iso, opts = { dateStyle: "short", timeStyle: "short" }) => (iso ? new Intl.DateTimeFormat(LOCALE[S.lang], { ...opts, timeZone: ZONE[S.zone] }).format(new Date(iso)) : t("none"));
const hhmm = (iso) => fmt(iso, { hour: "2-digit", minute: "2-digit" });
const dur = (s) => (s == null ? t("none") : s < 60 ? `${num(s)} ${t("seconds")}` : s < 3600 ? `${num(s / 60)} ${t("minutes")}` : `${num(s / 3600, 1)} h`);
const zoneName = (z = S.zone) => t(z === "VN" ? "zone_vn" : "zone_cn");
/// An officer's side, from their roles (when all their officer roles are of one side).
function sideOfRoles(me) {
  const sides = new Set((me?.roles || []).filter((r) => r.startsWith("officer:")).map((r) => r.split(":")[1]));
  return sides.size === 1 ? [...sides][0] : null;
}
/// A time a person must act on: hours and minutes in their zone, with the zone named.
const actBy = (iso) => `${hhmm(iso)} ${zoneName()}`;
const name = (n) => (S.lang === "zh" ? n.zh || n.vi : S.lang === "vi" ? n.vi : n.en);
const $ = (sel, root = document) => root.querySelector(sel);

// Navigation: each route() has a number; a page that finds, after an await, that another route()
// has started since, stops (throws STALE) instead of drawing over the newer page.
let NAV = 0;
const STALE = Symbol("stale");
const check = (tk) => { if (tk !== NAV) throw STALE; };

class Problem extends Error {
  constructor(p, status) { super(p.detail || p.title || String(status)); this.p = p; this.status = status; }
}
async function api(method, path, body, type = "application/json") {
  const opts = { method, headers: { "Accept-Language": S.lang }, credentials: "same-origin" };
  if (body !== undefined) { opts.headers["Content-Type"] = type; opts.body = type === "application/json" ? JSON.stringify(body) : body; }
  let r;
  try { r = await fetch("/api/v1" + path, opts); } catch (_) { throw new Problem({ title: t("error"), detail: t("offline") }, 0); }
  const ct = r.headers.get("content-type") || "";
  const data = ct.includes("json") ? await r.json() : await r.text();
  if (!r.ok) throw new Problem(typeof data === "object" ? data : { detail: data }, r.status);
  return data;
}

/// Every page of a list, following the server's `Link: <…>; rel="next"` headers (never cut).
async function apiAll(path) {
  let url = "/api/v1" + path;
  const all = [];
  while (url) {
    let r;
    try { r = await fetch(url, { headers: { "Accept-Language": S.lang }, credentials: "same-origin" }); } catch (_) { throw new Problem({ title: t("error"), detail: t("offline") }, 0); }
    const data = await r.json();
    if (!r.ok) throw new Problem(data, r.status);
    all.push(...data);
    const m = /<([^>]+)>;\s*rel="next"/.exec(r.headers.get("link") || "");
    url = m ? m[1] : null;
  }
  return all;
}

function showError(el, e, form) {
  if (form) form.querySelectorAll(".fielderr").forEach((x) => x.remove());
  const field = e.p && e.p.field;
  const input = field && form && form.querySelector(`[name="${CSS.escape(field.replace(/^consignments\[0\]\./, ""))}"]`);
  if (input) {
    input.setAttribute("aria-invalid", "true");
    input.insertAdjacentHTML("afterend", `<div class="fielderr" role="alert">${esc(e.message)}</div>`);
    input.focus();
  }
  el.innerHTML = `<p class="err" role="alert">${esc(e.p ? `${e.p.title}: ${e.message}` : e.message)}</p>`;
}

const PAGES = ["public", "driver", "enterprise", "desk", "operator", "planner"];
function nav(current) {
  $("#nav").innerHTML = PAGES.map((p) => `<a href="#/${p === "public" ? "" : p}" ${p === current ? 'aria-current="page"' : ""}>${t("nav_" + p)}</a>`).join("");
  $("#who").innerHTML = S.me
    ? `${esc(S.me.username)} <button class="alt" id="logout">${t("logout")}</button>`
    : `<a href="#/login">${t("login")}</a>`;
  const lo = $("#logout");
  if (lo) lo.onclick = async () => { await api("POST", "/auth/logout").catch(() => {}); S.me = null; route(); };
  $("#foot").textContent = `cuakhau · ${zoneName()}`;
}

const roles = () => (S.me ? S.me.roles : []);
const isOfficer = () => roles().some((r) => r.startsWith("officer:") || r === "admin");
const enterprise = () => (roles().find((r) => r.startsWith("enterprise:")) || "").slice(11);
function gate(main, ok) {
  if (!S.me) { main.innerHTML = `<p>${t("need_login")} <a href="#/login">${t("login")}</a></p>`; return false; }
  if (!ok) { main.innerHTML = `<p class="err">${t("not_allowed")}</p>`; return false; }
  return true;
}

// ---------- Public: map and list ----------
let MAP = null, PAIRS = null;
async function pagePublic(main) {
  const tk = NAV;
  [MAP, PAIRS] = await Promise.all([MAP || fetch("/assets/map.json").then((r) => r.json()), api("GET", "/gate-pairs")]);
  check(tk);
  const proj = (lon, lat) => [(lon - MAP.bounds.west) * MAP.k * MAP.scale, (MAP.bounds.north - lat) * MAP.scale];
  const withCoords = PAIRS.filter((p) => p.vn.coordinate || p.cn.coordinate);
  const st = (g) => (g.open_now == null ? "unknown" : g.open_now ? "open" : "closed");
  const marks = withCoords.map((p) => {
    const c = p.vn.coordinate || p.cn.coordinate;
    const [x, y] = proj(c.lon, c.lat);
    const color = p.vn.open_now && p.cn.open_now ? "#17663a" : p.vn.open_now == null || p.cn.open_now == null ? "#4a4a4a" : "#a3141c";
    return `<a href="#/board/${p.id}/export"><circle cx="${x}" cy="${y}" r="7" fill="${color}"><title>${esc(name(p.vn.name))} – ${esc(name(p.cn.name))}</title></circle><text x="${x + 10}" y="${y + 4}">${esc(name(p.vn.name))}</text></a>`;
  }).join("");
  const label = (lon, lat, text) => { const [x, y] = proj(lon, lat); return `<text x="${x}" y="${y}" font-weight="700">${text}</text>`; };
  main.innerHTML = `<h1>${t("map_title")}</h1>
  <div class="map card"><svg viewBox="0 0 ${MAP.width} ${MAP.height}" role="img" aria-label="${t("map_title")}">
    <path class="cn" d="${MAP.cn}"/><path class="vn" d="${MAP.vn}"/><path class="border" d="${MAP.border}"/>
    ${label(104.2, 23.5, S.lang === "vi" ? "Trung Quốc" : S.lang === "zh" ? "中国" : "China")}${label(104.6, 21.6, S.lang === "vi" ? "Việt Nam" : S.lang === "zh" ? "越南" : "Vietnam")}
    ${marks}</svg>
  <p class="muted">${t("coords_note", { n: withCoords.length, t: PAIRS.length })} <small>${esc(MAP.source.split(";")[0])}</small></p></div>
  <h2>${num(PAIRS.length)} ${t("pairs")}</h2>
  <div class="scroll"><table><thead><tr><th>${t("vn_side")}</th><th>${t("cn_side")}</th><th class="hide-sm">${t("kind")}</th><th class="hide-sm">${t("mode")}</th><th>${t("board")}</th></tr></thead><tbody>
  ${PAIRS.map((p) => `<tr><td>${esc(name(p.vn.name))} <span class="pill ${st(p.vn)}">${t(st(p.vn) === "unknown" ? "hours_unknown" : st(p.vn))}</span>${p.vn.hours ? `<br><small>${p.vn.hours.opens}–${p.vn.hours.closes} UTC+7</small>` : ""}</td>
    <td>${esc(name(p.cn.name))} <span class="pill ${st(p.cn)}">${t(st(p.cn) === "unknown" ? "hours_unknown" : st(p.cn))}</span>${p.cn.hours ? `<br><small>${p.cn.hours.opens}–${p.cn.hours.closes} UTC+8</small>` : ""}</td>
    <td class="hide-sm">${t(p.kind)}</td><td class="hide-sm">${t(p.mode)}</td>
    <td><a href="#/board/${p.id}/export" aria-label="${t("export")}">VN→CN</a><br><a href="#/board/${p.id}/import" aria-label="${t("import")}">CN→VN</a></td></tr>`).join("")}
  </tbody></table></div>`;
}

/// Follows a server-sent event stream for as long as the page is open: `onEvent(data)` on each
/// event, `onState(live)` when the connection drops or comes back. The browser reconnects by
/// itself after a drop (the server asks for 2 s); a refused reconnect (the server stopping) closes
/// the EventSource, so the page opens a new one.
function liveStream(url, onEvent, onState) {
  const tk = NAV;
  const open = () => {
    if (tk !== NAV) return;
    const es = new EventSource(url);
    S.stream = es;
    es.addEventListener("queue", (ev) => { onState(true); onEvent(JSON.parse(ev.data)); });
    es.onerror = () => {
      onState(false);
      if (es.readyState === EventSource.CLOSED) setTimeout(open, 2000);
    };
  };
  open();
}

// ---------- Queue board ----------
function boardHtml(q, pairName, live = true) {
  return `<h1>${t("board")}: ${esc(pairName)} · ${t(q.direction)}</h1>
  <p class="${live ? "muted" : "err"}" id="conn" role="status" data-live="${live}">${live ? `${t("live")} · ${fmt(q.at.utc)} ${zoneName()}` : t("conn_lost", { time: `${fmt(q.at.utc)} ${zoneName()}` })} · VN <span class="pill ${q.vn_open == null ? "unknown" : q.vn_open ? "open" : "closed"}">${t(q.vn_open == null ? "hours_unknown" : q.vn_open ? "open" : "closed")}</span> CN <span class="pill ${q.cn_open == null ? "unknown" : q.cn_open ? "open" : "closed"}">${t(q.cn_open == null ? "hours_unknown" : q.cn_open ? "open" : "closed")}</span></p>
  <div class="stats" id="stats">
    <div class="stat">${t("yard")}<b data-k="yard">${num(q.yard)}</b></div><div class="stat">${t("virtual")}<b>${num(q.virtual_queue)}</b></div>
    <div class="stat">${t("called")}<b>${num(q.called)}</b></div><div class="stat">${t("clearing")}<b>${num(q.clearing)}</b></div>
    <div class="stat">${t("expected_wait")}<b>${dur(q.expected_wait_s)}</b></div><div class="stat">${t("congestion")}<b><span class="pill ${q.congestion}">${t(q.congestion)}</span></b></div>
  </div>
  <div class="grid"><div><h2>${t("lanes")}</h2><div class="scroll"><table><thead><tr><th>${t("lane")}</th><th>${t("side")}</th><th>${t("capacity")}</th><th>${t("truck")}</th></tr></thead><tbody>
  ${q.lanes.map((l) => `<tr><td>${esc(l.name)}<br><small class="muted">${t(l.class)}</small></td><td>${l.side}</td><td>${num(l.capacity_per_hour)}${l.active ? "" : " ✕"}</td><td>${l.plate ? `${esc(l.plate)} <small>${t(l.trip_status)}</small>` : t("none")}</td></tr>`).join("") || `<tr><td colspan="4">${t("nothing")}</td></tr>`}
  </tbody></table></div></div>
  <div><h2>${t("booked_ahead")}</h2><table><thead><tr><th>${t("hour")}</th><th>${t("booked")}</th><th>${t("capacity")}</th></tr></thead><tbody>
  ${q.booked_ahead.map((h) => `<tr><td>${hhmm(h.hour.utc)}</td><td>${num(h.booked)}</td><td>${h.capacity ? num(h.capacity) : t("none")}</td></tr>`).join("")}</tbody></table></div></div>
  <h2>${t("queue")}</h2><div class="scroll"><table id="queue"><thead><tr><th>${t("position")}</th><th>${t("plate")}</th><th>${t("class")}</th><th>${t("status")}</th><th>${t("est_call")}</th></tr></thead><tbody>
  ${q.queue.map((e) => `<tr><td>${e.position}</td><td>${esc(e.plate)}${e.booked ? " ⏱" : ""}</td><td>${t(e.class)}</td><td>${t(e.status)}</td><td>${e.estimated_call ? hhmm(e.estimated_call.utc) : t("none")}</td></tr>`).join("") || `<tr><td colspan="5">${t("nothing")}</td></tr>`}
  </tbody></table></div>`;
}
async function pageBoard(main, pair, dir) {
  const tk = NAV;
  PAIRS = PAIRS || (await api("GET", "/gate-pairs"));
  const p = PAIRS.find((x) => x.id === pair);
  const pairName = p ? `${name(p.vn.name)} – ${name(p.cn.name)}` : pair;
  // The last board stays on screen when the connection drops, marked as such.
  let last = null, live = true;
  const render = () => { if (tk === NAV && last) main.innerHTML = boardHtml(last, pairName, live); };
  last = await api("GET", `/gate-pairs/${pair}/queue?direction=${dir}`);
  check(tk);
  render();
  liveStream(`/api/v1/gate-pairs/${pair}/queue/stream?direction=${dir}`, (q) => { last = q; render(); }, (ok) => { if (ok !== live) { live = ok; render(); } });
}

// ---------- Driver ----------
async function pageDriver(main) {
  const tk = NAV;
  const q = new URLSearchParams(location.hash.split("?")[1] || "");
  main.innerHTML = `<h1>${t("driver_title")}</h1><form id="f" class="card"><div class="row">
    <label class="f"><span>${t("decl_no")}</span><input name="declaration" inputmode="numeric" required value="${esc(q.get("d") || "")}"></label>
    <label class="f"><span>${t("track_code")}</span><input name="code" required autocomplete="off" value="${esc(q.get("code") || "")}"></label></div>
    <button>${t("find")}</button></form><div id="out" aria-live="polite"></div>`;
  const out = $("#out");
  const show = async (d, code) => {
    try {
      const r = await api("GET", `/track/${encodeURIComponent(d)}?code=${encodeURIComponent(code)}`);
      if (tk !== NAV) return;
      // A driver reads the clock of the side they leave from, unless they chose a zone.
      S.pageZone = r.direction === "import" ? "CN" : "VN";
      $("#zone").value = S.zone;
      out.innerHTML = `${r.your_turn ? `<p class="turn" role="alert">${t("your_turn", { lane: esc(r.lane), time: actBy(r.call_deadline.utc) })}</p>` : ""}
      <div class="card"><p class="big">${esc(r.plate)}</p>
      ${r.status === "none" ? `<p>${t("not_in_queue")}</p>` : `<p>${t("status")}: <b>${t(r.status)}</b></p>`}
      ${r.position ? `<p>${t("place")}: <span class="big">${r.position}</span> ${t("of")} ${r.waiting_total}</p><p>${t("est_call")}: <b class="est-call">${actBy(r.estimated_call?.utc)}</b></p>` : ""}
      ${r.booking ? `<p>${t("booking")}: ${fmt(r.booking.hour)}</p>` : ""}${r.current_step ? `<p>${t("step_now")}: ${esc(r.current_step)}</p>` : ""}</div>`;
      if (!S.stream) liveStream(`/api/v1/gate-pairs/${r.gate_pair}/queue/stream?direction=${r.direction}`, () => show(d, code), () => {});
    } catch (e) { showError(out, e); }
  };
  $("#f").onsubmit = (ev) => { ev.preventDefault(); const f = new FormData(ev.target); show(f.get("declaration"), f.get("code")); };
  if (q.get("d")) show(q.get("d"), q.get("code"));
}

// ---------- Enterprise ----------
const field = (n, label, attrs = "") => `<label class="f"><span>${t(label)}</span><input name="${n}" ${attrs}></label>`;
const select = (n, label, opts) => `<label class="f"><span>${t(label)}</span><select name="${n}">${opts.map(([v, l]) => `<option value="${esc(v)}">${esc(l)}</option>`).join("")}</select></label>`;
async function pageEnterprise(main) {
  if (!gate(main, enterprise())) return;
  const tk = NAV;
  PAIRS = PAIRS || (await api("GET", "/gate-pairs"));
  const list = await apiAll("/declarations");
  check(tk);
  main.innerHTML = `<h1>${t("declarations")}</h1><div id="msg"></div>
  <div class="scroll"><table><thead><tr><th>#</th><th>${t("gate_pair")}</th><th>${t("plate")}</th><th>${t("state")}</th><th></th></tr></thead><tbody>
  ${list.map((d) => `<tr><td>${d.id}</td><td>${esc(d.gate_pair)}<br><small>${t(d.direction)}</small></td><td>${esc(d.plate)}</td><td>${t(d.state)}${d.state === "accepted" ? `<br><small><a class="driver-link" href="#/driver?d=${d.id}&code=${esc(d.track_code)}">${t("driver_link")}</a> · <code>${esc(d.track_code)}</code></small>` : ""}${d.trip_status ? `<br><small class="trip-status" data-trip-status="${esc(d.trip_status)}">${t("trip_" + d.trip_status)}</small>` : ""}${d.reasons.length ? `<br><small>${esc(d.reasons.join("; "))}</small>` : ""}</td>
  <td class="actions">${d.actions.includes("submit") ? `<button data-act="submit" data-id="${d.id}">${t("submit")}</button>` : ""}
  ${d.actions.includes("amend") ? `<button class="alt" data-act="amend" data-id="${d.id}">${t("amend")}</button>` : ""}${d.actions.includes("cancel") ? `<button class="alt" data-act="cancel" data-id="${d.id}">${t("cancel")}</button>` : ""}
  ${d.actions.includes("book") ? `<button class="alt" data-act="slots" data-id="${d.id}">${t("slots")}</button>` : ""}${d.actions.includes("queue") ? `<button class="alt" data-act="queue" data-id="${d.id}">${t("join_queue")}</button>` : ""}</td></tr>`).join("") || `<tr><td colspan="5">${t("nothing")}</td></tr>`}
  </tbody></table></div><div id="slots"></div>
  <h2>${t("new_decl")}</h2><form id="nd" class="card" novalidate><div class="row">
    ${select("gate_pair", "gate_pair", PAIRS.map((p) => [p.id, `${name(p.vn.name)} – ${name(p.cn.name)}`]))}
    ${select("direction", "direction", [["export", t("export")], ["import", t("import")]])}
    ${field("plate", "plate", "required")}${select("plate_country", "plate_country", [["VN", "VN"], ["CN", "CN"]])}
    ${select("vehicle_kind", "vehicle_kind", [["truck", t("truck")], ["tractor-trailer", t("tractor-trailer")], ["refrigerated", t("refrigerated")], ["agv", t("agv")]])}
    ${field("driver_name", "driver_name")}${select("nationality", "nationality", [["VN", "VN"], ["CN", "CN"]])}${field("document_no", "document_no")}</div>
    <h2>${t("consignments")}</h2><div class="row">${field("hs_code", "hs_code", 'inputmode="numeric"')}${field("description_vi", "desc_vi")}${field("description_zh", "desc_zh")}
    ${field("packages", "packages", 'type="number" min="1" value="1"')}${field("gross_kg", "gross_kg", 'type="number" step="any" value="1000"')}${field("value", "value", 'type="number" step="any" value="1000"')}
    ${field("currency", "currency", 'value="USD"')}${field("origin", "origin", 'value="VN"')}${field("shelf_life_h", "shelf_life", 'type="number" min="1"')}${field("certificate", "certificate")}</div>
    <button>${t("create")}</button><div id="nderr"></div></form>`;
  const msg = $("#msg");
  main.querySelectorAll("button[data-act]").forEach((b) => (b.onclick = async () => {
    const id = b.dataset.id;
    try {
      if (b.dataset.act === "slots") return slots(id, list.find((d) => String(d.id) === id));
      if (b.dataset.act === "amend") return startAmend(list.find((d) => String(d.id) === id));
      await api("POST", `/declarations/${id}/${b.dataset.act}`);
      route();
    } catch (e) { showError(msg, e); }
  }));
  let amending = null;
  const startAmend = (d) => {
    // Amending replaces the goods: the form keeps the vehicle and takes the first consignment's values.
    amending = d;
    const c = d.consignments[0];
    const form = $("#nd");
    for (const k of ["hs_code", "description_vi", "description_zh", "packages", "gross_kg", "value", "currency", "origin", "certificate"]) form[k].value = c[k] ?? "";
    form.shelf_life_h.value = c.shelf_life_h ?? "";
    form.querySelector("button").textContent = `${t("amend")} #${d.id}`;
    form.scrollIntoView();
    form.hs_code.focus();
  };
  $("#nd").onsubmit = async (ev) => {
    ev.preventDefault();
    const f = Object.fromEntries(new FormData(ev.target));
    const body = {
      gate_pair: f.gate_pair, direction: f.direction, plate: f.plate, plate_country: f.plate_country, vehicle_kind: f.vehicle_kind,
      driver: f.vehicle_kind === "agv" ? null : { name: f.driver_name, nationality: f.nationality, document_no: f.document_no },
      consignments: [{ hs_code: f.hs_code, description_vi: f.description_vi, description_zh: f.description_zh, packages: Number(f.packages), gross_kg: Number(f.gross_kg),
        value: Number(f.value), currency: f.currency, origin: f.origin, shelf_life_h: f.shelf_life_h ? Number(f.shelf_life_h) : null, certificate: f.certificate }],
    };
    try {
      if (amending) await api("POST", `/declarations/${amending.id}/amend`, { consignments: body.consignments });
      else await api("POST", "/declarations", body);
      route();
    } catch (e) { showError($("#nderr"), e, ev.target); }
  };
}
async function slots(id, d) {
  const box = $("#slots");
  const cal = await api("GET", `/gate-pairs/${d.gate_pair}/slots?direction=${d.direction}&hours=24`);
  let booking = null;
  try { booking = await api("GET", `/declarations/${id}/booking`); } catch (_) { /* none */ }
  box.innerHTML = `<h2>${t("slots")} · #${id} · ${esc(d.gate_pair)} · ${t(d.direction)} (${zoneName()})</h2>
  ${booking ? `<p class="msg">${t("booking")}: ${fmt(booking.hour)} <button class="alt" id="cb">${t("cancel_booking")}</button></p>` : ""}<div id="serr"></div>
  <div class="scroll"><table><thead><tr><th>${t("hour")}</th><th>${t("free")}</th><th></th></tr></thead><tbody>
  ${cal.map((h) => `<tr><td>${fmt(h.hour)}</td><td>${num(h.free)}</td><td>${h.free > 0 && !booking ? `<button data-hour="${h.hour}">${t("book")}</button>` : ""}</td></tr>`).join("")}</tbody></table></div>`;
  box.querySelectorAll("button[data-hour]").forEach((b) => (b.onclick = async () => {
    try { await api("POST", `/declarations/${id}/booking`, { hour: b.dataset.hour }); slots(id, d); } catch (e) { showError($("#serr"), e); }
  }));
  const cb = $("#cb");
  if (cb) cb.onclick = async () => { await api("DELETE", `/declarations/${id}/booking`); slots(id, d); };
  box.scrollIntoView();
}

// ---------- Officer desk ----------
async function pageDesk(main) {
  if (!gate(main, isOfficer())) return;
  const tk = NAV;
  const list = await apiAll("/worklist");
  check(tk);
  const mine = roles().filter((r) => r.startsWith("officer:")).join(", ");
  main.innerHTML = `<h1>${t("worklist")} <small class="muted">${esc(mine)}</small></h1>
  <div class="scroll"><table><thead><tr><th>#</th><th>${t("plate")}</th><th>${t("gate_pair")}</th><th>${t("channel")}</th><th>${t("step")}</th><th></th></tr></thead><tbody>
  ${list.map((x) => `<tr><td>${x.id}</td><td>${esc(x.plate)}</td><td>${esc(x.gate_pair)} · ${t(x.direction)}</td><td><span class="pill ${x.channel}">${t(x.channel)}</span></td>
  <td>${esc(x.steps[x.current_step].step)} (${t(x.steps[x.current_step].state)})</td><td><button data-trip="${x.id}">${t("view")}</button></td></tr>`).join("") || `<tr><td colspan="6">${t("nothing")}</td></tr>`}
  </tbody></table></div><div id="trip"></div><div id="decide"></div>`;
  main.querySelectorAll("button[data-trip]").forEach((b) => (b.onclick = () => showTrip(b.dataset.trip)));
  // The next truck is open at once.
  if (list.length) await showTrip(list[0].id);
  check(tk);
  // Customs officers also decide submitted declarations of their side's exports or imports.
  const customs = roles().filter((r) => r.startsWith("officer:") && r.split(":")[2] === "customs").map((r) => r.split(":")[1]);
  if (!customs.length) return;
  // The server filters by scope, state and side, and pages: the desk asks for exactly its work.
  const todo = [];
  for (const side of [...new Set(customs)]) todo.push(...(await apiAll(`/declarations?state=submitted&exit_side=${side}`)));
  check(tk);
  $("#decide").innerHTML = `<h2>${t("declarations")}</h2><div id="derr"></div><div class="scroll"><table><thead><tr><th>#</th><th>${t("plate")}</th><th>${t("gate_pair")}</th><th>${t("consignments")}</th><th></th></tr></thead><tbody>
  ${todo.map((d) => `<tr><td>${d.id}</td><td>${esc(d.plate)}</td><td>${esc(d.gate_pair)} · ${t(d.direction)}</td><td>${d.consignments.map((c) => `${esc(c.hs_code)} ${esc(c.description_vi || c.description_zh)}`).join("<br>")}</td>
  <td class="actions"><button data-accept="${d.id}">${t("accept")}</button><button class="bad" data-reject="${d.id}">${t("reject")}</button></td></tr>`).join("") || `<tr><td colspan="5">${t("nothing")}</td></tr>`}</tbody></table></div>`;
  main.querySelectorAll("button[data-accept]").forEach((b) => (b.onclick = async () => {
    try { await api("POST", `/declarations/${b.dataset.accept}/accept`); route(); } catch (e) { showError($("#derr"), e); }
  }));
  // A rejection's reason is asked for in the row itself, labelled, and sent with the button.
  main.querySelectorAll("button[data-reject]").forEach((b) => (b.onclick = () => {
    const cell = b.parentElement;
    if (cell.querySelector("form")) return;
    cell.insertAdjacentHTML("beforeend", `<form class="reject row"><label class="f"><span>${t("reason")}</span><input name="reason"></label><button class="bad">${t("reject")}</button><div class="rerr"></div></form>`);
    const form = cell.querySelector("form");
    form.querySelector("input").focus();
    form.onsubmit = async (ev) => {
      ev.preventDefault();
      const reason = form.querySelector("input").value.trim();
      try { await api("POST", `/declarations/${b.dataset.reject}/reject`, { reasons: reason ? [reason] : [] }); route(); } catch (e) { showError(form.querySelector(".rerr"), e, form); }
    };
  }));
}
async function showTrip(id) {
  const box = $("#trip");
  const x = await api("GET", `/trips/${id}`);
  const d = await api("GET", `/declarations/${x.declaration_id}`);
  const cur = x.current_step;
  box.innerHTML = `<div class="card"><h2>${esc(x.plate)} · ${esc(d.enterprise)} · <span class="pill ${x.channel}">${t(x.channel)}</span> <small>${esc(t(x.channel_reason))}</small></h2>
  <h2>${t("consignments")}</h2><table><thead><tr><th>${t("hs_code")}</th><th>${t("desc_vi")}</th><th>${t("desc_zh")}</th><th>${t("gross_kg")}</th><th>${t("certificate")}</th></tr></thead><tbody>
  ${d.consignments.map((c) => `<tr><td>${esc(c.hs_code)}</td><td>${esc(c.description_vi)}</td><td>${esc(c.description_zh)}</td><td>${num(c.gross_kg)}</td><td>${esc(c.certificate)}</td></tr>`).join("")}</tbody></table>
  <h2>${t("steps")}</h2><table><thead><tr><th>${t("step")}</th><th>${t("state")}</th><th>${t("when")}</th><th>${t("reason")}</th></tr></thead><tbody>
  ${x.steps.map((s) => `<tr><td>${esc(s.step)}</td><td>${t(s.state)}</td><td>${s.at ? fmt(s.at.utc) : s.since ? fmt(s.since.utc) : ""}</td><td>${esc(s.reason || "")}</td></tr>`).join("")}</tbody></table>
  ${cur != null ? `<form id="act" class="actions" novalidate><label class="f"><span>${t("reason")}</span><input name="reason"></label>
  ${x.steps[cur].state === "pending" ? `<button data-o="start">${t("start")}</button>` : `<button data-o="pass">${t("pass")}</button><button class="alt" data-o="hold">${t("hold")}</button><button class="bad" data-o="refuse">${t("refuse")}</button>`}</form><div id="aerr"></div>` : ""}</div>`;
  const form = $("#act");
  if (form) form.querySelectorAll("button").forEach((b) => (b.onclick = async (ev) => {
    ev.preventDefault();
    const o = b.dataset.o;
    try {
      if (o === "start") await api("POST", `/trips/${id}/steps/${cur}/start`);
      else await api("POST", `/trips/${id}/steps/${cur}/finish`, { outcome: o, reason: form.reason.value });
      showTrip(id);
    } catch (e) { showError($("#aerr"), e, form); }
  }));
}

// ---------- Operator ----------
async function pageOperator(main) {
  if (!gate(main, isOfficer())) return;
  const tk = NAV;
  PAIRS = PAIRS || (await api("GET", "/gate-pairs"));
  const pair = new URLSearchParams(location.hash.split("?")[1] || "").get("pair") || "huu-nghi";
  const [lanes, sus] = await Promise.all([api("GET", `/gate-pairs/${pair}/lanes`), api("GET", `/gate-pairs/${pair}/suspensions`)]);
  check(tk);
  const p = PAIRS.find((x) => x.id === pair);
  main.innerHTML = `<h1>${t("nav_operator")}</h1>
  <label class="f"><span>${t("gate_pair")}</span><select id="pp">${PAIRS.map((x) => `<option value="${x.id}" ${x.id === pair ? "selected" : ""}>${esc(name(x.vn.name))} – ${esc(name(x.cn.name))}</option>`).join("")}</select></label>
  <div id="omsg"></div>
  <h2>${t("hours")}</h2><div class="grid">${["VN", "CN"].map((side) => { const g = side === "VN" ? p.vn : p.cn; return `<form class="card hours" data-side="${side}"><b>${side} · ${esc(name(g.name))}</b> <small>${esc(g.zone)}</small>
    <div class="row"><label class="f"><span>${t("opens")}</span><input name="opens" value="${g.hours ? g.hours.opens : ""}"></label><label class="f"><span>${t("closes")}</span><input name="closes" value="${g.hours ? g.hours.closes : ""}"></label></div>
    <label class="f"><span>${t("source")}</span><input name="source" value="${esc(g.hours ? g.hours.source : "")}"></label><button>${t("save")}</button></form>`; }).join("")}</div>
  <h2>${t("lanes")}</h2><div class="scroll"><table><thead><tr><th>${t("lane")}</th><th>${t("side")}</th><th>${t("direction")}</th><th>${t("class")}</th><th>${t("capacity")}</th><th>${t("active")}</th><th></th></tr></thead><tbody>
  ${lanes.map((l) => `<tr data-lane="${esc(l.id)}"><td>${esc(l.name)}</td><td>${l.side}</td><td>${t(l.direction)}</td><td>${t(l.class)}</td><td><input type="number" min="0" name="cap" value="${l.capacity_per_hour}" aria-label="${t("capacity")} ${esc(l.name)}" class="narrow"></td>
  <td><input type="checkbox" name="active" ${l.active ? "checked" : ""} aria-label="${t("active")} ${esc(l.name)}"></td><td><button class="alt" data-save>${t("save")}</button></td></tr>`).join("") || `<tr><td colspan="7">${t("nothing")}</td></tr>`}</tbody></table></div>
  <h2>${t("suspensions")}</h2><table><thead><tr><th>${t("side")}</th><th>${t("from")}</th><th>${t("until")}</th><th>${t("reason")}</th></tr></thead><tbody>
  ${sus.map((s) => `<tr><td>${s.side}</td><td>${fmt(s.from)}</td><td>${fmt(s.until)}</td><td>${esc(s.reason)}${s.preregistered_only ? ` · ${t("preregistered")}` : ""}</td></tr>`).join("") || `<tr><td colspan="4">${t("nothing")}</td></tr>`}</tbody></table>
  <form id="sus" class="card row" novalidate>${select("side", "side", [["VN", "VN"], ["CN", "CN"]])}${field("from", "from", 'type="datetime-local"')}${field("until", "until", 'type="datetime-local"')}${field("reason", "reason")}
  <label class="f"><input type="checkbox" name="preregistered_only"> ${t("preregistered")}</label><button>${t("add")}</button></form>
  <div id="users"></div><div id="audit"></div>`;
  const msg = $("#omsg");
  $("#pp").onchange = (e) => { location.hash = `#/operator?pair=${e.target.value}`; };
  main.querySelectorAll("form.hours").forEach((f) => (f.onsubmit = async (ev) => {
    ev.preventDefault();
    try { await api("PUT", `/gates/${pair}/${f.dataset.side}/hours`, Object.fromEntries(new FormData(f))); msg.innerHTML = `<p class="msg">${t("saved")}</p>`; PAIRS = null; } catch (e) { showError(msg, e, f); }
  }));
  main.querySelectorAll("button[data-save]").forEach((b) => (b.onclick = async () => {
    const tr = b.closest("tr");
    try { await api("PATCH", `/lanes/${tr.dataset.lane}`, { capacity_per_hour: Number(tr.querySelector("[name=cap]").value), active: tr.querySelector("[name=active]").checked }); msg.innerHTML = `<p class="msg">${t("saved")}</p>`; } catch (e) { showError(msg, e); }
  }));
  $("#sus").onsubmit = async (ev) => {
    ev.preventDefault();
    const f = Object.fromEntries(new FormData(ev.target));
    const off = f.side === "VN" ? "+07:00" : "+08:00";
    const iso = (v) => (v ? `${v}:00${off}` : "");
    try { await api("POST", `/gate-pairs/${pair}/suspensions`, { side: f.side, from: iso(f.from), until: iso(f.until), reason: f.reason, preregistered_only: !!f.preregistered_only }); route(); } catch (e) { showError(msg, e, ev.target); }
  };
  if (roles().includes("admin")) {
    const users = await api("GET", "/users");
    check(tk);
    $("#users").innerHTML = `<h2>${t("users")}</h2><div class="scroll"><table><thead><tr><th>${t("username")}</th><th>${t("display_name")}</th><th>${t("roles")}</th><th></th></tr></thead><tbody>
    ${users.map((u) => `<tr${u.disabled ? ' class="muted"' : ""}><td>${esc(u.username)}</td><td>${esc(u.display_name)}</td><td>${esc(u.roles.join(", "))}</td><td><button class="alt" data-user="${esc(u.username)}" data-disable="${!u.disabled}">${t(u.disabled ? "enable" : "disable")}</button></td></tr>`).join("")}</tbody></table></div>
    <form id="nu" class="card row" novalidate>${field("username", "username")}${field("display_name", "display_name")}${field("password", "password", 'type="password"')}${field("roles", "roles", 'placeholder="officer:VN:customs:huu-nghi"')}<button>${t("add")}</button></form>`;
    $("#users").querySelectorAll("button[data-user]").forEach((b) => (b.onclick = async () => {
      try { await api("PATCH", `/users/${encodeURIComponent(b.dataset.user)}`, { disabled: b.dataset.disable === "true" }); route(); } catch (e) { showError($("#users"), e); }
    }));
    $("#nu").onsubmit = async (ev) => {
      ev.preventDefault();
      const f = Object.fromEntries(new FormData(ev.target));
      try { await api("POST", "/users", { ...f, roles: f.roles.split(",").map((s) => s.trim()).filter(Boolean) }); route(); } catch (e) { showError(msg, e, ev.target); }
    };
  }
  try {
    const v = await api("GET", "/audit/verify");
    const log = await api("GET", `/audit?after=${Math.max(0, v.entries - 50)}&limit=50`);
    check(tk);
    $("#audit").innerHTML = `<h2>${t("audit")}</h2><p class="${v.ok ? "msg" : "err"}">${v.ok ? t("verified", { n: num(v.entries) }) : `${t("broken")} #${v.broken_at}: ${esc(v.reason || "")}`}</p>
    <div class="scroll"><table><thead><tr><th>#</th><th>${t("when")}</th><th>${t("actor")}</th><th>${t("action")}</th><th>${t("entity")}</th></tr></thead><tbody>
    ${log.reverse().map((e) => `<tr><td>${e.seq}</td><td>${fmt(e.at)}</td><td>${esc(e.actor)}</td><td>${esc(e.action)}</td><td>${esc(e.entity)}</td></tr>`).join("")}</tbody></table></div>`;
  } catch (e) { if (e === STALE) throw e; /* the audit log is for gate boards and admins only */ }
}

// ---------- Planner ----------
function barChart(rows) {
  const w = 640, bh = 18, pad = 170, max = Math.max(1, ...rows.map((r) => r.p95_s));
  const sx = (v) => ((w - pad - 110) * v) / max;
  return `<svg viewBox="0 0 ${w} ${rows.length * (bh * 2 + 8) + 30}" role="img" aria-label="p50 / p95">
  ${rows.map((r, i) => { const y = i * (bh * 2 + 8) + 10; return `<text x="4" y="${y + bh + 4}" font-size="12">${esc(r.group.length > 26 ? r.group.slice(0, 25) + "…" : r.group)}</text>
    <rect x="${pad}" y="${y}" width="${sx(r.p50_s)}" height="${bh - 2}" fill="#0b4f8a"/><text x="${pad + sx(r.p50_s) + 4}" y="${y + 15}" font-size="12">p50 ${dur(r.p50_s)}</text>
    <rect x="${pad}" y="${y + bh}" width="${sx(r.p95_s)}" height="${bh - 2}" fill="#8a5a00"/><text x="${pad + sx(r.p95_s) + 4}" y="${y + bh + 15}" font-size="12">p95 ${dur(r.p95_s)}</text>`; }).join("")}</svg>`;
}
async function pagePlanner(main) {
  if (!gate(main, isOfficer())) return;
  const tk = NAV;
  const scenarios = await api("GET", "/scenarios");
  check(tk);
  main.innerHTML = `<h1>${t("dwell")}</h1><form id="df" class="card actions">${select("by", "group_by", [["gate-pair,direction", "gate pair · direction"], ["day", "day"], ["commodity", "commodity (HS)"], ["channel", "channel"]])}
  <button>${t("refresh")}</button> <a id="csv" href="/api/v1/reports/dwell?format=csv">CSV</a></form><div id="dwell"></div>
  <h1>${t("simulate")}</h1><form id="sf" class="card" novalidate>
  ${select("pick", "scenario", scenarios.map((s) => [s.file, s.name]))}
  <label class="f"><span>${t("upload")}</span><input type="file" name="file" accept=".toml,text/plain"></label>
  <label class="f"><span>TOML</span><textarea name="scenario" rows="10" spellcheck="false"></textarea></label><button>${t("run")}</button></form>
  <div id="sim" aria-live="polite"></div>`;
  const dwell = async (by) => {
    const rows = await api("GET", `/reports/dwell?by=${encodeURIComponent(by)}`);
    check(tk);
    $("#csv").href = `/api/v1/reports/dwell?format=csv&by=${encodeURIComponent(by)}`;
    const total = rows.filter((r) => r.interval === "arrival-to-entry-release");
    const agency = rows.filter((r) => r.interval === "agency-time");
    $("#dwell").innerHTML = `<div class="grid"><div class="chart card"><h2>arrival → entry release</h2>${total.length ? barChart(total) : t("nothing")}</div>
    <div class="chart card"><h2>agency-time</h2>${agency.length ? barChart(agency) : t("nothing")}</div></div>
    <div class="scroll"><table><thead><tr><th>${t("group_by")}</th><th>${t("interval")}</th><th>n</th><th>p50</th><th>p95</th><th>max</th></tr></thead><tbody>
    ${rows.map((r) => `<tr><td>${esc(r.group)}</td><td>${esc(r.interval)}</td><td>${r.n}</td><td>${dur(r.p50_s)}</td><td>${dur(r.p95_s)}</td><td>${dur(r.max_s)}</td></tr>`).join("")}</tbody></table></div>`;
  };
  $("#df").onsubmit = (ev) => { ev.preventDefault(); dwell(ev.target.by.value); };
  const sf = $("#sf");
  const fill = () => { sf.scenario.value = scenarios.find((s) => s.file === sf.pick.value).toml; };
  sf.pick.onchange = fill;
  fill();
  sf.file.onchange = async () => { if (sf.file.files[0]) sf.scenario.value = await sf.file.files[0].text(); };
  sf.onsubmit = async (ev) => {
    ev.preventDefault();
    const box = $("#sim");
    try {
      let job = await api("POST", "/simulations", sf.scenario.value, "application/toml");
      box.innerHTML = `<p>${t("running")} <progress class="progress" id="pr" max="1" value="0"></progress></p>`;
      while (job.status === "running") {
        await new Promise((r) => setTimeout(r, 400));
        job = await api("GET", `/simulations/${job.id}`);
        const pr = $("#pr");
        if (pr) pr.value = job.progress;
      }
      if (job.status !== "done") throw new Error(job.error || job.status);
      const v = job.summary.variants;
      box.innerHTML = `<h2>${t("variants")}</h2><div class="scroll"><table id="variants"><thead><tr><th>${t("variants")}</th><th>${t("mean_wait")}</th><th>±95 %</th><th>${t("served")}</th><th>${t("spoiled")}</th></tr></thead><tbody>
      ${v.map((x) => `<tr><td>${esc(x.name)}</td><td>${num(x.wait_h_mean_ci.mean, 2)}</td><td>${num(x.wait_h_mean_ci.half_width, 2)}</td><td>${num(x.served)}</td><td>${num(x.spoiled)}</td></tr>`).join("")}</tbody></table></div>
      <div class="grid">${job.plots.map((p) => `<figure class="card chart"><img src="${p}" alt="${esc(p.split("/").pop())}"><figcaption>${esc(p.split("/").pop())}</figcaption></figure>`).join("")}</div>`;
    } catch (e) { showError(box, e, sf); }
  };
  await dwell("gate-pair,direction");
}

// ---------- Login ----------
function pageLogin(main) {
  main.innerHTML = `<h1>${t("login")}</h1><form id="lf" class="card narrowform">${field("username", "username", 'autocomplete="username" required')}${field("password", "password", 'type="password" autocomplete="current-password" required')}<button>${t("login")}</button><div id="lerr"></div></form>`;
  $("#lf").onsubmit = async (ev) => {
    ev.preventDefault();
    try {
      await api("POST", "/auth/login", Object.fromEntries(new FormData(ev.target)));
      S.me = await api("GET", "/auth/me");
      $("#zone").value = S.zone;
      location.hash = S.me.roles.some((r) => r.startsWith("enterprise:")) ? "#/enterprise" : S.me.roles.some((r) => r.startsWith("officer:")) ? "#/desk" : "#/";
    } catch (e) { showError($("#lerr"), e, ev.target); }
  };
}

async function route() {
  NAV += 1;
  if (S.stream) { S.stream.close(); S.stream = null; }
  S.pageZone = null;
  $("#zone").value = S.zone;
  document.documentElement.lang = S.lang;
  document.title = `cuakhau · ${t("nav_public")}`;
  if (!$("#demo").hidden) $("#demo").textContent = t("demo");
  const [path] = location.hash.replace(/^#\/?/, "").split("?");
  const parts = path.split("/");
  const page = parts[0] || "public";
  nav(page === "board" ? "public" : page);
  const main = $("#main");
  try {
    if (page === "board") await pageBoard(main, parts[1], parts[2] || "export");
    else if (page === "driver") await pageDriver(main);
    else if (page === "enterprise") await pageEnterprise(main);
    else if (page === "desk") await pageDesk(main);
    else if (page === "operator") await pageOperator(main);
    else if (page === "planner") await pagePlanner(main);
    else if (page === "login") pageLogin(main);
    else await pagePublic(main);
  } catch (e) {
    if (e === STALE) return;
    if (e.status === 401) { S.me = null; main.innerHTML = `<p>${t("need_login")} <a href="#/login">${t("login")}</a></p>`; }
    else showError(main, e);
  }
}

async function start() {
  $("#lang").value = S.lang;
  $("#zone").value = S.zone;
  $("#lang").onchange = (e) => { S.lang = e.target.value; localStorage.setItem("lang", S.lang); route(); };
  $("#zone").onchange = (e) => { S.chosenZone = e.target.value; localStorage.setItem("zone", S.chosenZone); route(); };
  try { S.me = await api("GET", "/auth/me"); } catch (_) { S.me = null; }
  $("#zone").value = S.zone;
  try {
    const h = await fetch("/healthz").then((r) => r.json());
    if (h.demo) { $("#demo").hidden = false; $("#demo").textContent = t("demo"); }
  } catch (_) { /* health is informative only */ }
  window.addEventListener("hashchange", route);
  route();
}
start();
