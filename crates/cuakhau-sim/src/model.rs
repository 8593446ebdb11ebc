//! A scenario compiled for running: validated, with times in microseconds, zones reduced to
//! their fixed offsets, and the core's gate pair, lanes and slot policy built for booking.

use crate::SimError;
use crate::scenario::{Dist, Scenario, SideSpec};
use cuakhau_core::Timestamp;
use cuakhau_core::auth::Agency;
use cuakhau_core::goods::callforward::Policy;
use cuakhau_core::goods::clearance::Channel;
use cuakhau_core::goods::slots::{Admits, SideCalendar, SlotPolicy, Suspension, WeeklyHours};
use cuakhau_core::refdata::{Direction, Gate, GateFields, GateKind, GatePair, GatePairId, Lane, LaneClass, Mode, Side, parse_hhmm};
use std::path::Path;

pub const US_PER_MIN: i64 = 60_000_000;
pub const US_PER_H: i64 = 3_600_000_000;
pub const US_PER_DAY: i64 = 86_400_000_000;

/// One side of one gate pair.
#[derive(Debug, Clone)]
pub struct SideModel {
    pub offset_us: i64,
    /// The core's opening-hours model of the side: its hours (weekdays, split windows) in its
    /// own zone, holidays and closures (suspensions).
    pub cal: SideCalendar,
    /// Lanes per direction (index: 0 export, 1 import), by class.
    pub lanes: [Vec<LaneClass>; 2],
    /// Each lane's own hours (in place of the side's), if it has them.
    pub lane_hours: [Vec<Option<WeeklyHours>>; 2],
}

impl SideModel {
    /// Is this side open to every truck at `t`? (Hours in its own zone, closures, holidays.)
    pub fn is_open(&self, t: i64) -> bool {
        self.cal.admits(Timestamp(t), None) == Admits::Everyone
    }

    /// The first instant at or after `t` when the side lets any truck through (`None` if never
    /// within 800 days).
    pub fn next_open(&self, t: i64) -> Option<i64> {
        self.cal.next_works(Timestamp(t), None, true).map(|t| t.as_micros())
    }
}

#[derive(Debug, Clone)]
pub struct PairModel {
    pub id: String,
    pub travel_us: i64,
    pub far_side_limit: Option<u32>,
    /// Index 0: VN, 1: CN.
    pub sides: [SideModel; 2],
    /// The core's view of the pair and its lanes, for slot capacity.
    pub core_pair: GatePair,
    pub core_lanes: Vec<Lane>,
}

/// A distribution ready to draw from: parameters pre-computed, values in microseconds.
#[derive(Debug, Clone, PartialEq)]
pub enum Sampler {
    Exponential {
        mean_us: f64,
    },
    Deterministic {
        us: i64,
    },
    /// exp(mu + sigma·Z), already scaled to microseconds through `mu`.
    Lognormal {
        mu: f64,
        sigma: f64,
    },
    Uniform {
        min_us: f64,
        span_us: f64,
    },
    Triangular {
        min_us: f64,
        mode_us: f64,
        max_us: f64,
    },
    /// Equally likely values.
    Empirical {
        values_us: Vec<i64>,
    },
    /// Values with cumulative weights (normalised, the last is 1).
    Weighted {
        values_us: Vec<i64>,
        cum: Vec<f64>,
    },
}

impl Sampler {
    /// `unit_us`: microseconds per unit of the scenario's figures (a minute, an hour).
    pub fn new(d: &Dist, unit_us: f64) -> Sampler {
        let us = |v: f64| (v * unit_us) as i64;
        match d {
            Dist::Exponential { mean } => Sampler::Exponential { mean_us: mean * unit_us },
            Dist::Deterministic { value } => Sampler::Deterministic { us: us(*value) },
            Dist::Lognormal { mean, sigma } => Sampler::Lognormal { mu: (mean * unit_us).ln() - sigma * sigma / 2.0, sigma: *sigma },
            Dist::Uniform { min, max } => Sampler::Uniform { min_us: min * unit_us, span_us: (max - min) * unit_us },
            Dist::Triangular { min, mode, max } => {
                Sampler::Triangular { min_us: min * unit_us, mode_us: mode * unit_us, max_us: max * unit_us }
            }
            Dist::Empirical { values, weights: None } => Sampler::Empirical { values_us: values.iter().map(|v| us(*v)).collect() },
            Dist::Empirical { values, weights: Some(w) } => {
                let total: f64 = w.iter().sum();
                let mut acc = 0.0;
                let mut cum: Vec<f64> = w
                    .iter()
                    .map(|x| {
                        acc += x / total;
                        acc
                    })
                    .collect();
                if let Some(last) = cum.last_mut() {
                    *last = 1.0;
                }
                Sampler::Weighted { values_us: values.iter().map(|v| us(*v)).collect(), cum }
            }
        }
    }

    /// The mean in microseconds (for the bare-loop comparisons and reports).
    pub fn mean_us(&self) -> f64 {
        match self {
            Sampler::Exponential { mean_us } => *mean_us,
            Sampler::Deterministic { us } => *us as f64,
            Sampler::Lognormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            Sampler::Uniform { min_us, span_us } => min_us + span_us / 2.0,
            Sampler::Triangular { min_us, mode_us, max_us } => (min_us + mode_us + max_us) / 3.0,
            Sampler::Empirical { values_us } => values_us.iter().map(|v| *v as f64).sum::<f64>() / values_us.len() as f64,
            Sampler::Weighted { values_us, cum } => {
                let mut prev = 0.0;
                values_us
                    .iter()
                    .zip(cum)
                    .map(|(v, c)| {
                        let p = c - prev;
                        prev = *c;
                        *v as f64 * p
                    })
                    .sum()
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct Commodity {
    pub name: String,
    pub share: f64,
    pub perishable: bool,
    pub shelf_us: Option<i64>,
    pub age: Option<Sampler>,
    pub value: f64,
    pub quarantine: bool,
    pub agv: bool,
}

/// A replayed arrival.
#[derive(Debug, Clone)]
pub struct Replayed {
    pub t: i64,
    pub pair: Option<usize>,
    pub commodity: Option<usize>,
    pub booked: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct FlowModel {
    pub direction: Direction,
    pub trucks_per_day: f64,
    /// (pair index, cumulative share).
    pub split: Vec<(usize, f64)>,
    pub hourly: [f64; 24],
    pub weekday: [f64; 7],
    /// (from day-of-year, to day-of-year, multiplier), day-of-year 1–366 in the exit side's zone.
    pub seasons: Vec<(i16, i16, f64)>,
    pub booked_share: f64,
    pub no_show_rate: f64,
    pub replay: Option<Vec<Replayed>>,
}

/// Everything a run needs.
#[derive(Debug, Clone)]
pub struct Model {
    pub name: String,
    pub start_us: i64,
    pub horizon_us: i64,
    /// Statistics count from `start_us + warmup_us`.
    pub warmup_us: i64,
    /// P(total wait > t) is counted for each t, in seconds.
    pub wait_thresholds_s: Vec<f64>,
    /// The exit yards' default policy (`policy`).
    pub policy: Policy,
    /// Policy of the exit yards on each side (index: VN, CN).
    pub exit_policy: [Policy; 2],
    /// Policy of the queue before the entry lanes on each side.
    pub entry_policy: [Policy; 2],
    pub max_events: u64,
    pub max_queue: usize,
    pub pairs: Vec<PairModel>,
    pub flows: Vec<FlowModel>,
    pub commodities: Vec<Commodity>,
    /// Each side's risk selection (index: VN, CN).
    pub channels: [ChannelSet; 2],
    /// One draw decides both sides' channels (`channels.shared`).
    pub shared_channel_draw: bool,
    /// Service time per [side][agency: customs, border-guard, quarantine][that side's channel].
    pub service: [[[Option<Sampler>; MAX_CHANNELS]; 3]; 2],
    pub handover: Option<Sampler>,
    pub slot_policy: SlotPolicy,
}

/// The most channels one side's selection may have.
pub const MAX_CHANNELS: usize = 8;

/// One side's risk channels: names, cumulative shares (the last is 1) and the core's colour for
/// each (for the trip's label; names other than green, yellow and red are labelled green).
#[derive(Debug, Clone)]
pub struct ChannelSet {
    pub names: Vec<String>,
    pub cum: Vec<f64>,
    pub colour: Vec<Channel>,
}

impl ChannelSet {
    fn new(what: &str, shares: &[(String, f64)]) -> Result<ChannelSet, SimError> {
        if shares.is_empty() || shares.len() > MAX_CHANNELS {
            return Err(err(format!("{what}: 1 to {MAX_CHANNELS} channels")));
        }
        for (name, v) in shares {
            check_share(&format!("{what}.{name}"), *v)?;
        }
        let total: f64 = shares.iter().map(|(_, v)| v).sum();
        if !(total > 0.0 && total.is_finite()) {
            return Err(err(format!("{what}: shares must add up to more than 0")));
        }
        let mut acc = 0.0;
        let mut cum: Vec<f64> = shares
            .iter()
            .map(|(_, v)| {
                acc += v / total;
                acc
            })
            .collect();
        *cum.last_mut().expect("not empty") = 1.0;
        Ok(ChannelSet {
            names: shares.iter().map(|(n, _)| n.clone()).collect(),
            cum,
            colour: shares.iter().map(|(n, _)| Channel::parse(n).unwrap_or(Channel::Green)).collect(),
        })
    }

    /// The channel a uniform draw in (0, 1] selects.
    pub fn pick(&self, u: f64) -> usize {
        pick_cumulative(self.cum.iter().copied(), u, self.cum.len())
    }

    pub fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }
}

/// The first index whose cumulative share is at least `u`, or the last (`len - 1`) where none
/// is: `position(|c| u <= c)` for shares that never decrease (as every cumulative share here is
/// built), counted over all of them so that the draw costs no mispredicted branch.
#[inline]
pub(crate) fn pick_cumulative(cum: impl Iterator<Item = f64>, u: f64, len: usize) -> usize {
    cum.map(|c| (c < u) as usize).sum::<usize>().min(len - 1)
}

fn err(what: impl Into<String>) -> SimError {
    SimError::Scenario(what.into())
}

/// The longest duration a distribution may describe, and the cap on any single draw: 366 days.
pub const MAX_DRAW_US: i64 = 366 * US_PER_DAY;
/// The longest horizon any scenario may ask for, whatever its limits say (about 2,700 years).
pub const MAX_HORIZON_DAYS: f64 = 1_000_000.0;
/// The highest demand any flow may reach in any hour, in trucks a day.
pub const MAX_TRUCKS_PER_DAY: f64 = 1e7;
/// The largest seasonal multiplier.
pub const MAX_SEASON_MULTIPLIER: f64 = 1000.0;

/// `what` names the field; `unit` is "minutes" or "hours"; `unit_us` microseconds per unit.
fn check_dist(what: &str, d: &Dist, unit: &str, unit_us: f64) -> Result<(), SimError> {
    let max = MAX_DRAW_US as f64 / unit_us;
    let fin = |name: &str, v: f64| -> Result<(), SimError> {
        if v.is_finite() && v >= 0.0 && v <= max {
            Ok(())
        } else {
            Err(err(format!("{what}: {name} = {v} must be a number of {unit} between 0 and {max} (366 days)")))
        }
    };
    match d {
        Dist::Exponential { mean } => fin("mean", *mean),
        Dist::Deterministic { value } => fin("value", *value),
        Dist::Lognormal { mean, sigma } => {
            fin("mean", *mean)?;
            if *mean <= 0.0 {
                return Err(err(format!("{what}: a lognormal's mean must be above 0")));
            }
            if !(sigma.is_finite() && (0.0..=4.0).contains(sigma)) {
                return Err(err(format!("{what}: sigma = {sigma} must be between 0 and 4")));
            }
            Ok(())
        }
        Dist::Uniform { min, max: hi } => {
            fin("min", *min)?;
            fin("max", *hi)?;
            if min > hi {
                return Err(err(format!("{what}: a uniform's min must not be above its max")));
            }
            Ok(())
        }
        Dist::Triangular { min, mode, max: hi } => {
            fin("min", *min)?;
            fin("mode", *mode)?;
            fin("max", *hi)?;
            if !(min <= mode && mode <= hi) {
                return Err(err(format!("{what}: a triangular needs min ≤ mode ≤ max")));
            }
            Ok(())
        }
        Dist::Empirical { values, weights } => {
            if values.is_empty() || values.len() > 100_000 {
                return Err(err(format!("{what}: an empirical distribution needs 1 to 100000 values")));
            }
            for v in values {
                fin("values", *v)?;
            }
            if let Some(w) = weights {
                if w.len() != values.len() {
                    return Err(err(format!("{what}: weights needs one weight per value ({} values, {} weights)", values.len(), w.len())));
                }
                let total: f64 = w.iter().sum();
                if w.iter().any(|x| !(x.is_finite() && *x >= 0.0)) || total <= 0.0 || total.is_infinite() {
                    return Err(err(format!("{what}: weights must be finite, ≥ 0 and add up to more than 0")));
                }
            }
            Ok(())
        }
    }
}

/// A share or weight: finite and not negative.
fn check_share(what: &str, v: f64) -> Result<(), SimError> {
    if v.is_finite() && v >= 0.0 { Ok(()) } else { Err(err(format!("{what} = {v} must be a finite number ≥ 0"))) }
}

pub fn side_index(s: Side) -> usize {
    match s {
        Side::Vn => 0,
        Side::Cn => 1,
    }
}

pub fn dir_index(d: Direction) -> usize {
    match d {
        Direction::Export => 0,
        Direction::Import => 1,
    }
}

pub fn agency_index(a: Agency) -> Option<usize> {
    match a {
        Agency::Customs => Some(0),
        Agency::BorderGuard => Some(1),
        Agency::Quarantine => Some(2),
        _ => None,
    }
}

pub fn channel_index(c: Channel) -> usize {
    match c {
        Channel::Green => 0,
        Channel::Yellow => 1,
        Channel::Red => 2,
    }
}

fn parse_instant(what: &str, s: &str) -> Result<i64, SimError> {
    let t: jiff::Timestamp = s.parse().map_err(|e| err(format!("{what}: '{s}' is not an RFC 3339 instant with offset ({e})")))?;
    Ok(t.as_microsecond())
}

fn weekdays(what: &str, days: &str) -> Result<Vec<usize>, SimError> {
    const NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let day = |d: &str| {
        NAMES
            .iter()
            .position(|n| *n == d.trim())
            .ok_or_else(|| err(format!("{what}: windows: days '{days}': use mon…sun, a range such as mon-fri, or daily")))
    };
    if days.trim() == "daily" {
        return Ok((0..7).collect());
    }
    let mut out = Vec::new();
    for part in days.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (day(a)?, day(b)?);
                let mut d = a;
                loop {
                    out.push(d);
                    if d == b {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
            None => out.push(day(part)?),
        }
    }
    Ok(out)
}

/// A window's minutes: opening at 24:00 is midnight; closing at 24:00 stays the day's end.
fn window(opens: u16, closes: u16) -> (u16, u16) {
    (opens % 1440, closes)
}

fn side_model(pair: &str, side: Side, s: &SideSpec, start: i64) -> Result<SideModel, SimError> {
    let what = format!("gate pair {pair}, {} side", side.code());
    let tz = jiff::tz::TimeZone::get(side.zone()).map_err(|e| err(e.to_string()))?;
    let offset_us = tz.to_offset(jiff::Timestamp::from_microsecond(start).map_err(|e| err(e.to_string()))?).seconds() as i64 * 1_000_000;
    let hours_err = |e: cuakhau_core::goods::slots::HoursError| err(format!("{what}: windows: {e}"));
    let hours = if s.windows.is_empty() {
        let opens = parse_hhmm("opens", &s.opens).map_err(|e| err(format!("{what}: {e}")))?;
        let closes = parse_hhmm("closes", &s.closes).map_err(|e| err(format!("{what}: {e}")))?;
        if closes <= opens {
            return Err(err(format!("{what}: closes must be after opens")));
        }
        WeeklyHours::daily(opens, closes).map_err(hours_err)?
    } else {
        if !(s.opens.is_empty() && s.closes.is_empty()) {
            return Err(err(format!("{what}: give the hours either as opens/closes or as windows, not both")));
        }
        let mut h = WeeklyHours::CLOSED;
        for w in &s.windows {
            let o = parse_hhmm("opens", &w.opens).map_err(|e| err(format!("{what}: windows: {e}")))?;
            let c = parse_hhmm("closes", &w.closes).map_err(|e| err(format!("{what}: windows: {e}")))?;
            let (o, c) = window(o, c);
            for d in weekdays(&what, &w.days)? {
                h.add(d, o, c).map_err(hours_err)?;
            }
        }
        h
    };
    let closures = s
        .closures
        .iter()
        .map(|c| {
            let (from, until) = (parse_instant(&what, &c.from)?, parse_instant(&what, &c.until)?);
            if until <= from {
                return Err(err(format!("{what}: closures: a closure's until ({}) must be after its from ({})", c.until, c.from)));
            }
            Ok(Suspension {
                side,
                from: Timestamp(from),
                until: Timestamp(until),
                preregistered_only: c.preregistered_only,
                reason: "scenario".into(),
            })
        })
        .collect::<Result<Vec<_>, SimError>>()?;
    let holidays = s
        .holidays
        .iter()
        .map(|d| {
            let date: jiff::civil::Date = d.parse().map_err(|e| err(format!("{what}: holiday '{d}' is not YYYY-MM-DD ({e})")))?;
            let days = date.since(jiff::civil::date(1970, 1, 1)).map_err(|e| err(e.to_string()))?.get_days() as i64;
            Ok(days)
        })
        .collect::<Result<Vec<_>, SimError>>()?;
    let cal = SideCalendar::new(side, offset_us, Some(hours)).with_holidays(holidays).with_suspensions(&closures);
    let mut lanes: [Vec<LaneClass>; 2] = [vec![], vec![]];
    let mut lane_hours: [Vec<Option<WeeklyHours>>; 2] = [vec![], vec![]];
    for l in &s.lanes {
        let d = Direction::parse("direction", &l.direction).map_err(|e| err(format!("{what}: {e}")))?;
        let c = LaneClass::parse("class", &l.class).map_err(|e| err(format!("{what}: {e}")))?;
        if l.count == 0 || l.count > 1000 {
            return Err(err(format!(
                "{what}: lanes ({} {}) count = {} must be 1 to 1000 (list no lanes for a side that is not a bottleneck)",
                l.direction, l.class, l.count
            )));
        }
        let hours = match (&l.opens, &l.closes) {
            (None, None) => None,
            (Some(o), Some(c)) => {
                let o = parse_hhmm("opens", o).map_err(|e| err(format!("{what}: lane {e}")))?;
                let c = parse_hhmm("closes", c).map_err(|e| err(format!("{what}: lane {e}")))?;
                let (o, c) = window(o, c);
                if o == c {
                    return Err(err(format!("{what}: a lane's opens and closes must differ")));
                }
                Some(WeeklyHours::daily(o, c).map_err(hours_err)?)
            }
            _ => return Err(err(format!("{what}: a lane with its own hours needs both opens and closes"))),
        };
        lanes[dir_index(d)].extend(std::iter::repeat_n(c, l.count as usize));
        lane_hours[dir_index(d)].extend(std::iter::repeat_n(hours, l.count as usize));
    }
    Ok(SideModel { offset_us, cal, lanes, lane_hours })
}

fn day_of_year(mmdd: &str) -> Result<i16, SimError> {
    let d: jiff::civil::Date = format!("2024-{mmdd}").parse().map_err(|_| err(format!("season date '{mmdd}' is not MM-DD")))?;
    Ok(d.day_of_year())
}

impl Model {
    /// Compiles and validates a scenario; `base_dir` resolves replayed-arrival files.
    pub fn compile(s: &Scenario, base_dir: &Path) -> Result<Model, SimError> {
        let start_us = parse_instant("start", &s.start)?;
        let max_h = s.limits.max_horizon_days.min(MAX_HORIZON_DAYS);
        if !(s.limits.max_horizon_days > 0.0 && s.limits.max_horizon_days <= MAX_HORIZON_DAYS) {
            return Err(err(format!(
                "limits.max_horizon_days = {} must be above 0 and at most {MAX_HORIZON_DAYS}",
                s.limits.max_horizon_days
            )));
        }
        if !(s.horizon_days * 1440.0 >= 1.0 && s.horizon_days <= max_h) {
            return Err(err(format!("horizon_days = {} must be between one minute (1/1440) and {max_h} days", s.horizon_days)));
        }
        let horizon_us = (s.horizon_days * US_PER_DAY as f64) as i64;
        if jiff::Timestamp::from_microsecond(start_us.saturating_add(horizon_us)).is_err() {
            return Err(err(format!("horizon_days = {}: the run would end after the year 9999", s.horizon_days)));
        }
        if !(s.warmup_days >= 0.0 && s.warmup_days < s.horizon_days) {
            return Err(err(format!("warmup_days = {} must be ≥ 0 and shorter than horizon_days ({})", s.warmup_days, s.horizon_days)));
        }
        let warmup_us = (s.warmup_days * US_PER_DAY as f64) as i64;
        if s.wait_thresholds_h.len() > 20 {
            return Err(err("wait_thresholds_h: at most 20 thresholds"));
        }
        for t in &s.wait_thresholds_h {
            if !(t.is_finite() && *t >= 0.0) {
                return Err(err(format!("wait_thresholds_h: {t} must be a finite number of hours ≥ 0")));
            }
        }
        if s.replications == 0 || s.replications > s.limits.max_replications {
            return Err(err(format!("replications must be 1–{}", s.limits.max_replications)));
        }
        let parse_policy =
            |field: &str, p: &str| Policy::parse(p).ok_or_else(|| err(format!("{field} '{p}': use one of {}", Policy::CODES.join(", "))));
        let policy = parse_policy("policy", &s.policy)?;
        let mut exit_policy = [policy; 2];
        let mut entry_policy = [Policy::Fifo; 2];
        for (i, (code, p)) in [("VN", &s.policies.vn), ("CN", &s.policies.cn)].into_iter().enumerate() {
            if let Some(p) = p {
                let p = parse_policy(&format!("policies.{code}"), p)?;
                exit_policy[i] = p;
                entry_policy[i] = p;
            }
        }
        if s.gate_pairs.is_empty() {
            return Err(err("a scenario needs at least one gate pair"));
        }
        let mut pairs = Vec::new();
        for g in &s.gate_pairs {
            if pairs.iter().any(|p: &PairModel| p.id == g.id) {
                return Err(err(format!("gate pair {} appears twice", g.id)));
            }
            let vn = side_model(&g.id, Side::Vn, &g.vn, start_us)?;
            let cn = side_model(&g.id, Side::Cn, &g.cn, start_us)?;
            let gid = GatePairId::parse(&g.id).map_err(|e| err(format!("gate pair id: {e}")))?;
            let gate = |side: Side, spec: &SideSpec| {
                Gate::parse(
                    side,
                    &GateFields {
                        name_vi: &g.id,
                        name_en: &g.id,
                        province: "scenario",
                        zone: side.zone(),
                        // Windowed hours live in the side's calendar; the gate keeps a day's envelope.
                        opens: if spec.windows.is_empty() { &spec.opens } else { "00:00" },
                        closes: if spec.windows.is_empty() { &spec.closes } else { "24:00" },
                        hours_source: "scenario",
                        ..Default::default()
                    },
                )
                .map_err(|e| err(format!("gate pair {}: {e}", g.id)))
            };
            let core_pair = GatePair {
                id: gid.clone(),
                kind: GateKind::International,
                mode: Mode::Road,
                designation: "scenario".into(),
                vn: gate(Side::Vn, &g.vn)?,
                cn: gate(Side::Cn, &g.cn)?,
                order: 0,
                sources: vec![],
            };
            let mut core_lanes = Vec::new();
            for (side, sm) in [(Side::Vn, &vn), (Side::Cn, &cn)] {
                for (di, d) in [Direction::Export, Direction::Import].into_iter().enumerate() {
                    for (i, c) in sm.lanes[di].iter().enumerate() {
                        // Scenario lanes are inspection lanes; their slot capacity is an hour's worth of
                        // the mean service, which the booking logic only needs as a ceiling.
                        core_lanes.push(Lane {
                            id: cuakhau_core::LaneId::parse(&format!("l-{}-{}-{i}", side.code().to_lowercase(), d.code()))
                                .expect("valid slug"),
                            gate_pair: gid.clone(),
                            side,
                            direction: d,
                            class: *c,
                            name: format!("lane {i}"),
                            capacity_per_hour: 12,
                            active: true,
                            basis: "scenario".into(),
                        });
                    }
                }
            }
            if !(g.travel_time_min >= 0.0 && g.travel_time_min <= MAX_DRAW_US as f64 / US_PER_MIN as f64) {
                return Err(err(format!(
                    "gate pair {}: travel_time_min = {} must be between 0 and 527040 (366 days)",
                    g.id, g.travel_time_min
                )));
            }
            if g.far_side_limit == Some(0) {
                return Err(err(format!("gate pair {}: far_side_limit = 0 would let no truck cross; leave it out for no limit", g.id)));
            }
            pairs.push(PairModel {
                id: g.id.clone(),
                travel_us: (g.travel_time_min * US_PER_MIN as f64) as i64,
                far_side_limit: g.far_side_limit,
                sides: [vn, cn],
                core_pair,
                core_lanes,
            });
        }
        let pair_index = |id: &str| pairs.iter().position(|p| p.id == id);
        let mut flows = Vec::new();
        for (i, f) in s.flows.iter().enumerate() {
            let what = format!("flow {}", i + 1);
            let direction = Direction::parse("direction", &f.direction).map_err(|e| err(format!("{what}: {e}")))?;
            let mut split = Vec::new();
            let mut cum = 0.0;
            if f.split.is_empty() {
                split.push((0, 1.0));
            } else {
                for (id, share) in &f.split {
                    check_share(&format!("{what}: split.{id}"), *share)?;
                }
                let total: f64 = f.split.values().sum();
                if !(total > 0.0 && total.is_finite()) {
                    return Err(err(format!("{what}: split shares must add up to more than 0")));
                }
                for (id, share) in &f.split {
                    let p = pair_index(id).ok_or_else(|| err(format!("{what}: split names unknown gate pair {id}")))?;
                    cum += share / total;
                    split.push((p, cum));
                }
            }
            let has_agv = s.commodities.iter().any(|c| c.agv && c.share > 0.0);
            for (p, _) in &split {
                for side in [direction.exit_side(), direction.exit_side().other()] {
                    let lanes = &pairs[*p].sides[side_index(side)].lanes[dir_index(direction)];
                    let exit = side == direction.exit_side();
                    if has_agv && (exit || !lanes.is_empty()) && !lanes.contains(&LaneClass::Agv) {
                        return Err(err(format!(
                            "{what}: gate pair {} carries AGV cargo but has no {} AGV lane on the {} side",
                            pairs[*p].id,
                            direction.code(),
                            side.code()
                        )));
                    }
                }
                if pairs[*p].sides[side_index(direction.exit_side())].lanes[dir_index(direction)].is_empty() {
                    return Err(err(format!(
                        "{what}: gate pair {} has no {} lanes on its exit side ({}), so its trucks could never leave",
                        pairs[*p].id,
                        direction.code(),
                        direction.exit_side().code()
                    )));
                }
            }
            let profile = |v: &[f64], n: usize, name: &str| -> Result<Vec<f64>, SimError> {
                if v.is_empty() {
                    return Ok(vec![1.0; n]);
                }
                if v.len() != n
                    || v.iter().any(|x| *x < 0.0 || !x.is_finite())
                    || !(v.iter().sum::<f64>() > 0.0 && v.iter().sum::<f64>().is_finite())
                {
                    return Err(err(format!("{what}: {name} needs {n} non-negative weights")));
                }
                Ok(v.to_vec())
            };
            let h = profile(&f.hourly_profile, 24, "hourly_profile")?;
            let hs: f64 = h.iter().sum();
            let w = profile(&f.weekday_profile, 7, "weekday_profile")?;
            let wm: f64 = w.iter().sum::<f64>() / 7.0;
            let mut hourly = [0.0; 24];
            for (k, v) in h.iter().enumerate() {
                hourly[k] = v / hs;
            }
            let mut weekday = [0.0; 7];
            for (k, v) in w.iter().enumerate() {
                weekday[k] = v / wm;
            }
            let seasons = f
                .seasons
                .iter()
                .map(|se| {
                    if !(se.multiplier >= 0.0 && se.multiplier <= MAX_SEASON_MULTIPLIER) {
                        return Err(err(format!(
                            "{what}: season {}: multiplier = {} must be between 0 and {MAX_SEASON_MULTIPLIER}",
                            se.name, se.multiplier
                        )));
                    }
                    Ok((day_of_year(&se.from)?, day_of_year(&se.to)?, se.multiplier))
                })
                .collect::<Result<Vec<_>, SimError>>()?;
            for (name, v) in [("booked_share", f.booked_share), ("no_show_rate", f.no_show_rate)] {
                if !(0.0..=1.0).contains(&v) {
                    return Err(err(format!("{what}: {name} = {v} must be between 0 and 1")));
                }
            }
            let replay = match &f.arrivals_csv {
                None => {
                    if !(f.trucks_per_day >= 0.0 && f.trucks_per_day < MAX_TRUCKS_PER_DAY) {
                        return Err(err(format!("{what}: trucks_per_day = {} must be between 0 and 10 million", f.trucks_per_day)));
                    }
                    // The busiest hour of the busiest weekday in every season at once.
                    let peak = f.trucks_per_day
                        * hourly.iter().cloned().fold(0.0, f64::max)
                        * 24.0
                        * weekday.iter().cloned().fold(0.0, f64::max)
                        * seasons.iter().map(|(_, _, m)| m.max(1.0)).product::<f64>();
                    if peak.is_nan() || peak >= MAX_TRUCKS_PER_DAY {
                        return Err(err(format!(
                            "{what}: trucks_per_day with its hourly, weekday and season peaks reaches {peak:.3e} trucks a day; at most 10 million"
                        )));
                    }
                    None
                }
                Some(path) => Some(read_arrivals(&base_dir.join(path), &pairs, s)?),
            };
            flows.push(FlowModel {
                direction,
                trucks_per_day: f.trucks_per_day,
                split,
                hourly,
                weekday,
                seasons,
                booked_share: f.booked_share,
                no_show_rate: f.no_show_rate,
                replay,
            });
        }
        if flows.is_empty() {
            return Err(err("a scenario needs at least one flow of trucks"));
        }
        for c in &s.commodities {
            check_share(&format!("commodity {}: share", c.name), c.share)?;
            check_share(&format!("commodity {}: value_usd", c.name), c.value_usd)?;
        }
        let total_share: f64 = s.commodities.iter().map(|c| c.share).sum();
        if s.commodities.is_empty() || !(total_share > 0.0 && total_share.is_finite()) {
            return Err(err("commodities: at least one, with shares adding up to more than 0"));
        }
        let mut commodities = Vec::new();
        let mut cum = 0.0;
        for c in &s.commodities {
            cum += c.share / total_share;
            if let Some(a) = &c.age_h {
                check_dist(&format!("commodity {}: age_h", c.name), a, "hours", US_PER_H as f64)?;
            }
            if c.perishable && c.shelf_life_h.is_none() {
                return Err(err(format!("commodity {}: a perishable needs shelf_life_h > 0", c.name)));
            }
            if let Some(h) = c.shelf_life_h
                && !(h > 0.0 && h <= 87_660.0)
            {
                return Err(err(format!("commodity {}: shelf_life_h = {h} must be above 0 and at most 87660 (10 years)", c.name)));
            }
            commodities.push(Commodity {
                name: c.name.clone(),
                share: cum,
                perishable: c.perishable,
                shelf_us: c.shelf_life_h.map(|h| (h * US_PER_H as f64) as i64),
                age: c.age_h.as_ref().map(|d| Sampler::new(d, US_PER_H as f64)),
                value: c.value_usd,
                quarantine: c.quarantine.unwrap_or(c.perishable),
                agv: c.agv,
            });
        }
        let ch = &s.channels;
        let three = ChannelSet::new("channels", &[("green".into(), ch.green), ("yellow".into(), ch.yellow), ("red".into(), ch.red)])?;
        let mut channels = [three.clone(), three];
        let mut own = [false; 2];
        for sc in &s.side_channels {
            let side = Side::parse("side", &sc.side).map_err(|e| err(format!("side_channels: {e}")))?;
            let i = side_index(side);
            if own[i] {
                return Err(err(format!("side_channels: side {} appears twice", sc.side)));
            }
            own[i] = true;
            let shares: Vec<(String, f64)> = sc.shares.iter().map(|(k, v)| (k.clone(), *v)).collect();
            channels[i] = ChannelSet::new(&format!("side_channels {}: shares", sc.side), &shares)?;
        }
        if ch.shared && (own[0] || own[1]) {
            return Err(err("channels.shared = true needs both sides to use [channels], but side_channels gives a side its own"));
        }
        let mut service: [[[Option<Sampler>; MAX_CHANNELS]; 3]; 2] = Default::default();
        for sv in &s.service {
            let side = Side::parse("side", &sv.side).map_err(|e| err(format!("service: {e}")))?;
            let agency = Agency::parse(&sv.agency)
                .and_then(agency_index)
                .ok_or_else(|| err(format!("service: agency '{}' must be customs, border-guard or quarantine", sv.agency)))?;
            let what =
                format!("service {} {}{}: time", sv.side, sv.agency, sv.channel.as_ref().map(|c| format!(" ({c})")).unwrap_or_default());
            check_dist(&what, &sv.time, "minutes", US_PER_MIN as f64)?;
            let set = &channels[side_index(side)];
            let chans: Vec<usize> = match &sv.channel {
                None => (0..set.names.len()).collect(),
                Some(c) => vec![set.index(c).ok_or_else(|| {
                    err(format!(
                        "service {} {}: channel '{c}' must be one of the {} side's: {}",
                        sv.side,
                        sv.agency,
                        sv.side,
                        set.names.join(", ")
                    ))
                })?],
            };
            for c in chans {
                service[side_index(side)][agency][c] = Some(Sampler::new(&sv.time, US_PER_MIN as f64));
            }
        }
        if let Some(h) = &s.handover {
            check_dist("handover", h, "minutes", US_PER_MIN as f64)?;
        }
        Ok(Model {
            name: s.name.clone(),
            start_us,
            horizon_us,
            warmup_us,
            wait_thresholds_s: s.wait_thresholds_h.iter().map(|h| h * 3600.0).collect(),
            policy,
            exit_policy,
            entry_policy,
            max_events: s.limits.max_events,
            max_queue: s.limits.max_queue,
            pairs,
            flows,
            commodities,
            channels,
            shared_channel_draw: ch.shared,
            service,
            handover: s.handover.as_ref().map(|d| Sampler::new(d, US_PER_MIN as f64)),
            slot_policy: SlotPolicy::default(),
        })
    }
}

fn read_arrivals(path: &Path, pairs: &[PairModel], s: &Scenario) -> Result<Vec<Replayed>, SimError> {
    let file = std::fs::File::open(path).map_err(|e| err(format!("arrivals file {}: {e}", path.display())))?;
    let mut rdr = csv::Reader::from_reader(file);
    let headers = rdr.headers().map_err(|e| err(e.to_string()))?.clone();
    let col = |n: &str| headers.iter().position(|h| h == n);
    let (Some(tc), gc, cc, bc) = (col("time"), col("gate_pair"), col("commodity"), col("booked")) else {
        return Err(err(format!("arrivals file {}: needs a 'time' column", path.display())));
    };
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| err(format!("{} line {line}: {e}", path.display())))?;
        let t = parse_instant(&format!("{} line {line}", path.display()), &rec[tc])?;
        let pair = match gc.map(|c| &rec[c]).filter(|v| !v.is_empty()) {
            None => None,
            Some(id) => Some(
                pairs
                    .iter()
                    .position(|p| p.id == id)
                    .ok_or_else(|| err(format!("{} line {line}: unknown gate pair {id}", path.display())))?,
            ),
        };
        let commodity = match cc.map(|c| &rec[c]).filter(|v| !v.is_empty()) {
            None => None,
            Some(n) => Some(
                s.commodities
                    .iter()
                    .position(|c| c.name == n)
                    .ok_or_else(|| err(format!("{} line {line}: unknown commodity {n}", path.display())))?,
            ),
        };
        let booked = bc.map(|c| &rec[c]).filter(|v| !v.is_empty()).map(|v| v == "true" || v == "1");
        out.push(Replayed { t, pair, commodity, booked });
    }
    out.sort_by_key(|r| r.t);
    Ok(out)
}
