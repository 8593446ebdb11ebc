//! Reference data of the Vietnam–China land border: provinces, gate pairs, gates, lanes.
//!
//! Every constructor validates; a value of these types is a valid one. Sources travel with the
//! data (`source` fields) so that nothing is presented as fact without its origin.

use crate::time::{self, Timestamp};
use crate::validate::{self, FieldError, Problem};

macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $code:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }
        impl $name {
            pub const CODES: &'static [&'static str] = &[$($code),+];
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn code(self) -> &'static str { match self { $($name::$variant => $code),+ } }
            pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
                match s.trim() {
                    $($code => Ok($name::$variant),)+
                    _ => Err(FieldError::new(field, Problem::NotOneOf { allowed: Self::CODES })),
                }
            }
        }
    };
}

code_enum!(
    /// A side of the border.
    Side { Vn => "VN", Cn => "CN" }
);
code_enum!(
    /// The kind of a gate pair, as the 2009 Agreement on border gates and Vietnamese law class them.
    GateKind { International => "international", Main => "main", Auxiliary => "auxiliary", CrossingPoint => "crossing-point" }
);
code_enum!(
    /// How a gate pair is crossed.
    Mode { Road => "road", Rail => "rail", River => "river" }
);
code_enum!(
    /// The direction of travel of goods: export is Vietnam → China, import is China → Vietnam.
    Direction { Export => "export", Import => "import" }
);
code_enum!(
    /// The class of a lane: general cargo, a dedicated perishables (green) lane, or a driverless AGV lane.
    LaneClass { General => "general", Perishable => "perishable", Agv => "agv" }
);

impl Side {
    /// The IANA zone each side keeps its clocks in.
    pub fn zone(self) -> &'static str {
        match self {
            Side::Vn => time::VN_ZONE,
            Side::Cn => time::CN_ZONE,
        }
    }
    pub fn other(self) -> Side {
        match self {
            Side::Vn => Side::Cn,
            Side::Cn => Side::Vn,
        }
    }
}

impl Direction {
    /// The side goods leave from.
    pub fn exit_side(self) -> Side {
        match self {
            Direction::Export => Side::Vn,
            Direction::Import => Side::Cn,
        }
    }
}

fn slug(field: &str, s: &str) -> Result<String, FieldError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(FieldError::new(field, Problem::Empty));
    }
    if s.len() > 80 || !s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
        return Err(FieldError::new(field, Problem::BadSlug));
    }
    Ok(s.to_string())
}

/// A gate pair's identifier: a lower-case slug such as `huu-nghi`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GatePairId(String);
impl GatePairId {
    /// Reported as `gate_pair`, the name requests and files give it; a field named otherwise
    /// (an `id`) renames the error with [`FieldError::named`].
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        slug("gate_pair", s).map(GatePairId)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A province's identifier: a lower-case slug such as `lang-son` or `guangxi`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProvinceId(String);
impl ProvinceId {
    /// Reported as `province`, the name requests and files give it (see [`GatePairId::parse`]).
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        slug("province", s).map(ProvinceId)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A lane's identifier: a lower-case slug such as `huu-nghi-cn-import-1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LaneId(String);
impl LaneId {
    /// Reported as `lane` (see [`GatePairId::parse`]).
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        slug("lane", s).map(LaneId)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A province (Vietnam) or province-level region (China).
#[derive(Debug, Clone, PartialEq)]
pub struct Province {
    pub id: ProvinceId,
    pub country: Side,
    pub name_vi: String,
    pub name_zh: String,
    pub name_en: String,
    /// Former provinces merged into this one (Vietnam's 2025 merger), e.g. "Hà Giang".
    pub former_names: Option<String>,
    pub source: String,
}

impl Province {
    #[allow(clippy::too_many_arguments)]
    pub fn parse(
        id: &str,
        country: &str,
        name_vi: &str,
        name_zh: &str,
        name_en: &str,
        former_names: &str,
        source: &str,
    ) -> Result<Self, FieldError> {
        Ok(Province {
            id: ProvinceId::parse(id).map_err(|e| e.named("id"))?,
            country: Side::parse("country", country)?,
            name_vi: validate::text("name_vi", name_vi, 120)?,
            name_zh: validate::text("name_zh", name_zh, 120)?,
            name_en: validate::text("name_en", name_en, 120)?,
            former_names: validate::opt_text("former_names", former_names, 200)?,
            source: validate::text("source", source, 2000)?,
        })
    }
}

/// Which Vietnamese province works with which Chinese province, and in which mechanism.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalityPairing {
    pub vn_province: ProvinceId,
    pub cn_province: ProvinceId,
    pub mechanism: String,
    pub source: String,
}

impl LocalityPairing {
    pub fn parse(vn: &str, cn: &str, mechanism: &str, source: &str) -> Result<Self, FieldError> {
        Ok(LocalityPairing {
            vn_province: ProvinceId::parse(vn).map_err(|e| FieldError::new("vn_province", e.problem))?,
            cn_province: ProvinceId::parse(cn).map_err(|e| FieldError::new("cn_province", e.problem))?,
            mechanism: validate::text("mechanism", mechanism, 300)?,
            source: validate::text("source", source, 2000)?,
        })
    }
}

/// A point on the map, with where it came from and how precise it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Coordinate {
    pub lat: f64,
    pub lon: f64,
    /// How precise the point is, in words (e.g. "1 arc-second", "boundary marker, approx. 100 m").
    pub precision: String,
    pub source: String,
}

impl Coordinate {
    /// Parses a coordinate; all four fields empty means "not known" (`Ok(None)`).
    pub fn parse(prefix: &str, lat: &str, lon: &str, precision: &str, source: &str) -> Result<Option<Self>, FieldError> {
        if [lat, lon, precision, source].iter().all(|s| s.trim().is_empty()) {
            return Ok(None);
        }
        let num = |field: String, s: &str, min: f64, max: f64| -> Result<f64, FieldError> {
            let v: f64 = s.trim().parse().map_err(|_| FieldError::new(field.clone(), Problem::NotANumber))?;
            // The land border lies within these bounds; a point outside them is a typo.
            if !(min..=max).contains(&v) {
                return Err(FieldError::new(field, Problem::OutOfRange { min, max }));
            }
            Ok(v)
        };
        Ok(Some(Coordinate {
            lat: num(format!("{prefix}lat"), lat, 20.0, 24.0)?,
            lon: num(format!("{prefix}lon"), lon, 101.0, 109.0)?,
            precision: validate::text(&format!("{prefix}coord_precision"), precision, 200)?,
            source: validate::text(&format!("{prefix}coord_source"), source, 2000)?,
        }))
    }
}

/// Daily opening hours in the gate's own local time, with their source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpeningHours {
    /// Minutes after local midnight.
    pub open_min: u16,
    /// Minutes after local midnight; may be 1440 (24:00). Greater than `open_min`.
    pub close_min: u16,
    pub source: String,
}

pub fn parse_hhmm(field: &str, s: &str) -> Result<u16, FieldError> {
    let bad = || FieldError::new(field, Problem::BadTime);
    let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: u16 = h.parse().map_err(|_| bad())?;
    let m: u16 = m.parse().map_err(|_| bad())?;
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

pub fn format_hhmm(min: u16) -> String {
    format!("{:02}:{:02}", min / 60, min % 60)
}

impl OpeningHours {
    /// Parses hours; all three fields empty means "not known" (`Ok(None)`).
    pub fn parse(prefix: &str, open: &str, close: &str, source: &str) -> Result<Option<Self>, FieldError> {
        if [open, close, source].iter().all(|s| s.trim().is_empty()) {
            return Ok(None);
        }
        let open_min = parse_hhmm(&format!("{prefix}opens"), open)?;
        let close_min = parse_hhmm(&format!("{prefix}closes"), close)?;
        if close_min <= open_min {
            return Err(FieldError::new(format!("{prefix}closes"), Problem::Other("closes must be after opens")));
        }
        Ok(Some(OpeningHours { open_min, close_min, source: validate::text(&format!("{prefix}hours_source"), source, 2000)? }))
    }

    /// Is the gate open at `t`, read in `zone`?
    pub fn is_open_at(&self, t: Timestamp, zone: &str) -> bool {
        match t.local_minute_of_day(zone) {
            Some(m) => m >= self.open_min && m < self.close_min,
            None => false,
        }
    }

    /// Minutes from `t` until the gate next opens, read in `zone` (0 while it is open). Exact
    /// for zones without daylight saving, which both border zones are.
    pub fn minutes_until_open(&self, t: Timestamp, zone: &str) -> Option<u32> {
        let m = t.local_minute_of_day(zone)? as u32;
        let (open, close) = (self.open_min as u32, self.close_min as u32);
        Some(if m >= open && m < close {
            0
        } else if m < open {
            open - m
        } else {
            24 * 60 - m + open
        })
    }
}

/// One side's gate of a pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Gate {
    pub side: Side,
    pub name_vi: String,
    pub name_zh: Option<String>,
    pub name_pinyin: Option<String>,
    pub name_en: String,
    pub province: ProvinceId,
    /// The province before Vietnam's 2025 merger, where it differs.
    pub former_province: Option<String>,
    pub zone: String,
    pub coordinate: Option<Coordinate>,
    pub hours: Option<OpeningHours>,
}

impl Gate {
    pub fn is_open_at(&self, t: Timestamp) -> Option<bool> {
        self.hours.as_ref().map(|h| h.is_open_at(t, &self.zone))
    }

    /// The gate's name in `lang`; where that translation is unknown, its own side's name
    /// (a Chinese gate's Chinese name or pinyin, a Vietnamese gate's Vietnamese name).
    pub fn name_in(&self, lang: crate::Lang) -> &str {
        let own = match self.side {
            Side::Vn => self.name_vi.as_str(),
            Side::Cn => self.name_zh.as_deref().or(self.name_pinyin.as_deref()).unwrap_or(&self.name_en),
        };
        let known = match lang {
            crate::Lang::Vi => Some(self.name_vi.as_str()),
            crate::Lang::Zh => self.name_zh.as_deref(),
            crate::Lang::En => Some(self.name_en.as_str()),
        };
        known.filter(|n| !n.trim().is_empty()).unwrap_or(own)
    }
}

/// A gate with its names only (no province, hours or coordinates), in its side's zone: for tests.
#[cfg(test)]
pub(crate) fn named_gate(side: Side, vi: &str, zh: &str, pinyin: &str, en: &str) -> Gate {
    let f = GateFields {
        name_vi: vi,
        name_zh: zh,
        name_pinyin: pinyin,
        name_en: en,
        province: "p",
        former_province: "",
        zone: side.zone(),
        lat: "",
        lon: "",
        coord_precision: "",
        coord_source: "",
        opens: "",
        closes: "",
        hours_source: "",
    };
    Gate::parse(side, &f).expect("a named gate")
}

/// A lane's number as drivers and boards read it: its place (from 1) among the lanes of its gate
/// pair, side and direction, ordered by id with the numbers in ids compared as numbers (`…-2`
/// before `…-10`). Closed lanes keep their number. `None` when `id` is not among `lanes`.
pub fn lane_number(lanes: &[Lane], id: &str) -> Option<usize> {
    let lane = lanes.iter().find(|l| l.id.as_str() == id)?;
    let mut same: Vec<&str> = lanes
        .iter()
        .filter(|l| l.gate_pair == lane.gate_pair && l.side == lane.side && l.direction == lane.direction)
        .map(|l| l.id.as_str())
        .collect();
    same.sort_by_key(|a| natural_key(a));
    same.dedup();
    same.iter().position(|x| *x == id).map(|i| i + 1)
}

/// `"lane-10b"` as `[Text("lane-"), Number(10), Text("b")]`, so that ids sort as people count.
fn natural_key(s: &str) -> Vec<(u8, u64, String)> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        let digit = c.is_ascii_digit();
        let end = rest.find(|x: char| x.is_ascii_digit() != digit).unwrap_or(rest.len());
        let (part, tail) = rest.split_at(end);
        out.push(if digit { (0, part.parse().unwrap_or(u64::MAX), part.to_string()) } else { (1, 0, part.to_string()) });
        rest = tail;
    }
    out
}

/// Raw text fields of one gate, as they come from a CSV row or a JSON object.
#[derive(Debug, Clone, Default)]
pub struct GateFields<'a> {
    pub name_vi: &'a str,
    pub name_zh: &'a str,
    pub name_pinyin: &'a str,
    pub name_en: &'a str,
    pub province: &'a str,
    pub former_province: &'a str,
    pub zone: &'a str,
    pub lat: &'a str,
    pub lon: &'a str,
    pub coord_precision: &'a str,
    pub coord_source: &'a str,
    pub opens: &'a str,
    pub closes: &'a str,
    pub hours_source: &'a str,
}

impl Gate {
    pub fn parse(side: Side, f: &GateFields<'_>) -> Result<Self, FieldError> {
        let p = match side {
            Side::Vn => "vn_",
            Side::Cn => "cn_",
        };
        let field = |n: &str| format!("{p}{n}");
        let zone = validate::text(&field("zone"), f.zone, 64)?;
        if !time::is_known_zone(&zone) {
            return Err(FieldError::new(field("zone"), Problem::UnknownZone));
        }
        Ok(Gate {
            side,
            name_vi: validate::text(&field("name_vi"), f.name_vi, 200)?,
            name_zh: validate::opt_text(&field("name_zh"), f.name_zh, 200)?,
            name_pinyin: validate::opt_text(&field("name_pinyin"), f.name_pinyin, 200)?,
            name_en: validate::text(&field("name_en"), f.name_en, 200)?,
            province: ProvinceId::parse(f.province).map_err(|e| FieldError::new(field("province"), e.problem))?,
            former_province: validate::opt_text(&field("former_province"), f.former_province, 200)?,
            zone,
            coordinate: Coordinate::parse(p, f.lat, f.lon, f.coord_precision, f.coord_source)?,
            hours: OpeningHours::parse(p, f.opens, f.closes, f.hours_source)?,
        })
    }
}

/// A pair of facing gates, one on each side.
#[derive(Debug, Clone, PartialEq)]
pub struct GatePair {
    pub id: GatePairId,
    pub kind: GateKind,
    pub mode: Mode,
    /// The designation in the source's own words (e.g. "bilateral per 2009 gate agreement").
    pub designation: String,
    pub vn: Gate,
    pub cn: Gate,
    /// West-to-east order along the border.
    pub order: u32,
    pub sources: Vec<String>,
}

impl GatePair {
    pub fn gate(&self, side: Side) -> &Gate {
        match side {
            Side::Vn => &self.vn,
            Side::Cn => &self.cn,
        }
    }
    pub fn gate_mut(&mut self, side: Side) -> &mut Gate {
        match side {
            Side::Vn => &mut self.vn,
            Side::Cn => &mut self.cn,
        }
    }
    /// True when both sides are open at `t`, each read in its own zone; `None` when either side's
    /// hours are not known.
    pub fn both_open_at(&self, t: Timestamp) -> Option<bool> {
        Some(self.vn.is_open_at(t)? && self.cn.is_open_at(t)?)
    }
}

/// A lane at one side of a gate pair, for one direction of travel.
#[derive(Debug, Clone, PartialEq)]
pub struct Lane {
    pub id: LaneId,
    pub gate_pair: GatePairId,
    pub side: Side,
    pub direction: Direction,
    pub class: LaneClass,
    pub name: String,
    pub capacity_per_hour: u32,
    pub active: bool,
    /// Where the lane and its capacity come from (a source, or who set it).
    pub basis: String,
}

/// Upper bound on a single lane's hourly capacity; a higher figure is a typo, not a lane.
pub const LANE_CAPACITY_MAX: u32 = 600;

pub fn parse_capacity(field: &str, s: &str) -> Result<u32, FieldError> {
    let v: u32 = s.trim().parse().map_err(|_| FieldError::new(field, Problem::NotANumber))?;
    check_capacity(field, v)
}

pub fn check_capacity(field: &str, v: u32) -> Result<u32, FieldError> {
    if v > LANE_CAPACITY_MAX {
        return Err(FieldError::new(field, Problem::OutOfRange { min: 0.0, max: LANE_CAPACITY_MAX as f64 }));
    }
    Ok(v)
}

impl Lane {
    #[allow(clippy::too_many_arguments)]
    pub fn parse(
        id: &str,
        gate_pair: &str,
        side: &str,
        direction: &str,
        class: &str,
        name: &str,
        capacity_per_hour: &str,
        active: &str,
        basis: &str,
    ) -> Result<Self, FieldError> {
        Ok(Lane {
            id: LaneId::parse(id).map_err(|e| e.named("id"))?,
            gate_pair: GatePairId::parse(gate_pair).map_err(|e| e.named("gate_pair"))?,
            side: Side::parse("side", side)?,
            direction: Direction::parse("direction", direction)?,
            class: LaneClass::parse("class", class)?,
            name: validate::text("name", name, 120)?,
            capacity_per_hour: parse_capacity("capacity_per_hour", capacity_per_hour)?,
            active: parse_bool("active", active)?,
            basis: validate::text("basis", basis, 2000)?,
        })
    }
}

pub fn parse_bool(field: &str, s: &str) -> Result<bool, FieldError> {
    match s.trim() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(FieldError::new(field, Problem::NotOneOf { allowed: &["true", "false"] })),
    }
}

/// The whole reference data set, checked for referential integrity.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReferenceData {
    pub provinces: Vec<Province>,
    pub pairings: Vec<LocalityPairing>,
    pub gate_pairs: Vec<GatePair>,
    pub lanes: Vec<Lane>,
}

/// Where in a reference data set a problem was found.
#[derive(Debug, Clone, PartialEq)]
pub struct IntegrityError {
    pub table: &'static str,
    pub index: usize,
    pub error: FieldError,
}

impl ReferenceData {
    /// Checks that every reference points at something that exists, that ids are unique and that
    /// each gate's province is on its own side. Returns the first problem.
    pub fn check(&self) -> Result<(), IntegrityError> {
        use std::collections::{HashMap, HashSet};
        let err = |table, index, field: &str, problem| IntegrityError { table, index, error: FieldError::new(field, problem) };
        let mut provinces: HashMap<&ProvinceId, Side> = HashMap::new();
        for (i, p) in self.provinces.iter().enumerate() {
            if provinces.insert(&p.id, p.country).is_some() {
                return Err(err("provinces", i, "id", Problem::Other("duplicate id")));
            }
        }
        let province_on = |id: &ProvinceId, side: Side| provinces.get(id) == Some(&side);
        for (i, p) in self.pairings.iter().enumerate() {
            if !province_on(&p.vn_province, Side::Vn) {
                return Err(err("pairings", i, "vn_province", Problem::UnknownReference { what: "province" }));
            }
            if !province_on(&p.cn_province, Side::Cn) {
                return Err(err("pairings", i, "cn_province", Problem::UnknownReference { what: "province" }));
            }
        }
        let mut pairs = HashSet::new();
        for (i, gp) in self.gate_pairs.iter().enumerate() {
            if !pairs.insert(&gp.id) {
                return Err(err("gate_pairs", i, "id", Problem::Other("duplicate id")));
            }
            if !province_on(&gp.vn.province, Side::Vn) {
                return Err(err("gate_pairs", i, "vn_province", Problem::UnknownReference { what: "province" }));
            }
            if !province_on(&gp.cn.province, Side::Cn) {
                return Err(err("gate_pairs", i, "cn_province", Problem::UnknownReference { what: "province" }));
            }
        }
        let mut lanes = HashSet::new();
        for (i, l) in self.lanes.iter().enumerate() {
            if !lanes.insert(&l.id) {
                return Err(err("lanes", i, "id", Problem::Other("duplicate id")));
            }
            if !pairs.contains(&l.gate_pair) {
                return Err(err("lanes", i, "gate_pair", Problem::UnknownReference { what: "gate pair" }));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_until_a_gate_opens() {
        let h = OpeningHours::parse("vn_", "07:00", "19:00", "test").unwrap().unwrap();
        let at = |s: &str| time::parse_rfc3339(s).unwrap();
        let cases = [
            ("2026-11-23T06:30:00+07:00", 30),
            ("2026-11-23T07:00:00+07:00", 0),
            ("2026-11-23T18:59:00+07:00", 0),
            ("2026-11-23T19:00:00+07:00", 720),
            ("2026-11-23T23:00:00+07:00", 480),
        ];
        for (t, want) in cases {
            assert_eq!(h.minutes_until_open(at(t), time::VN_ZONE), Some(want), "{t}");
        }
        // The same instant read in Beijing: 06:30 in Hà Nội is 07:30 there, open.
        assert_eq!(h.minutes_until_open(at("2026-11-23T06:30:00+07:00"), time::CN_ZONE), Some(0));
    }

    #[test]
    fn hours_are_read_in_each_sides_zone() {
        let h = OpeningHours::parse("vn_", "07:00", "19:00", "test").unwrap().unwrap();
        // 00:30 UTC is 07:30 in Hà Nội and 08:30 in Beijing.
        let t = time::parse_rfc3339("2026-11-23T00:30:00Z").unwrap();
        assert!(h.is_open_at(t, time::VN_ZONE));
        // 23:30 UTC the day before is 06:30 in Hà Nội (closed) and 07:30 in Beijing (closed too).
        let early = time::parse_rfc3339("2026-11-22T23:30:00Z").unwrap();
        assert!(!h.is_open_at(early, time::VN_ZONE));
        // 11:30 UTC is 18:30 in Hà Nội (open) and 19:30 in Beijing (closed).
        let late = time::parse_rfc3339("2026-11-23T11:30:00Z").unwrap();
        assert!(h.is_open_at(late, time::VN_ZONE));
        assert!(!h.is_open_at(late, time::CN_ZONE));
    }

    #[test]
    fn bad_values_name_their_field() {
        let cases: &[(&str, &str, &str, &str)] = &[
            ("25:00", "19:00", "x", "vn_opens"),
            ("07:00", "06:00", "x", "vn_closes"),
            ("7:00", "19:00", "x", "vn_opens"),
            ("07:00", "19:00", "", "vn_hours_source"),
        ];
        for (o, c, s, field) in cases {
            let e = OpeningHours::parse("vn_", o, c, s).unwrap_err();
            assert_eq!(e.field, *field, "{o}-{c}");
        }
        assert_eq!(OpeningHours::parse("vn_", "", "", "").unwrap(), None);
        assert_eq!(parse_capacity("capacity_per_hour", "601").unwrap_err().field, "capacity_per_hour");
        assert!(GatePairId::parse("Huu Nghi").is_err());
        assert_eq!(Coordinate::parse("cn_", "45.0", "106.7", "x", "y").unwrap_err().field, "cn_lat");
    }

    #[test]
    fn lanes_are_numbered_among_their_side_and_direction_as_people_count() {
        let lane = |id: &str, side: &str, dir: &str| Lane::parse(id, "huu-nghi", side, dir, "general", id, "12", "true", "t").unwrap();
        let lanes = [
            lane("hn-vn-export-green", "VN", "export"),
            lane("hn-vn-export-10", "VN", "export"),
            lane("hn-vn-export-2", "VN", "export"),
            lane("hn-cn-entry-1", "CN", "export"),
            lane("hn-vn-import-1", "VN", "import"),
        ];
        let n = |id: &str| lane_number(&lanes, id);
        assert_eq!([n("hn-vn-export-2"), n("hn-vn-export-10"), n("hn-vn-export-green")], [Some(1), Some(2), Some(3)]);
        assert_eq!([n("hn-cn-entry-1"), n("hn-vn-import-1"), n("nowhere")], [Some(1), Some(1), None]);
    }

    #[test]
    fn a_gate_is_named_in_the_readers_language_else_in_its_own() {
        let g = named_gate(Side::Cn, "Hữu Nghị Quan", "友谊关", "Yǒuyìguān", "Youyiguan");
        assert_eq!(
            [g.name_in(crate::Lang::Vi), g.name_in(crate::Lang::Zh), g.name_in(crate::Lang::En)],
            ["Hữu Nghị Quan", "友谊关", "Youyiguan"]
        );
        let unknown = named_gate(Side::Cn, "Hữu Nghị Quan", "", "Yǒuyìguān", "Youyiguan");
        assert_eq!(unknown.name_in(crate::Lang::Zh), "Yǒuyìguān", "no Chinese name: the pinyin, not English");
    }

    #[test]
    fn format_round_trips() {
        for m in [0u16, 420, 1439, 1440] {
            assert_eq!(parse_hhmm("t", &format_hhmm(m)).unwrap(), m);
        }
    }
}
