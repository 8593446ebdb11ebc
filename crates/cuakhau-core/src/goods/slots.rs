//! Booked crossing slots: hourly capacity derived from lanes and both sides' hours, the share
//! reserved for perishables, which capacity bucket a truck may book, and the national single
//! window's congestion levels.
//!
//! Capacity is split into independent buckets so that a store can book with one atomic
//! "increment if below capacity" per bucket: no read-then-write, no double booking.

use crate::refdata::{Direction, GatePair, Lane, LaneClass, Side};
use crate::time::Timestamp;

pub use crate::refdata::LaneClass as SlotClass;

/// A stop of one side's gate: none crosses, or only trucks that booked a slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suspension {
    pub side: Side,
    pub from: Timestamp,
    pub until: Timestamp,
    /// Tết-style windows: the gate works only for pre-registered (booked) trucks.
    pub preregistered_only: bool,
    pub reason: String,
}

/// Slot rules of a gate pair.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotPolicy {
    /// Share of general capacity held for perishables (0–1).
    pub perishable_share: f64,
    /// Bookings one enterprise may hold per local day (stops hoarding and resale).
    pub per_enterprise_per_day: u32,
    /// A booked truck not checked in by slot start + grace loses its slot.
    pub no_show_grace_s: i64,
}

impl Default for SlotPolicy {
    fn default() -> Self {
        SlotPolicy { perishable_share: 0.3, per_enterprise_per_day: 40, no_show_grace_s: 2 * 3600 }
    }
}

/// The independent capacity buckets of one gate pair, direction and hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Bucket {
    /// General lanes, open to any cargo.
    General,
    /// General lanes' share held for perishables.
    Reserved,
    /// Dedicated perishable (green) lanes.
    Perishable,
    /// Driverless AGV lanes.
    Agv,
}

impl Bucket {
    pub const ALL: [Bucket; 4] = [Bucket::General, Bucket::Reserved, Bucket::Perishable, Bucket::Agv];
    pub fn code(self) -> &'static str {
        match self {
            Bucket::General => "general",
            Bucket::Reserved => "reserved",
            Bucket::Perishable => "perishable",
            Bucket::Agv => "agv",
        }
    }
    pub fn parse(s: &str) -> Option<Bucket> {
        Bucket::ALL.into_iter().find(|b| b.code() == s)
    }
    /// The buckets a truck may book, in the order to try them.
    pub fn candidates(perishable: bool, agv: bool) -> &'static [Bucket] {
        match (agv, perishable) {
            (true, _) => &[Bucket::Agv],
            (false, true) => &[Bucket::Perishable, Bucket::Reserved, Bucket::General],
            (false, false) => &[Bucket::General],
        }
    }
}

/// Trucks per bucket for one hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HourCapacity {
    pub general: u32,
    pub reserved: u32,
    pub perishable: u32,
    pub agv: u32,
}

impl HourCapacity {
    pub fn of(&self, b: Bucket) -> u32 {
        match b {
            Bucket::General => self.general,
            Bucket::Reserved => self.reserved,
            Bucket::Perishable => self.perishable,
            Bucket::Agv => self.agv,
        }
    }
    pub fn total(&self) -> u32 {
        self.general + self.reserved + self.perishable + self.agv
    }
}

/// Minutes of the hour starting at `hour_start` in which both sides are open and neither side is
/// suspended (a pre-registered-only window still counts: booked trucks may cross in it).
pub fn shared_open_minutes(pair: &GatePair, hour_start: Timestamp, suspensions: &[Suspension]) -> u32 {
    let (Some(vn), Some(cn)) = (&pair.vn.hours, &pair.cn.hours) else { return 0 };
    // Minute of day in each zone at the hour's start; both zones have whole-hour offsets and no
    // DST, so the rest of the hour follows by adding minutes.
    let (Some(v0), Some(c0)) = (hour_start.local_minute_of_day(&pair.vn.zone), hour_start.local_minute_of_day(&pair.cn.zone)) else {
        return 0;
    };
    (0..60u16)
        .filter(|m| {
            let t = hour_start.plus_seconds(*m as i64 * 60);
            let open = |h: &crate::refdata::OpeningHours, start: u16| {
                let minute = (start + m) % 1440;
                minute >= h.open_min && minute < h.close_min
            };
            open(vn, v0) && open(cn, c0) && !suspensions.iter().any(|s| !s.preregistered_only && s.from <= t && t < s.until)
        })
        .count() as u32
}

/// Does `side` of the pair work at `t` for a truck (`booked`: it holds a slot)? Unknown hours
/// count as open; a suspension of that side closes it, or leaves it open to booked trucks only.
/// The same model as [`SideCalendar`] (the gate's daily hours in its zone, no holidays).
pub fn side_works_at(pair: &GatePair, suspensions: &[Suspension], side: Side, t: Timestamp, booked: bool) -> bool {
    let gate = pair.gate(side);
    let in_hours = match SideCalendar::of_gate(gate, &[], t) {
        Some(c) => c.in_hours(t, None),
        None => gate.hours.is_none(),
    };
    in_hours && suspensions_admit(suspensions, side, t).lets(booked)
}

/// Minutes of the hour starting at `hour_start` in which both calendars admit trucks (a
/// pre-registered-only window counts: booked trucks may cross in it). The calendars' version of
/// [`shared_open_minutes`], with weekdays, split windows and holidays.
pub fn shared_open_minutes_of(a: &SideCalendar, b: &SideCalendar, hour_start: Timestamp) -> u32 {
    (0..60i64)
        .filter(|m| {
            let t = hour_start.plus_seconds(m * 60);
            a.admits(t, None) != Admits::Nobody && b.admits(t, None) != Admits::Nobody
        })
        .count() as u32
}

/// Most opening windows one local day may have (a window running past midnight counts as two).
pub const MAX_WINDOWS_PER_DAY: usize = 4;

/// Weekly opening hours in local time: for each weekday (Monday = 0) up to
/// [`MAX_WINDOWS_PER_DAY`] windows `[open, close)` in minutes after local midnight, sorted and
/// not overlapping. Split hours (Hoành Mô: 08:00–09:00 and 15:00–16:00 Monday to Friday) are
/// two windows; a lane working 19:00–07:00 is 19:00–24:00 and 00:00–07:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeeklyHours {
    days: [[(u16, u16); MAX_WINDOWS_PER_DAY]; 7],
    counts: [u8; 7],
}

/// Why a set of windows is not valid hours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoursError(pub String);

impl std::fmt::Display for HoursError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl WeeklyHours {
    /// Closed every day.
    pub const CLOSED: WeeklyHours = WeeklyHours { days: [[(0, 0); MAX_WINDOWS_PER_DAY]; 7], counts: [0; 7] };

    /// The same window every day; `close < open` runs past midnight (e.g. 19:00–07:00), and
    /// `open == close` is refused.
    pub fn daily(open_min: u16, close_min: u16) -> Result<WeeklyHours, HoursError> {
        let mut h = WeeklyHours::CLOSED;
        for d in 0..7 {
            h.add(d, open_min, close_min)?;
        }
        Ok(h)
    }

    /// Adds `[open, close)` on weekday `day` (Monday = 0); a window past midnight continues on
    /// the next day (Sunday's on Monday).
    pub fn add(&mut self, day: usize, open_min: u16, close_min: u16) -> Result<(), HoursError> {
        if day > 6 || open_min > 1440 || close_min > 1440 || open_min == close_min {
            return Err(HoursError(format!(
                "a window needs a weekday 0–6 and opens ≠ closes within 00:00–24:00 (got day {day}, {open_min}–{close_min})"
            )));
        }
        if close_min < open_min {
            self.add_one(day, open_min, 1440)?;
            if close_min > 0 {
                self.add_one((day + 1) % 7, 0, close_min)?;
            }
            return Ok(());
        }
        self.add_one(day, open_min, close_min)
    }

    fn add_one(&mut self, day: usize, open: u16, close: u16) -> Result<(), HoursError> {
        let n = self.counts[day] as usize;
        let w = &mut self.days[day];
        if w[..n].iter().any(|(o, c)| open < *c && *o < close) {
            return Err(HoursError(format!("overlapping windows on weekday {day}")));
        }
        if n == MAX_WINDOWS_PER_DAY {
            return Err(HoursError(format!("at most {MAX_WINDOWS_PER_DAY} windows a day")));
        }
        w[n] = (open, close);
        w[..=n].sort_unstable();
        self.counts[day] += 1;
        Ok(())
    }

    /// The windows of weekday `day` (Monday = 0).
    pub fn windows(&self, day: usize) -> &[(u16, u16)] {
        &self.days[day][..self.counts[day] as usize]
    }

    /// Open at `minute` (0–1439) of a local day that is weekday `day`?
    #[inline]
    pub fn is_open(&self, day: usize, minute: u16) -> bool {
        self.windows(day).iter().any(|(o, c)| minute >= *o && minute < *c)
    }

    /// Open at some minute of the week?
    pub fn ever_open(&self) -> bool {
        self.counts.iter().any(|n| *n > 0)
    }

    /// The first opening at or after `minute` of weekday `day`, as minutes from that day's
    /// midnight (within the next eight days), if the hours ever open.
    pub fn next_open(&self, day: usize, minute: u16) -> Option<i64> {
        for k in 0..8i64 {
            let d = (day + k as usize) % 7;
            for (o, c) in self.windows(d) {
                let at = k * 1440 + *o as i64;
                if k == 0 && (minute as i64) < *c as i64 {
                    return Some(at.max(minute as i64));
                }
                if k > 0 {
                    return Some(at);
                }
            }
        }
        None
    }
}

impl From<&crate::refdata::OpeningHours> for WeeklyHours {
    fn from(h: &crate::refdata::OpeningHours) -> Self {
        WeeklyHours::daily(h.open_min, h.close_min).unwrap_or(WeeklyHours::CLOSED)
    }
}

/// Whom a side lets through at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Admits {
    /// Closed (out of hours, a holiday, or suspended).
    Nobody,
    /// A "pre-registered only" window: trucks holding a slot.
    BookedOnly,
    /// Open to every truck.
    Everyone,
}

impl Admits {
    /// Does this let a truck through (`booked`: it holds a slot)?
    #[inline]
    pub fn lets(self, booked: bool) -> bool {
        match self {
            Admits::Nobody => false,
            Admits::BookedOnly => booked,
            Admits::Everyone => true,
        }
    }
}

/// What the suspensions of `side` leave open at `t`.
pub fn suspensions_admit(suspensions: &[Suspension], side: Side, t: Timestamp) -> Admits {
    let mut a = Admits::Everyone;
    for s in suspensions.iter().filter(|s| s.side == side && s.from <= t && t < s.until) {
        a = a.min(if s.preregistered_only { Admits::BookedOnly } else { Admits::Nobody });
    }
    a
}

const US_PER_MIN: i64 = 60_000_000;
const US_PER_DAY: i64 = 86_400_000_000;

/// The one opening-hours model of a side of a gate pair: weekly hours (split windows and
/// weekdays) in the side's own zone, whole local days closed (holidays), and suspensions (full,
/// or pre-registered trucks only). A lane may have hours of its own, which replace the side's;
/// the side's holidays and suspensions still apply to it. The live gate asks it with the wall
/// clock ([`side_works_at`]), the simulator in virtual time.
///
/// Both border zones keep one offset from UTC all year, so the calendar keeps the offset in
/// force at the instant it is built for.
#[derive(Debug, Clone, PartialEq)]
pub struct SideCalendar {
    pub side: Side,
    /// Local time minus UTC, µs.
    pub offset_us: i64,
    /// `None`: hours not known, counted as open.
    pub hours: Option<WeeklyHours>,
    /// Local day numbers (days since 1970-01-01 in local time) closed all day, sorted.
    holidays: Vec<i64>,
    /// This side's suspensions, sorted by start.
    suspensions: Vec<Suspension>,
}

impl SideCalendar {
    /// A side with `hours` at `offset_us` from UTC, no holidays and no suspensions.
    pub fn new(side: Side, offset_us: i64, hours: Option<WeeklyHours>) -> SideCalendar {
        SideCalendar { side, offset_us, hours, holidays: Vec::new(), suspensions: Vec::new() }
    }

    /// A gate's calendar as the reference data give it (daily hours in its zone, the offset in
    /// force at `at`) with the suspensions of its side; `None` if its zone is unknown.
    pub fn of_gate(gate: &crate::refdata::Gate, suspensions: &[Suspension], at: Timestamp) -> Option<SideCalendar> {
        let tz = jiff::tz::TimeZone::get(&gate.zone).ok()?;
        let offset_us = tz.to_offset(at.to_jiff()).seconds() as i64 * 1_000_000;
        Some(SideCalendar::new(gate.side, offset_us, gate.hours.as_ref().map(WeeklyHours::from)).with_suspensions(suspensions))
    }

    /// Adds whole local days closed (days since 1970-01-01 in local time).
    pub fn with_holidays(mut self, days: impl IntoIterator<Item = i64>) -> SideCalendar {
        self.holidays.extend(days);
        self.holidays.sort_unstable();
        self.holidays.dedup();
        self
    }

    /// Adds the suspensions of this side (others are ignored).
    pub fn with_suspensions(mut self, suspensions: &[Suspension]) -> SideCalendar {
        self.suspensions.extend(suspensions.iter().filter(|s| s.side == self.side).cloned());
        self.suspensions.sort_by_key(|s| (s.from, s.until));
        self
    }

    pub fn suspensions(&self) -> &[Suspension] {
        &self.suspensions
    }

    pub fn holidays(&self) -> &[i64] {
        &self.holidays
    }

    /// Local day number and minute of day of `t`, and the weekday (Monday = 0).
    #[inline]
    fn local(&self, t: Timestamp) -> (i64, u16, usize) {
        let local = t.as_micros() + self.offset_us;
        let day = local.div_euclid(US_PER_DAY);
        let minute = (local.rem_euclid(US_PER_DAY) / US_PER_MIN) as u16;
        // 1970-01-01 was a Thursday.
        (day, minute, (day + 3).rem_euclid(7) as usize)
    }

    /// Is the side (or a lane with `lane_hours` of its own) within its hours at `t`, holidays
    /// included, suspensions aside?
    #[inline]
    pub fn in_hours(&self, t: Timestamp, lane_hours: Option<&WeeklyHours>) -> bool {
        let Some(h) = lane_hours.or(self.hours.as_ref()) else { return true };
        let (day, minute, weekday) = self.local(t);
        h.is_open(weekday, minute) && (self.holidays.is_empty() || self.holidays.binary_search(&day).is_err())
    }

    /// Whom the side (or a lane with hours of its own) lets through at `t`.
    #[inline]
    pub fn admits(&self, t: Timestamp, lane_hours: Option<&WeeklyHours>) -> Admits {
        if !self.in_hours(t, lane_hours) {
            return Admits::Nobody;
        }
        if self.suspensions.is_empty() { Admits::Everyone } else { suspensions_admit(&self.suspensions, self.side, t) }
    }

    /// Whom the side (or lane) lets through at `t`, and an instant before which that answer
    /// cannot change (the next window boundary, local midnight, or suspension start or end), so
    /// that a caller asking often may ask again only then.
    pub fn admits_until(&self, t: Timestamp, lane_hours: Option<&WeeklyHours>) -> (Admits, Timestamp) {
        let a = self.admits(t, lane_hours);
        let c = t.as_micros();
        let (_, minute, weekday) = self.local(t);
        let day_start = c - (c + self.offset_us).rem_euclid(US_PER_DAY);
        let mut until = day_start + US_PER_DAY;
        if let Some(h) = lane_hours.or(self.hours.as_ref()) {
            for (o, cl) in h.windows(weekday) {
                for edge in [*o, *cl] {
                    if edge > minute {
                        until = until.min(day_start + edge as i64 * US_PER_MIN);
                    }
                }
            }
        }
        for s in &self.suspensions {
            for edge in [s.from.as_micros(), s.until.as_micros()] {
                if edge > c {
                    until = until.min(edge);
                }
            }
        }
        (a, Timestamp(until))
    }

    /// Does the side work at `t` for a truck (`booked`: it holds a slot)?
    pub fn works_at(&self, t: Timestamp, lane_hours: Option<&WeeklyHours>, booked: bool) -> bool {
        self.admits(t, lane_hours).lets(booked)
    }

    /// The first instant at or after `t` at which the side (or lane) lets a truck through
    /// (`booked`: one holding a slot); `None` if not within 800 days.
    pub fn next_works(&self, t: Timestamp, lane_hours: Option<&WeeklyHours>, booked: bool) -> Option<Timestamp> {
        let hours = lane_hours.or(self.hours.as_ref());
        let end = t.as_micros().saturating_add(800 * US_PER_DAY);
        let mut c = t.as_micros();
        while c < end {
            let at = Timestamp(c);
            if self.works_at(at, lane_hours, booked) {
                return Some(at);
            }
            let (day, minute, weekday) = self.local(at);
            let day_start = c - (c + self.offset_us).rem_euclid(US_PER_DAY);
            let in_hours = self.in_hours(at, lane_hours);
            if !in_hours {
                if self.holidays.binary_search(&day).is_ok() {
                    c = day_start + US_PER_DAY;
                    continue;
                }
                let h = hours.expect("unknown hours are always in hours");
                let next = h.next_open(weekday, minute)?;
                c = (day_start + next * US_PER_MIN).max(c + 1);
                continue;
            }
            // In hours but suspended: jump to the end of the suspension in force that lets this
            // truck through latest... the earliest end among those that stop it.
            let stop = self
                .suspensions
                .iter()
                .filter(|s| s.from <= at && at < s.until && !(s.preregistered_only && booked))
                .map(|s| s.until.as_micros())
                .min()
                .expect("suspended");
            c = stop;
        }
        None
    }
}

/// Capacity of `pair` in `direction` for the hour at `hour_start`.
///
/// Per class, each side's capacity is the sum of its active lanes of that class for the
/// direction; the pair's is the smaller of the two sides (a truck needs both), counting only
/// sides that have lanes recorded for the direction. It is scaled by the shared open minutes.
pub fn hour_capacity(
    pair: &GatePair,
    lanes: &[Lane],
    direction: Direction,
    hour_start: Timestamp,
    suspensions: &[Suspension],
    policy: &SlotPolicy,
) -> HourCapacity {
    hour_capacity_for(pair, lanes, direction, shared_open_minutes(pair, hour_start, suspensions), policy)
}

/// Capacity of `pair` in `direction` for an hour in which both sides are open `minutes` minutes
/// (see [`hour_capacity`]).
pub fn hour_capacity_for(pair: &GatePair, lanes: &[Lane], direction: Direction, minutes: u32, policy: &SlotPolicy) -> HourCapacity {
    let minutes = minutes.min(60);
    if minutes == 0 {
        return HourCapacity::default();
    }
    let class_cap = |class: LaneClass| -> u32 {
        let mut caps = Vec::new();
        for side in [Side::Vn, Side::Cn] {
            let on_side: Vec<&Lane> =
                lanes.iter().filter(|l| l.gate_pair == pair.id && l.side == side && l.direction == direction).collect();
            if on_side.is_empty() {
                continue;
            }
            caps.push(on_side.iter().filter(|l| l.active && l.class == class).map(|l| l.capacity_per_hour).sum::<u32>());
        }
        caps.into_iter().min().unwrap_or(0) * minutes / 60
    };
    let general_all = class_cap(LaneClass::General);
    let reserved = ((general_all as f64) * policy.perishable_share.clamp(0.0, 1.0)).ceil() as u32;
    HourCapacity {
        general: general_all - reserved.min(general_all),
        reserved: reserved.min(general_all),
        perishable: class_cap(LaneClass::Perishable),
        agv: class_cap(LaneClass::Agv),
    }
}

/// The start of the hour containing `t` (UTC hours; both border zones are whole hours from UTC).
pub fn hour_of(t: Timestamp) -> Timestamp {
    Timestamp(t.as_micros().div_euclid(3_600_000_000) * 3_600_000_000)
}

/// The first bucket with room, given how many are booked in each.
pub fn pick_bucket(cap: &HourCapacity, booked: impl Fn(Bucket) -> u32, perishable: bool, agv: bool) -> Option<Bucket> {
    Bucket::candidates(perishable, agv).iter().copied().find(|b| booked(*b) < cap.of(*b))
}

/// Did a booked truck miss its slot? True once `now` is past slot start + grace without check-in.
pub fn is_no_show(slot_start: Timestamp, checked_in: bool, now: Timestamp, policy: &SlotPolicy) -> bool {
    !checked_in && now >= slot_start.plus_seconds(policy.no_show_grace_s)
}

/// The Vietnam National Single Window's congestion signal for a gate (from 27/1/2022).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CongestionLevel {
    Green,
    Yellow,
    Orange,
    Red,
}

impl CongestionLevel {
    /// Green under 500 waiting vehicles, yellow 500–1,000, orange 1,000–5,000, red above 5,000.
    pub fn of(waiting: u64) -> Self {
        match waiting {
            0..500 => CongestionLevel::Green,
            500..=1000 => CongestionLevel::Yellow,
            1001..=5000 => CongestionLevel::Orange,
            _ => CongestionLevel::Red,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            CongestionLevel::Green => "green",
            CongestionLevel::Yellow => "yellow",
            CongestionLevel::Orange => "orange",
            CongestionLevel::Red => "red",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::refdata::{Gate, GateFields, GateKind, GatePairId, Mode};
    use crate::time::parse_rfc3339;

    fn pair(vn: (&str, &str), cn: (&str, &str)) -> GatePair {
        let gate = |side: Side, (o, c): (&str, &str)| {
            Gate::parse(
                side,
                &GateFields {
                    name_vi: "X",
                    name_en: "X",
                    province: "p",
                    zone: side.zone(),
                    opens: o,
                    closes: c,
                    hours_source: "t",
                    ..Default::default()
                },
            )
            .unwrap()
        };
        GatePair {
            id: GatePairId::parse("mong-cai").unwrap(),
            kind: GateKind::International,
            mode: Mode::Road,
            designation: "x".into(),
            vn: gate(Side::Vn, vn),
            cn: gate(Side::Cn, cn),
            order: 1,
            sources: vec![],
        }
    }

    fn lane(id: &str, side: &str, class: &str, cap: u32) -> Lane {
        Lane::parse(id, "mong-cai", side, "export", class, "l", &cap.to_string(), "true", "t").unwrap()
    }

    #[test]
    fn a_side_works_in_its_hours_unless_suspended_and_booked_trucks_pass_preregistered_windows() {
        let p = pair(("07:00", "19:00"), ("08:00", "20:00"));
        let t = parse_rfc3339("2026-11-23T10:00:00+07:00").unwrap();
        assert!(side_works_at(&p, &[], Side::Vn, t, false));
        assert!(!side_works_at(&p, &[], Side::Vn, parse_rfc3339("2026-11-23T19:30:00+07:00").unwrap(), false));
        let tet =
            |pre| Suspension { side: Side::Vn, from: t, until: t.plus_seconds(3600), preregistered_only: pre, reason: "Tết".into() };
        assert!(!side_works_at(&p, &[tet(false)], Side::Vn, t, true), "a full suspension stops everyone");
        assert!(side_works_at(&p, &[tet(true)], Side::Vn, t, true) && !side_works_at(&p, &[tet(true)], Side::Vn, t, false));
        assert!(side_works_at(&p, &[tet(false)], Side::Cn, t, false), "the other side is not suspended");
    }

    #[test]
    fn both_sides_must_be_open_each_in_its_own_zone() {
        // 07:00–19:00 on both sides' clocks: 07:00 in Móng Cái is 08:00 in Đông Hưng, so the
        // shared window is 07:00–18:00 Hà Nội time (00:00–11:00 UTC).
        let p = pair(("07:00", "19:00"), ("07:00", "19:00"));
        let at = |s: &str| parse_rfc3339(s).unwrap();
        assert_eq!(shared_open_minutes(&p, at("2026-11-23T23:00:00Z"), &[]), 0, "06:00 Hà Nội: VN closed");
        assert_eq!(shared_open_minutes(&p, at("2026-11-24T00:00:00Z"), &[]), 60, "07:00 Hà Nội / 08:00 Beijing");
        assert_eq!(shared_open_minutes(&p, at("2026-11-24T10:00:00Z"), &[]), 60);
        assert_eq!(shared_open_minutes(&p, at("2026-11-24T11:00:00Z"), &[]), 0, "18:00 Hà Nội is 19:00 Beijing: CN closed");
        let half = pair(("07:30", "19:00"), ("00:00", "24:00"));
        assert_eq!(shared_open_minutes(&half, at("2026-11-24T00:00:00Z"), &[]), 30);
    }

    #[test]
    fn suspensions_close_the_gate_unless_preregistered_only() {
        let p = pair(("00:00", "24:00"), ("00:00", "24:00"));
        let h = parse_rfc3339("2026-02-10T03:00:00Z").unwrap();
        let tet = Suspension {
            side: Side::Cn,
            from: h.plus_seconds(900),
            until: h.plus_seconds(10 * 86400),
            preregistered_only: false,
            reason: "Tết".into(),
        };
        assert_eq!(shared_open_minutes(&p, h, std::slice::from_ref(&tet)), 15);
        let prereg = Suspension { preregistered_only: true, ..tet };
        assert_eq!(shared_open_minutes(&p, h, &[prereg]), 60);
    }

    #[test]
    fn capacity_is_the_narrower_side_with_a_share_for_perishables() {
        let p = pair(("00:00", "24:00"), ("00:00", "24:00"));
        let lanes = vec![
            lane("v1", "VN", "general", 20),
            lane("v2", "VN", "general", 20),
            lane("v3", "VN", "perishable", 15),
            lane("c1", "CN", "general", 30),
            lane("c2", "CN", "perishable", 10),
            lane("c3", "CN", "agv", 6),
        ];
        let h = parse_rfc3339("2026-11-24T03:00:00Z").unwrap();
        let cap = hour_capacity(&p, &lanes, Direction::Export, h, &[], &SlotPolicy::default());
        // General: min(40, 30) = 30, of which 30 % (9) is held for perishables.
        assert_eq!(cap, HourCapacity { general: 21, reserved: 9, perishable: 10, agv: 0 });
        assert_eq!(hour_capacity(&p, &lanes, Direction::Import, h, &[], &SlotPolicy::default()), HourCapacity::default());
    }

    #[test]
    fn trucks_book_the_buckets_they_may() {
        let cap = HourCapacity { general: 2, reserved: 1, perishable: 1, agv: 1 };
        let none = |_| 0;
        assert_eq!(pick_bucket(&cap, none, false, false), Some(Bucket::General));
        assert_eq!(pick_bucket(&cap, none, true, false), Some(Bucket::Perishable));
        assert_eq!(pick_bucket(&cap, none, true, true), Some(Bucket::Agv));
        let full_general = |b| if b == Bucket::General { 2 } else { 0 };
        assert_eq!(pick_bucket(&cap, full_general, false, false), None, "general cargo may not take the perishables' share");
        let full_but_reserved = |b| if b == Bucket::Reserved { 0 } else { cap.of(b) };
        assert_eq!(pick_bucket(&cap, full_but_reserved, true, false), Some(Bucket::Reserved));
    }

    #[test]
    fn no_shows_and_congestion() {
        let p = SlotPolicy::default();
        let s = Timestamp(0);
        assert!(!is_no_show(s, false, s.plus_seconds(7199), &p));
        assert!(is_no_show(s, false, s.plus_seconds(7200), &p));
        assert!(!is_no_show(s, true, s.plus_seconds(99999), &p));
        let levels: Vec<_> = [0, 499, 500, 1000, 1001, 5000, 5001].iter().map(|n| CongestionLevel::of(*n).code()).collect();
        assert_eq!(levels, ["green", "green", "yellow", "yellow", "orange", "orange", "red"]);
        assert_eq!(hour_of(Timestamp(3_600_000_000 * 5 + 17)), Timestamp(3_600_000_000 * 5));
    }

    /// Hoành Mô–Đồng Trung: 08:00–09:00 and 15:00–16:00, Monday to Friday, in Vietnam's zone.
    fn hoanh_mo() -> SideCalendar {
        let mut h = WeeklyHours::CLOSED;
        for d in 0..5 {
            h.add(d, 8 * 60, 9 * 60).unwrap();
            h.add(d, 15 * 60, 16 * 60).unwrap();
        }
        SideCalendar::new(Side::Vn, 7 * 3600 * 1_000_000, Some(h))
    }

    #[test]
    fn split_windows_weekdays_holidays_and_lane_hours() {
        let at = |s: &str| parse_rfc3339(s).unwrap();
        let c = hoanh_mo();
        // 2026-11-23 is a Monday.
        assert!(c.works_at(at("2026-11-23T08:30:00+07:00"), None, false));
        assert!(!c.works_at(at("2026-11-23T09:00:00+07:00"), None, false), "closes at 09:00");
        assert!(!c.works_at(at("2026-11-23T12:00:00+07:00"), None, false), "between the windows");
        assert!(c.works_at(at("2026-11-23T15:59:00+07:00"), None, false));
        assert!(!c.works_at(at("2026-11-28T08:30:00+07:00"), None, false), "Saturday");
        assert_eq!(c.next_works(at("2026-11-23T09:00:00+07:00"), None, false), Some(at("2026-11-23T15:00:00+07:00")));
        assert_eq!(c.next_works(at("2026-11-27T16:00:00+07:00"), None, false), Some(at("2026-11-30T08:00:00+07:00")), "Friday to Monday");
        // The same instant is 09:30 in Beijing, but the calendar reads its own zone.
        assert!(c.works_at(at("2026-11-23T01:30:00Z"), None, false));
        // A holiday (Monday 30 November) closes the whole local day.
        let monday = (at("2026-11-30T12:00:00+07:00").as_micros() + 7 * 3_600_000_000).div_euclid(US_PER_DAY);
        let hol = hoanh_mo().with_holidays([monday]);
        assert!(!hol.works_at(at("2026-11-30T08:30:00+07:00"), None, false));
        assert_eq!(hol.next_works(at("2026-11-27T16:00:00+07:00"), None, false), Some(at("2026-12-01T08:00:00+07:00")));
        // A lane of its own hours, past midnight, still keeps the side's holidays.
        let night = WeeklyHours::daily(19 * 60, 7 * 60).unwrap();
        assert!(hol.works_at(at("2026-11-23T23:00:00+07:00"), Some(&night), false));
        assert!(hol.works_at(at("2026-11-24T06:59:00+07:00"), Some(&night), false));
        assert!(!hol.works_at(at("2026-11-30T02:00:00+07:00"), Some(&night), false), "holiday");
        assert_eq!(hol.next_works(at("2026-11-24T07:00:00+07:00"), Some(&night), false), Some(at("2026-11-24T19:00:00+07:00")));
        assert!(WeeklyHours::daily(60, 60).is_err());
        let mut h = WeeklyHours::CLOSED;
        h.add(0, 60, 120).unwrap();
        assert!(h.add(0, 90, 150).is_err(), "overlap");
    }

    #[test]
    fn an_answer_holds_until_the_instant_it_says() {
        let at = |s: &str| parse_rfc3339(s).unwrap();
        let t0 = at("2026-11-23T10:00:00+07:00");
        let sus = [Suspension { side: Side::Vn, from: t0, until: t0.plus_seconds(5000), preregistered_only: true, reason: "x".into() }];
        let night = WeeklyHours::daily(19 * 60, 7 * 60).unwrap();
        for cal in [hoanh_mo(), hoanh_mo().with_suspensions(&sus)] {
            for lane in [None, Some(&night)] {
                let mut t = t0.plus_seconds(-86_400);
                while t < t0.plus_seconds(8 * 86_400) {
                    let (a, until) = cal.admits_until(t, lane);
                    assert!(until > t);
                    // Every minute up to `until` answers the same.
                    let mut x = t;
                    while x < until {
                        assert_eq!(cal.admits(x, lane), a, "{x:?} before {until:?}");
                        x = x.plus_seconds(60 - x.as_micros().rem_euclid(60_000_000) / 1_000_000);
                    }
                    t = until;
                }
            }
        }
    }

    #[test]
    fn suspensions_in_the_calendar_and_the_live_gate_agree() {
        let at = |s: &str| parse_rfc3339(s).unwrap();
        let p = pair(("07:00", "19:00"), ("08:00", "20:00"));
        let t0 = at("2026-02-16T10:00:00+07:00");
        let sus = [
            Suspension { side: Side::Vn, from: t0, until: t0.plus_seconds(7200), preregistered_only: true, reason: "Tết".into() },
            Suspension {
                side: Side::Vn,
                from: t0.plus_seconds(3600),
                until: t0.plus_seconds(5400),
                preregistered_only: false,
                reason: "x".into(),
            },
            Suspension { side: Side::Cn, from: t0, until: t0.plus_seconds(86400), preregistered_only: false, reason: "y".into() },
        ];
        for side in [Side::Vn, Side::Cn] {
            let cal = SideCalendar::of_gate(p.gate(side), &sus, t0).unwrap();
            for m in (-600..1800).step_by(7) {
                let t = t0.plus_seconds(m * 60);
                for booked in [false, true] {
                    assert_eq!(cal.works_at(t, None, booked), side_works_at(&p, &sus, side, t, booked), "{side:?} {m} {booked}");
                }
            }
        }
        let vn = SideCalendar::of_gate(&p.vn, &sus, t0).unwrap();
        assert_eq!(vn.admits(t0, None), Admits::BookedOnly);
        assert_eq!(vn.admits(t0.plus_seconds(3600), None), Admits::Nobody);
        assert_eq!(vn.next_works(t0, None, false), Some(t0.plus_seconds(7200)));
        assert_eq!(vn.next_works(t0.plus_seconds(3600), None, true), Some(t0.plus_seconds(5400)));
        let cn = SideCalendar::of_gate(&p.cn, &sus, t0).unwrap();
        assert_eq!(shared_open_minutes_of(&vn, &cn, t0), 0);
        assert_eq!(shared_open_minutes_of(&vn, &SideCalendar::of_gate(&p.cn, &[], t0).unwrap(), t0), 60, "booked trucks cross in Tết");
        assert_eq!(shared_open_minutes_of(&vn, &SideCalendar::of_gate(&p.cn, &[], t0).unwrap(), t0.plus_seconds(3600)), 30);
    }
}
