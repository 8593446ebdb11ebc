//! The wire types of cuakhau's HTTP API (serde + OpenAPI schemas), shared by server, CLI and tests.
//!
//! Request types deny unknown fields, so a typo in a field name is an error, not a silent no-op.

use cuakhau_core::refdata::{LocalityPairing, Province, format_hhmm};
use cuakhau_core::{AuditEntry, Gate, GatePair, Lane, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub mod schema;

/// A name in the three languages (and pinyin for Chinese names).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Names {
    pub vi: String,
    pub zh: Option<String>,
    pub pinyin: Option<String>,
    pub en: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CoordinateOut {
    pub lat: f64,
    pub lon: f64,
    pub precision: String,
    pub source: String,
}

/// Daily hours in the gate's own local time; `zone` says which.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HoursOut {
    /// HH:MM local time.
    pub opens: String,
    /// HH:MM local time (24:00 allowed).
    pub closes: String,
    pub zone: String,
    pub source: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GateOut {
    /// `VN` or `CN`.
    pub side: String,
    pub name: Names,
    pub province: String,
    pub former_province: Option<String>,
    /// IANA time zone of this gate's clocks.
    pub zone: String,
    pub coordinate: Option<CoordinateOut>,
    pub hours: Option<HoursOut>,
    /// Open at the time of the response; null when the hours are not known.
    pub open_now: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GatePairOut {
    pub id: String,
    /// `international`, `main`, `auxiliary` or `crossing-point`.
    pub kind: String,
    /// `road`, `rail` or `river`.
    pub mode: String,
    /// The designation in the source's words.
    pub designation: String,
    /// Position along the border, west to east.
    pub order: u32,
    pub vn: GateOut,
    pub cn: GateOut,
    pub sources: Vec<String>,
}

fn gate_out(g: &Gate, now: Timestamp) -> GateOut {
    GateOut {
        side: g.side.code().into(),
        name: Names { vi: g.name_vi.clone(), zh: g.name_zh.clone(), pinyin: g.name_pinyin.clone(), en: g.name_en.clone() },
        province: g.province.as_str().into(),
        former_province: g.former_province.clone(),
        zone: g.zone.clone(),
        coordinate: g.coordinate.as_ref().map(|c| CoordinateOut {
            lat: c.lat,
            lon: c.lon,
            precision: c.precision.clone(),
            source: c.source.clone(),
        }),
        hours: g.hours.as_ref().map(|h| HoursOut {
            opens: format_hhmm(h.open_min),
            closes: format_hhmm(h.close_min),
            zone: g.zone.clone(),
            source: h.source.clone(),
        }),
        open_now: g.is_open_at(now),
    }
}

impl GatePairOut {
    pub fn new(g: &GatePair, now: Timestamp) -> Self {
        GatePairOut {
            id: g.id.as_str().into(),
            kind: g.kind.code().into(),
            mode: g.mode.code().into(),
            designation: g.designation.clone(),
            order: g.order,
            vn: gate_out(&g.vn, now),
            cn: gate_out(&g.cn, now),
            sources: g.sources.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProvinceOut {
    pub id: String,
    pub country: String,
    pub name: Names,
    pub former_names: Option<String>,
    pub source: String,
}

impl From<&Province> for ProvinceOut {
    fn from(p: &Province) -> Self {
        ProvinceOut {
            id: p.id.as_str().into(),
            country: p.country.code().into(),
            name: Names { vi: p.name_vi.clone(), zh: Some(p.name_zh.clone()), pinyin: None, en: p.name_en.clone() },
            former_names: p.former_names.clone(),
            source: p.source.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PairingOut {
    pub vn_province: String,
    pub cn_province: String,
    pub mechanism: String,
    pub source: String,
}

impl From<&LocalityPairing> for PairingOut {
    fn from(p: &LocalityPairing) -> Self {
        PairingOut {
            vn_province: p.vn_province.as_str().into(),
            cn_province: p.cn_province.as_str().into(),
            mechanism: p.mechanism.clone(),
            source: p.source.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LaneOut {
    pub id: String,
    pub gate_pair: String,
    pub side: String,
    /// `export` (Vietnam → China) or `import` (China → Vietnam).
    pub direction: String,
    /// `general`, `perishable` or `agv`.
    pub class: String,
    /// Its number among the lanes of its gate pair, side and direction, as drivers and boards
    /// are told it ("lane 2").
    pub number: usize,
    /// The name in the reference data (its source's own words).
    pub name: String,
    /// Trucks per hour.
    pub capacity_per_hour: u32,
    pub active: bool,
    pub basis: String,
}

impl LaneOut {
    /// Lane `l` as answered, numbered among `lanes` (its gate pair's, or a list holding every
    /// lane of its side and direction).
    pub fn numbered(l: &Lane, lanes: &[Lane]) -> Self {
        LaneOut {
            number: cuakhau_core::refdata::lane_number(lanes, l.id.as_str()).unwrap_or(1),
            id: l.id.as_str().into(),
            gate_pair: l.gate_pair.as_str().into(),
            side: l.side.code().into(),
            direction: l.direction.code().into(),
            class: l.class.code().into(),
            name: l.name.clone(),
            capacity_per_hour: l.capacity_per_hour,
            active: l.active,
            basis: l.basis.clone(),
        }
    }
}

/// A change to a lane; absent fields stay as they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LanePatch {
    pub name: Option<String>,
    /// Trucks per hour, at most 600.
    #[schema(maximum = 600)]
    pub capacity_per_hour: Option<u32>,
    pub active: Option<bool>,
    #[schema(schema_with = schema::lane_class)]
    pub class: Option<String>,
    /// Why the lane or its capacity changed (kept as the lane's basis).
    pub basis: Option<String>,
}

/// A new lane at a gate pair.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLane {
    pub id: String,
    #[schema(schema_with = schema::side)]
    pub side: String,
    #[schema(schema_with = schema::direction)]
    pub direction: String,
    #[schema(schema_with = schema::lane_class)]
    pub class: String,
    pub name: String,
    /// Trucks per hour, at most 600.
    #[schema(maximum = 600)]
    pub capacity_per_hour: u32,
    pub basis: String,
}

/// New daily hours for one side's gate, in that gate's local time; `opens: null` clears them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoursPatch {
    pub opens: Option<String>,
    pub closes: Option<String>,
    pub source: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserOut {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<String>,
    /// A disabled account cannot sign in.
    pub disabled: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer TOKEN`; also set as the `cuakhau_session` cookie.
    pub token: String,
    pub expires_at: String,
    pub user: UserOut,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    pub username: String,
    pub display_name: String,
    #[schema(min_length = 10)]
    pub password: String,
    /// Role codes, e.g. `officer:VN:gate-board:huu-nghi`, `enterprise:0101234567`, `admin`.
    #[schema(min_items = 1)]
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    #[schema(min_length = 10)]
    pub password: String,
    /// Required when changing one's own password.
    #[serde(default)]
    pub current_password: Option<String>,
}

/// A change to an account (admins only): new roles, or disabled (`true`) / enabled (`false`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[serde(default)]
    pub roles: Option<Vec<String>>,
    #[serde(default)]
    pub disabled: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditEntryOut {
    pub seq: i64,
    pub actor: String,
    /// UTC.
    pub at: String,
    /// The same instant in the zone the viewer asked for (`?zone=`), Asia/Ho_Chi_Minh by default.
    pub at_local: String,
    pub action: String,
    pub entity: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub hash: String,
}

impl AuditEntryOut {
    pub fn new(e: &AuditEntry, zone: &str) -> Self {
        let json = |s: &Option<String>| s.as_ref().map(|s| serde_json::from_str(s).unwrap_or(serde_json::Value::String(s.clone())));
        AuditEntryOut {
            seq: e.seq,
            actor: e.record.actor.clone(),
            at: e.record.at.to_rfc3339(),
            at_local: e.record.at.to_rfc3339_in(zone),
            action: e.record.action.clone(),
            entity: e.record.entity.clone(),
            before: json(&e.record.before),
            after: json(&e.record.after),
            hash: e.hash.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditVerifyOut {
    pub ok: bool,
    pub entries: i64,
    pub broken_at: Option<i64>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Health {
    pub status: String,
    pub engine: String,
    /// True when the database holds the generated demo day.
    #[serde(default)]
    pub demo: bool,
}

/// An RFC 9457 problem document, localised by `Accept-Language`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The field at fault, when there is one (its path in the request; the first, when several are).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every field at fault (a 422 names them all at once, in the request's order).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
    /// The language of `title` and `detail`.
    pub lang: String,
}

/// One bad field of a request.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FieldProblem {
    /// The field as its form labels it, in the problem's language, with its row in a list
    /// ("Mã HS (dòng 1)"); the path where no form asks for the field.
    pub field: String,
    /// The field's path in the request (`consignments[0].hs_code`, `driver.name`).
    pub path: String,
    /// What is wrong, in the problem's language, naming the field by its label.
    pub message: String,
}

/// One line of goods.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsignmentIn {
    /// 6 to 10 digits.
    pub hs_code: String,
    #[serde(default)]
    pub description_vi: String,
    #[serde(default)]
    pub description_zh: String,
    #[schema(minimum = 1, maximum = 100000)]
    pub packages: u32,
    pub gross_kg: f64,
    pub value: f64,
    /// ISO 4217, e.g. USD, CNY, VND.
    pub currency: String,
    /// ISO 3166 alpha-2.
    pub origin: String,
    /// Perishables: shelf life in hours (1 to 8,760: a year).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 8760)]
    pub shelf_life_h: Option<u32>,
    /// Phytosanitary or health certificate number (required for HS chapters 01–24).
    #[serde(default)]
    pub certificate: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DriverIn {
    pub name: String,
    /// `VN` or `CN`.
    #[schema(schema_with = schema::side)]
    pub nationality: String,
    /// Identity card, passport or border-pass number.
    pub document_no: String,
}

/// A pre-arrival declaration as an enterprise files it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclarationIn {
    pub gate_pair: String,
    /// `export` (VN → CN) or `import` (CN → VN).
    #[schema(schema_with = schema::direction)]
    pub direction: String,
    pub plate: String,
    /// Country of registration, `VN` or `CN`.
    #[schema(schema_with = schema::side)]
    pub plate_country: String,
    /// `truck`, `tractor-trailer`, `refrigerated` or `agv`.
    #[schema(schema_with = schema::vehicle_kind)]
    pub vehicle_kind: String,
    /// Absent only for a driverless AGV.
    #[serde(default)]
    pub driver: Option<DriverIn>,
    #[schema(min_items = 1)]
    pub consignments: Vec<ConsignmentIn>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AmendIn {
    #[schema(min_items = 1)]
    pub consignments: Vec<ConsignmentIn>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectIn {
    #[schema(min_items = 1)]
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeclarationOut {
    pub id: i64,
    pub enterprise: String,
    pub gate_pair: String,
    pub direction: String,
    pub plate: String,
    pub vehicle_kind: String,
    pub driver: Option<DriverIn>,
    /// `draft`, `submitted`, `accepted`, `rejected`, `cancelled`.
    pub state: String,
    pub version: u32,
    pub reasons: Vec<String>,
    pub valid_until: Option<String>,
    pub consignments: Vec<ConsignmentIn>,
    pub perishable: bool,
    /// Where the truck stands once it has joined a queue: `virtual`, `yard`, `called`, `clearing`,
    /// `done`, `refused` or `withdrawn`.
    pub trip_status: Option<String>,
    /// What the declarant may do now: `submit`, `amend`, `cancel`, `book`, `queue`.
    pub actions: Vec<String>,
    /// The secret of the driver's page (`/#/driver?d=ID&code=CODE`): give it to the driver only.
    pub track_code: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookingIn {
    /// The hour to book, RFC 3339 (any minute inside the hour).
    #[schema(schema_with = schema::instant)]
    pub hour: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BookingOut {
    pub id: i64,
    pub declaration_id: i64,
    pub gate_pair: String,
    pub direction: String,
    /// Start of the booked hour, UTC.
    pub hour: String,
    pub hour_vn: String,
    pub hour_cn: String,
    /// `general`, `reserved` (perishables' share), `perishable` or `agv`.
    pub bucket: String,
    pub status: String,
}

/// One hour's slots: capacity and bookings per bucket.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SlotHourOut {
    pub hour: String,
    pub hour_vn: String,
    pub hour_cn: String,
    pub capacity: BTreeMapU32,
    pub booked: BTreeMapU32,
    /// Free places in every bucket.
    pub free: u32,
    /// The free places a truck can book, by its cargo: `general` (general buckets only),
    /// `perishable` (perishable lanes, the perishables' share, then general) and `agv`.
    pub free_by_cargo: BTreeMapU32,
}

/// Bucket name → count.
pub type BTreeMapU32 = std::collections::BTreeMap<String, u32>;

/// A suspension of one side of a gate pair (Tết, ceremonies, faults).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspensionIn {
    /// `VN` or `CN`.
    #[schema(schema_with = schema::side)]
    pub side: String,
    /// RFC 3339 with offset (e.g. `2027-02-05T00:00:00+07:00`).
    #[schema(schema_with = schema::instant)]
    pub from: String,
    #[schema(schema_with = schema::instant)]
    pub until: String,
    /// True: only trucks with a booked slot may cross (the brief's "pre-registered trucks only").
    #[serde(default)]
    pub preregistered_only: bool,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SuspensionOut {
    pub id: i64,
    pub side: String,
    pub from: String,
    pub until: String,
    /// The same instants in the suspended side's own zone.
    pub from_local: String,
    pub until_local: String,
    pub preregistered_only: bool,
    pub reason: String,
}

// ---- The live gate ----

/// A plate read at the yard gate (by a camera or an officer).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct YardCheckIn {
    pub plate: String,
}

/// A time in UTC and in each side's local time.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct When {
    pub utc: String,
    /// Asia/Ho_Chi_Minh (UTC+7).
    pub vn: String,
    /// Asia/Shanghai (UTC+8).
    pub cn: String,
}

impl From<Timestamp> for When {
    fn from(t: Timestamp) -> Self {
        When { utc: t.to_rfc3339(), vn: t.to_rfc3339_in("Asia/Ho_Chi_Minh"), cn: t.to_rfc3339_in("Asia/Shanghai") }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StepOut {
    pub index: usize,
    /// `VN:customs`, `CN:border-guard`, `handover`…
    pub step: String,
    /// The side whose officers act (for the hand-over: either side's border guard).
    pub side: Option<String>,
    pub agency: String,
    /// `pending`, `in-progress`, `held`, `passed`, `refused`.
    pub state: String,
    pub since: Option<When>,
    pub at: Option<When>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FeeOut {
    pub amount: f64,
    pub currency: String,
    pub receipt: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PositionOut {
    pub lat: f64,
    pub lon: f64,
    pub at: When,
}

/// A truck's trip through the gate.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TripOut {
    pub id: i64,
    pub declaration_id: i64,
    pub gate_pair: String,
    pub direction: String,
    pub enterprise: String,
    pub plate: String,
    /// Lane class the truck needs: `general`, `perishable`, `agv`.
    pub class: String,
    /// HS chapter of the first consignment.
    pub commodity: String,
    /// `virtual`, `yard`, `called`, `clearing`, `done`, `refused`.
    pub status: String,
    pub lane: Option<String>,
    /// `green`, `yellow`, `red`, chosen by the risk rules at check-in.
    pub channel: String,
    /// The code of the risk rule that chose the channel (`none` when no rule matched).
    pub channel_reason: String,
    /// Why the truck is in its channel, in each language.
    pub channel_reason_words: WordsOut,
    pub slot: Option<When>,
    pub spoils_at: Option<When>,
    pub joined_at: When,
    pub yard_at: Option<When>,
    pub called_at: Option<When>,
    pub call_deadline: Option<When>,
    pub calls: u32,
    pub current_step: Option<usize>,
    pub steps: Vec<StepOut>,
    pub eta: Option<When>,
    pub position: Option<PositionOut>,
    pub fee: Option<FeeOut>,
}

/// How an officer ends a step.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinishIn {
    /// `pass`, `hold` or `refuse`.
    pub outcome: String,
    /// Required for `hold` and `refuse`.
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeeIn {
    pub amount: f64,
    /// ISO 4217: `VND` or `CNY`.
    pub currency: String,
    pub receipt: String,
}

/// The driver's phone reports where the truck is.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PositionIn {
    pub lat: f64,
    pub lon: f64,
    /// Expected arrival at the yard, RFC 3339.
    #[serde(default)]
    pub eta: Option<String>,
}

/// What a dispatch round did.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DispatchOut {
    /// Trips whose call went unanswered and who went back to the queue.
    pub requeued: Vec<i64>,
    /// Bookings released because their truck never came.
    pub no_shows: Vec<i64>,
    pub called: Vec<TripOut>,
}

/// A lane and what it is doing.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LaneStateOut {
    pub id: String,
    /// Its number among the lanes of its side and direction, as drivers are told it ("lane 2").
    pub number: usize,
    pub name: String,
    pub side: String,
    pub class: String,
    pub capacity_per_hour: u32,
    pub active: bool,
    /// The truck on the lane (plate masked for the public) and its status.
    pub plate: Option<String>,
    pub trip_status: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QueueEntryOut {
    pub position: usize,
    /// Masked for the public (`29C-•••45`).
    pub plate: String,
    pub class: String,
    /// `yard` or `virtual`.
    pub status: String,
    pub booked: bool,
    pub estimated_call: Option<When>,
    /// Present for officers only.
    pub trip_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HourAheadOut {
    pub hour: When,
    pub capacity: u32,
    pub booked: u32,
}

/// A gate pair's live queue in one direction.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QueueOut {
    pub gate_pair: String,
    pub direction: String,
    pub at: When,
    /// Open now on each side: its hours, and false while a suspension closes it (null: hours not known).
    pub vn_open: Option<bool>,
    pub cn_open: Option<bool>,
    /// The national single window's level for all waiting trucks of the pair: `green`, `yellow`, `orange`, `red`.
    pub congestion: String,
    pub waiting_both_directions: u64,
    pub yard: u32,
    pub virtual_queue: u32,
    pub called: u32,
    pub clearing: u32,
    pub far_side_limit: u32,
    pub expected_wait_s: Option<i64>,
    pub lanes: Vec<LaneStateOut>,
    pub booked_ahead: Vec<HourAheadOut>,
    pub queue: Vec<QueueEntryOut>,
    /// True when this database holds the generated demo day.
    pub demo: bool,
    /// The data is at least as fresh as this: `at`, less the read replica's lag when the board was read from one.
    pub as_of: When,
    /// Seconds the read replica this board was read from is behind the primary (null: read from the primary).
    pub replica_lag_s: Option<f64>,
    /// Where it was read: `primary`, `replica`, or `primary-fallback` (a read replica is configured
    /// but did not answer, so the primary did).
    #[schema(pattern = "^(primary|replica|primary-fallback)$")]
    pub source: String,
}

/// A text (a name, a reason) in each of the three languages.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WordsOut {
    pub vi: String,
    pub zh: String,
    pub en: String,
}

/// A driver's own view, found by declaration number and plate.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TrackOut {
    pub declaration_id: i64,
    pub gate_pair: String,
    pub direction: String,
    pub plate: String,
    /// `none` before joining a queue, then the trip's status.
    pub status: String,
    pub position: Option<usize>,
    pub waiting_total: usize,
    pub estimated_call: Option<When>,
    /// Set when called: go to this lane before the deadline.
    pub your_turn: bool,
    pub lane: Option<String>,
    /// The called lane's number among the lanes of its side and direction.
    pub lane_number: Option<usize>,
    /// The called lane's class (`general`, `perishable`, `agv`).
    pub lane_class: Option<String>,
    /// The name, in each language, of the gate the truck leaves from (where a translation is
    /// unknown, the gate's own-language name).
    pub exit_gate: WordsOut,
    pub call_deadline: Option<When>,
    pub booking: Option<BookingOut>,
    pub current_step: Option<String>,
    /// The truck's channel (`green`, `yellow`, `red`) and why, in each language, once it has a trip.
    pub channel: Option<String>,
    pub channel_reason_words: Option<WordsOut>,
    /// The step that holds or refused the truck, with its reason (null while nothing stops it).
    pub stopped: Option<StepOut>,
    /// Seconds the read replica this page was read from is behind the primary (null: read from the primary).
    pub replica_lag_s: Option<f64>,
    /// The page's data is at least as fresh as this: now, less the read replica's lag.
    pub as_of: When,
    /// Where it was read: `primary`, `replica`, or `primary-fallback` (a read replica is configured
    /// but did not answer, so the primary did).
    #[schema(pattern = "^(primary|replica|primary-fallback)$")]
    pub source: String,
}

/// One row of the Time Release Study report (durations in seconds).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DwellRowOut {
    pub group: String,
    pub interval: String,
    pub n: usize,
    pub mean_s: f64,
    pub p50_s: f64,
    pub p95_s: f64,
    pub max_s: f64,
}

/// The rows of a Time Release Study report, as the API and the CLI print them.
pub fn dwell_rows(r: &cuakhau_core::goods::dwell::Report) -> Vec<DwellRowOut> {
    r.rows()
        .into_iter()
        .map(|(group, interval, s)| DwellRowOut {
            group,
            interval: interval.into(),
            n: s.n,
            mean_s: s.mean,
            p50_s: s.p50,
            p95_s: s.p95,
            max_s: s.max,
        })
        .collect()
}
