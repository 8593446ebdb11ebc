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
pub fn side_works_at(pair: &GatePair, suspensions: &[Suspension], side: Side, t: Timestamp, booked: bool) -> bool {
    let hours = pair.gate(side).is_open_at(t).unwrap_or(true);
    let suspended = suspensions.iter().any(|s| s.side == side && s.from <= t && t < s.until && !(s.preregistered_only && booked));
    hours && !suspended
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
    let minutes = shared_open_minutes(pair, hour_start, suspensions);
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
}
