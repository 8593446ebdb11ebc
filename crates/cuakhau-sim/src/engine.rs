//! The discrete-event loop: virtual time, a seeded random stream, and the core's call-forward
//! queue, slot booking and clearance state machine doing the deciding.
//!
//! Invariants are asserted after every event: trucks are conserved across the places they can
//! be, no truck is in two places, no lane serves two trucks, no inspection starts while its side
//! is closed.

use crate::SimError;
use crate::model::Sampler;
use crate::model::pick_cumulative;
use crate::model::{MAX_DRAW_US, Model, US_PER_DAY, US_PER_H, dir_index, side_index};
use crate::stats::Hist;
use cuakhau_core::Timestamp;
use cuakhau_core::goods::callforward::{CallForward, TruckId, WaitingTruck, far_side_has_room};
use cuakhau_core::goods::clearance::{Channel, Step, Trip, plan_iter};
use cuakhau_core::goods::gate::Yard;
use cuakhau_core::goods::slots::{Admits, HourCapacity, SideCalendar, WeeklyHours, hour_capacity_for, pick_bucket, shared_open_minutes_of};
use cuakhau_core::refdata::{Direction, LaneClass};
use rand::{Rng, SeedableRng, TryRng};
use rand_distr::{Distribution, StandardNormal};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};

/// A small, fast generator for per-truck draws (SplitMix64), seeded from the run's ChaCha stream
/// so that truck k draws the same attributes in every variant (common random numbers). Normal
/// variates (log-normal service times) come from `rand_distr`'s ziggurat tables: no logarithm,
/// square root or rejection loop on all but a few draws in a hundred.
#[derive(Debug, Clone)]
struct Mix(u64);

impl Mix {
    #[inline]
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in (0, 1].
    #[inline]
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }
    /// A draw from `d`, in microseconds, capped to [0, 366 days].
    fn draw_us(&mut self, d: &Sampler) -> i64 {
        let v = match d {
            Sampler::Exponential { mean_us } => (-mean_us * self.unit().ln()) as i64,
            Sampler::Deterministic { us } => *us,
            Sampler::Lognormal { mu, sigma } => {
                let z: f64 = StandardNormal.sample(self);
                (mu + sigma * z).exp() as i64
            }
            Sampler::Uniform { min_us, span_us } => (min_us + span_us * (1.0 - self.unit())) as i64,
            Sampler::Triangular { min_us: a, mode_us: c, max_us: b } => {
                // Inverse of the distribution function at w in [0, 1).
                let w = 1.0 - self.unit();
                let fc = if b > a { (c - a) / (b - a) } else { 0.0 };
                (if w < fc { a + (w * (b - a) * (c - a)).sqrt() } else { b - ((1.0 - w) * (b - a) * (b - c)).sqrt() }) as i64
            }
            Sampler::Empirical { values_us } => values_us[(self.next() % values_us.len() as u64) as usize],
            Sampler::Weighted { values_us, cum } => {
                let u = self.unit();
                values_us[cum.partition_point(|c| *c < u).min(values_us.len() - 1)]
            }
        };
        v.clamp(0, MAX_DRAW_US)
    }
}

/// `Mix` as a `rand` generator, for `rand_distr`'s samplers.
impl TryRng for Mix {
    type Error = std::convert::Infallible;
    #[inline]
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok((self.next() >> 32) as u32)
    }
    #[inline]
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(self.next())
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(8) {
            chunk.copy_from_slice(&self.next().to_le_bytes()[..chunk.len()]);
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Booked,
    Yard,
    ExitLane,
    Transit,
    EntryQueue,
    EntryLane,
}

#[derive(Debug, Clone)]
struct Truck {
    /// The truck's number in arrival order (as `generate` lists them).
    serial: u64,
    station: usize,
    agv: bool,
    class: LaneClass,
    arrived: i64,
    slot: Option<i64>,
    spoils_at: Option<i64>,
    value: f64,
    trip: Trip,
    /// Step durations in the order of `trip.steps`.
    durations: [i64; 8],
    /// The index of the hand-over among `trip.steps` (the exit side's steps come before it).
    handover: usize,
    place: Place,
    called: i64,
    exit_release: i64,
    crossed: i64,
    entry_start: i64,
    /// The entry lane serving it (`None` where the side has no lanes for the direction).
    entry_lane: Option<usize>,
}

/// What a step of a crossing draws its duration from.
#[derive(Debug, Clone, Copy)]
enum StepDraw {
    /// `Model::service[side][agency][that side's channel]`.
    Service {
        side: u8,
        agency: u8,
    },
    Handover,
    /// An agency the model has no service times for.
    Nothing,
}

/// The steps of one kind of crossing (direction, quarantine or not), worked out once a run
/// from the core's plan: what each step's duration is drawn from, and where the hand-over is.
#[derive(Debug, Clone, Copy)]
struct Plan {
    draws: [StepDraw; 8],
    n: usize,
    handover: usize,
}

impl Plan {
    fn new(direction: Direction, quarantine: bool) -> Plan {
        let mut p = Plan { draws: [StepDraw::Nothing; 8], n: 0, handover: 0 };
        for (i, step) in plan_iter(direction, quarantine).enumerate() {
            p.draws[i] = match step {
                Step::Agency { side, agency } => match crate::model::agency_index(agency) {
                    Some(a) => StepDraw::Service { side: side_index(side) as u8, agency: a as u8 },
                    None => StepDraw::Nothing,
                },
                Step::Handover => {
                    p.handover = i;
                    StepDraw::Handover
                }
            };
            p.n = i + 1;
        }
        p
    }
}

/// The index of a crossing's plan in `Sim::plans`.
#[inline]
fn plan_index(direction: Direction, quarantine: bool) -> usize {
    dir_index(direction) * 2 + quarantine as usize
}

/// A lane's state: small, so that a dispatch round reads a station's lanes from a cache line
/// or two (a lane's own hours stay in the model, see [`lane_hours`]).
#[derive(Debug, Clone)]
struct LaneSt {
    class: LaneClass,
    busy: Option<u32>,
    busy_us: i64,
}

/// Lane `li`'s own hours at station `st`, if it has any.
#[inline]
fn lane_hours<'a>(m: &'a Model, st: &Station, li: usize) -> Option<&'a WeeklyHours> {
    m.pairs[st.pair].sides[st.side].lane_hours[dir_index(st.dir)][li].as_ref()
}

#[derive(Debug)]
struct Station {
    pair: usize,
    dir: Direction,
    side: usize,
    lanes: Vec<LaneSt>,
    /// Lanes not serving a truck.
    free: usize,
    /// No lane has hours of its own: the side's hours decide for all of them at once.
    uniform_hours: bool,
    /// Every lane is of the same class.
    one_class: bool,
    /// Bit `i` is set while lane `i` (of the first 64) is free: the free lanes are found without
    /// a guess a lane.
    free_mask: u64,
    /// The pending wake-up, if any (`i64::MAX`: none).
    wake_at: i64,
    /// Known to let nobody through before this instant (lanes without hours of their own).
    closed_until: i64,
    /// Whom the side lets through (lanes without hours of their own), valid before `adm_until`:
    /// the calendar is asked again only when its answer may have changed.
    adm: Admits,
    adm_until: i64,
}

/// The bits of the first `n` lanes (at most 64).
fn first_lanes_mask(n: usize) -> u64 {
    if n >= 64 { u64::MAX } else { (1u64 << n) - 1 }
}

impl Station {
    /// The first free lane at or after `from`, in lane order.
    #[inline]
    fn next_free(&self, from: usize) -> Option<usize> {
        if from < 64 {
            let m = self.free_mask & (u64::MAX << from);
            if m != 0 {
                return Some(m.trailing_zeros() as usize);
            }
            if self.lanes.len() <= 64 {
                return None;
            }
        }
        (from.max(64)..self.lanes.len()).find(|&i| self.lanes[i].busy.is_none())
    }

    /// Lane `li` starts serving truck `id`.
    #[inline]
    fn occupy(&mut self, li: usize, id: u32) {
        let lane = &mut self.lanes[li];
        assert!(lane.busy.is_none(), "a lane serves one truck at a time");
        lane.busy = Some(id);
        self.free -= 1;
        if li < 64 {
            self.free_mask &= !(1u64 << li);
        }
    }

    /// Lane `li` is done: the truck it served.
    #[inline]
    fn vacate(&mut self, li: usize) -> Option<u32> {
        let id = self.lanes[li].busy.take();
        if id.is_some() {
            self.free += 1;
            if li < 64 {
                self.free_mask |= 1u64 << li;
            }
        }
        id
    }

    /// Whom the side lets through at `now` (time only moves forward).
    #[inline]
    fn admits(&mut self, cal: &SideCalendar, now: i64) -> Admits {
        if now >= self.adm_until {
            let (a, until) = cal.admits_until(Timestamp(now), None);
            self.adm = a;
            self.adm_until = until.as_micros();
        }
        self.adm
    }
}

/// What one replication of one variant measured.
#[derive(Debug, Clone)]
pub struct RunStats {
    pub arrived: u64,
    pub served: u64,
    pub no_shows: u64,
    pub turned_away: u64,
    pub in_system_end: u64,
    pub events: u64,
    pub wait_exit: Hist,
    pub wait_entry: Hist,
    pub wait_total: Hist,
    /// arrival→call, call→exit release, exit release→crossing, crossing→entry release.
    pub trs: [Hist; 4],
    pub spoiled: u64,
    pub spoiled_value: f64,
    /// (gate pair, direction, side, lane class, busy share of the horizon).
    pub lanes: Vec<(String, &'static str, &'static str, &'static str, f64)>,
    /// Time-average number of trucks waiting in the yards (after the warm-up).
    pub mean_queue: f64,
    /// Time-average number of trucks waiting before the entry lanes (after the warm-up).
    pub mean_entry_queue: f64,
    /// Trucks that entered the yard queues per hour (after the warm-up).
    pub arrival_rate_h: f64,
    /// (hours since start, trucks waiting in the yards).
    pub queue_series: Vec<(f64, u32)>,
    /// Trucks waiting before the entry lanes, at the same instants as `queue_series`.
    pub entry_series: Vec<u32>,
    /// Served trucks that arrived after the warm-up: the ones the statistics describe.
    pub measured: u64,
    /// Of those, how many waited at all (total wait > 0).
    pub wait_positive: u64,
    /// Of those, how many waited longer than each of the model's `wait_thresholds_s`.
    pub wait_over: Vec<u64>,
    /// Every check-in at an exit yard and every call, in order (with `RunOptions::trace`).
    pub trace: Vec<Traced>,
}

/// What a traced run records, for comparing the simulator's calls with the live gate's.
#[derive(Debug, Clone, PartialEq)]
pub enum Traced {
    /// A truck checks in at an exit yard (station: gate pair × 2 + direction index).
    Yard {
        station: usize,
        at: i64,
        /// As the yard holds it, with `id` = the truck's number in arrival order.
        truck: WaitingTruck,
        /// Time at the exit lane, from the call to the exit side's release.
        exit_us: i64,
        /// From the exit release to reaching the entry side (travel and hand-over).
        cross_us: i64,
        /// Time at the entry side.
        entry_us: i64,
    },
    /// A truck is called to lane `lane` (index among the station's exit lanes) at `at`.
    Call { station: usize, truck: u64, lane: usize, at: i64 },
}

const EV_ARRIVE: u8 = 0;
const EV_EXIT_DONE: u8 = 1;
const EV_CROSSED: u8 = 2;
const EV_ENTRY_DONE: u8 = 3;
const EV_WAKE_EXIT: u8 = 4;
const EV_WAKE_ENTRY: u8 = 5;
const EV_BOOKED_ARRIVE: u8 = 6;
const EV_SAMPLE: u8 = 7;

/// How a run is told to report progress and whether to keep a queue series.
#[derive(Debug, Default)]
pub struct RunOptions<'a> {
    pub record_series: bool,
    /// Record every check-in and call in `RunStats::trace`.
    pub trace: bool,
    /// Incremented by simulated microseconds as the run advances.
    pub progress: Option<&'a AtomicU64>,
}

struct Sim<'m> {
    m: &'m Model,
    now: i64,
    end: i64,
    seq: u64,
    /// (time, seq << 32 | kind << 28 | arg) packed in one u128 (see [`event_key`]): 16 bytes an
    /// entry, compared in one go; ties break by scheduling order.
    heap: Events,
    rng: rand::rngs::ChaCha8Rng,
    /// Slots are reused: a released truck's slot (and its trip's storage) serves a later truck.
    trucks: Vec<Truck>,
    live: Vec<bool>,
    free: Vec<u32>,
    exit: Vec<Station>,
    entry: Vec<Station>,
    /// Each exit station's yard: the core's dispatch state, kept alive for the run.
    yards: Vec<Yard>,
    /// The queue before each entry station's lanes, ordered by its side's policy.
    entry_queues: Vec<CallForward>,
    in_flight: Vec<u32>,
    arrival_seq: u64,
    serial: u64,
    trace: bool,
    /// Reused buffers of a dispatch round: free open lanes, and the calls made.
    lane_buf: Vec<(u32, LaneClass)>,
    call_buf: Vec<(TruckId, u32)>,
    replay_pos: Vec<usize>,
    /// Each flow's rate for one local hour: (the hour since the epoch, trucks per hour).
    rate_cache: Vec<(i64, f64)>,
    /// Each kind of crossing's plan, by [`plan_index`].
    plans: [Plan; 4],
    /// What each step of a crossing draws its duration from, by plan and both sides' channels
    /// (see [`Sim::step_samplers_of`]); worked out once a run.
    step_samplers: Vec<[Option<&'m Sampler>; 8]>,
    /// How many channels each side has.
    channel_counts: [usize; 2],
    slot_book: HashMap<(usize, i64), (HourCapacity, [u32; 4])>,
    // Counters for the conservation invariant.
    n_in: u64,
    n_yard: u64,
    n_exit_lane: u64,
    n_transit: u64,
    n_entry_queue: u64,
    n_entry_lane: u64,
    /// Truck-microseconds spent waiting in the yards and before the entry lanes, inside the
    /// measured window: each truck adds its own wait when it leaves the queue (the area under
    /// the queue-length curve is the sum of the waits in it), so no event pays for it.
    queue_area: i128,
    entry_area: i128,
    /// Statistics count from here (start + warm-up).
    measure_from: i64,
    arrived_measured: u64,
    out: RunStats,
}

/// Pending events, soonest first. A run of one gate pair has a few dozen pending at most: they
/// are kept sorted in a vector (soonest at the end: taking one is a pop, adding one shifts the
/// sooner ones up a place). Past [`Events::SORTED_MAX`] they move to a binary heap for the rest
/// of the run. Either way the order is the keys' total order, so a run is the same whichever
/// holds them.
#[derive(Debug, Default)]
struct Events {
    /// Descending while the heap is unused.
    sorted: Vec<u128>,
    heap: BinaryHeap<Reverse<u128>>,
    use_heap: bool,
}

impl Events {
    const SORTED_MAX: usize = 64;

    #[inline]
    fn push(&mut self, key: u128) {
        if self.use_heap {
            self.heap.push(Reverse(key));
            return;
        }
        if self.sorted.len() >= Self::SORTED_MAX {
            self.move_to_heap();
            self.heap.push(Reverse(key));
            return;
        }
        debug_assert!(self.sorted.iter().all(|k| (*k as u64) < key as u64), "scheduling order only grows");
        self.sorted.push(key);
        let v = &mut self.sorted;
        let mut i = v.len() - 1;
        // Every pending key was scheduled before this one: it is sooner exactly when its instant
        // is not later, so the scan compares instants (the high halves) only.
        let at = (key >> 64) as u64;
        while i > 0 && (v[i - 1] >> 64) as u64 <= at {
            v[i] = v[i - 1];
            i -= 1;
        }
        v[i] = key;
    }

    #[inline]
    fn pop(&mut self) -> Option<u128> {
        if self.use_heap { self.heap.pop().map(|Reverse(k)| k) } else { self.sorted.pop() }
    }

    #[cold]
    fn move_to_heap(&mut self) {
        self.heap.extend(self.sorted.drain(..).map(Reverse));
        self.use_heap = true;
    }
}

/// An event's place in the queue: its instant, then `packed` (scheduling order first), as one
/// unsigned number ordered as the pair (the instant's sign bit flipped).
#[inline]
fn event_key(t: i64, packed: u64) -> u128 {
    (((t as u64) ^ (1 << 63)) as u128) << 64 | packed as u128
}

/// The instant and packed word of an event key.
#[inline]
fn event_of(key: u128) -> (i64, u64) {
    ((((key >> 64) as u64) ^ (1 << 63)) as i64, key as u64)
}

fn lane_class_code(c: LaneClass) -> &'static str {
    c.code()
}

impl<'m> Sim<'m> {
    fn new(m: &'m Model, seed: u64, record_series: bool, trace: bool) -> Self {
        let plans = [(Direction::Export, false), (Direction::Export, true), (Direction::Import, false), (Direction::Import, true)]
            .map(|(d, q)| Plan::new(d, q));
        let mut exit = Vec::new();
        let mut entry = Vec::new();
        for (pi, p) in m.pairs.iter().enumerate() {
            for dir in [Direction::Export, Direction::Import] {
                let (ex, en) = (side_index(dir.exit_side()), side_index(dir.exit_side().other()));
                let lanes =
                    |s: usize| p.sides[s].lanes[dir_index(dir)].iter().map(|c| LaneSt { class: *c, busy: None, busy_us: 0 }).collect();
                exit.push(Station {
                    pair: pi,
                    dir,
                    side: ex,
                    free: p.sides[ex].lanes[dir_index(dir)].len(),
                    uniform_hours: p.sides[ex].lane_hours[dir_index(dir)].iter().all(Option::is_none),
                    one_class: p.sides[ex].lanes[dir_index(dir)].windows(2).all(|w| w[0] == w[1]),
                    free_mask: first_lanes_mask(p.sides[ex].lanes[dir_index(dir)].len()),
                    lanes: lanes(ex),
                    wake_at: i64::MAX,
                    closed_until: i64::MIN,
                    adm: Admits::Nobody,
                    adm_until: i64::MIN,
                });
                entry.push(Station {
                    pair: pi,
                    dir,
                    side: en,
                    free: p.sides[en].lanes[dir_index(dir)].len(),
                    uniform_hours: p.sides[en].lane_hours[dir_index(dir)].iter().all(Option::is_none),
                    one_class: p.sides[en].lanes[dir_index(dir)].windows(2).all(|w| w[0] == w[1]),
                    free_mask: first_lanes_mask(p.sides[en].lanes[dir_index(dir)].len()),
                    lanes: lanes(en),
                    wake_at: i64::MAX,
                    closed_until: i64::MIN,
                    adm: Admits::Nobody,
                    adm_until: i64::MIN,
                });
            }
        }
        let n = exit.len();
        let end = m.start_us + m.horizon_us;
        let yards = exit.iter().map(|st| Yard::new(m.exit_policy[st.side])).collect();
        let entry_queues = entry.iter().map(|st| CallForward::new(m.entry_policy[st.side])).collect();
        Sim {
            m,
            now: m.start_us,
            end,
            seq: 0,
            heap: Events::default(),
            rng: rand::rngs::ChaCha8Rng::seed_from_u64(seed),
            trucks: Vec::new(),
            live: Vec::new(),
            free: Vec::new(),
            exit,
            entry,
            yards,
            entry_queues,
            in_flight: vec![0; n],
            arrival_seq: 0,
            serial: 0,
            trace,
            lane_buf: Vec::new(),
            call_buf: Vec::new(),
            replay_pos: vec![0; m.flows.len()],
            rate_cache: vec![(i64::MIN, 0.0); m.flows.len()],
            plans,
            step_samplers: Sim::step_samplers_of(m, &plans),
            channel_counts: [m.channels[0].cum.len(), m.channels[1].cum.len()],
            slot_book: HashMap::new(),
            n_in: 0,
            n_yard: 0,
            n_exit_lane: 0,
            n_transit: 0,
            n_entry_queue: 0,
            n_entry_lane: 0,
            queue_area: 0,
            entry_area: 0,
            measure_from: m.start_us + m.warmup_us,
            arrived_measured: 0,
            out: RunStats {
                arrived: 0,
                served: 0,
                no_shows: 0,
                turned_away: 0,
                in_system_end: 0,
                events: 0,
                wait_exit: Hist::default(),
                wait_entry: Hist::default(),
                wait_total: Hist::default(),
                trs: Default::default(),
                spoiled: 0,
                spoiled_value: 0.0,
                lanes: vec![],
                mean_queue: 0.0,
                mean_entry_queue: 0.0,
                arrival_rate_h: 0.0,
                queue_series: if record_series { Vec::with_capacity(4096) } else { Vec::new() },
                entry_series: if record_series { Vec::with_capacity(4096) } else { Vec::new() },
                measured: 0,
                wait_positive: 0,
                wait_over: vec![0; m.wait_thresholds_s.len()],
                trace: Vec::new(),
            },
        }
    }

    /// For each plan (by [`plan_index`]), Vietnam's channel and China's channel, in that order:
    /// what each step draws its duration from.
    fn step_samplers_of(m: &'m Model, plans: &[Plan; 4]) -> Vec<[Option<&'m Sampler>; 8]> {
        let mut rows = Vec::new();
        for plan in plans {
            for c0 in 0..m.channels[0].cum.len() {
                for c1 in 0..m.channels[1].cum.len() {
                    rows.push(plan.draws.map(|step| match step {
                        StepDraw::Service { side, agency } => {
                            m.service[side as usize][agency as usize][if side == 0 { c0 } else { c1 }].as_ref()
                        }
                        StepDraw::Handover => m.handover.as_ref(),
                        StepDraw::Nothing => None,
                    }));
                }
            }
        }
        rows
    }

    /// The part of [a, b) inside the measured window, in µs.
    fn measured_span(&self, a: i64, b: i64) -> i64 {
        (b.min(self.end) - a.max(self.measure_from)).max(0)
    }

    #[inline]
    fn schedule(&mut self, t: i64, kind: u8, arg: u32) {
        debug_assert!(arg < 1 << 28, "event argument fits 28 bits");
        self.seq += 1;
        self.heap.push(event_key(t, self.seq << 32 | (kind as u64) << 28 | arg as u64));
    }

    /// Trucks per hour of flow `f` at `t` (piecewise constant over the exit side's local hours):
    /// worked out once a local hour.
    #[inline]
    fn rate_h(&mut self, f: usize, t: i64) -> f64 {
        let fl = &self.m.flows[f];
        let local = t + self.m.pairs[fl.split[0].0].sides[side_index(fl.direction.exit_side())].offset_us;
        let hour = local.div_euclid(US_PER_H);
        let (cached, rate) = self.rate_cache[f];
        if cached == hour {
            return rate;
        }
        let rate = self.local_rate_h(f, local);
        self.rate_cache[f] = (hour, rate);
        rate
    }

    /// Trucks per hour of flow `f` at local time `local` (µs since the epoch in the exit side's zone).
    fn local_rate_h(&self, f: usize, local: i64) -> f64 {
        let fl = &self.m.flows[f];
        let day = local.div_euclid(US_PER_DAY);
        let hour = (local.rem_euclid(US_PER_DAY) / US_PER_H) as usize;
        // 1970-01-01 was a Thursday; Monday is index 0.
        let weekday = (day + 3).rem_euclid(7) as usize;
        let mut r = fl.trucks_per_day * fl.hourly[hour] * fl.weekday[weekday];
        if !fl.seasons.is_empty() {
            let doy = day_of_year(day);
            for (from, to, mult) in &fl.seasons {
                let inside = if from <= to { doy >= *from && doy <= *to } else { doy >= *from || doy <= *to };
                if inside {
                    r *= mult;
                }
            }
        }
        r
    }

    /// The next arrival of flow `f` after `t` (a non-homogeneous Poisson process, exact per hour).
    fn next_arrival(&mut self, f: usize, mut t: i64) -> Option<i64> {
        if let Some(rep) = &self.m.flows[f].replay {
            let pos = self.replay_pos[f];
            return rep.get(pos).map(|r| r.t.max(t));
        }
        while t < self.end {
            let hour_end = (t.div_euclid(US_PER_H) + 1) * US_PER_H;
            let rate = self.rate_h(f, t);
            if rate > 0.0 {
                let u: f64 = ((self.rng.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64;
                // Compared in floating point: a tiny rate gives a gap beyond any instant.
                let gap = -u.ln() / rate * US_PER_H as f64;
                if gap < (hour_end - t) as f64 {
                    return Some(t + gap as i64);
                }
            }
            t = hour_end;
        }
        None
    }

    /// A slot for a new truck: a free one (its trip storage reused) or a new one.
    fn alloc(&mut self, direction: Direction, channel: Channel, quarantine: bool) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.trucks[i as usize].trip.reset(direction, channel, quarantine);
                self.live[i as usize] = true;
                i
            }
            None => {
                self.trucks.push(Truck {
                    serial: 0,
                    station: 0,
                    agv: false,
                    class: LaneClass::General,
                    arrived: 0,
                    slot: None,
                    spoils_at: None,
                    value: 0.0,
                    trip: Trip::new(direction, channel, quarantine),
                    durations: [0; 8],
                    handover: 0,
                    place: Place::Booked,
                    called: 0,
                    exit_release: 0,
                    crossed: 0,
                    entry_start: 0,
                    entry_lane: None,
                });
                self.live.push(true);
                (self.trucks.len() - 1) as u32
            }
        }
    }

    fn release(&mut self, id: u32) {
        assert!(self.live[id as usize], "a truck leaves once");
        self.live[id as usize] = false;
        self.free.push(id);
    }

    /// Draws a new truck of flow `f`: its gate pair, commodity, booking, no-show, channel and
    /// the service time of each step. `mix` is the truck's own random stream.
    fn draw_truck(&self, f: usize, mix: &mut Mix) -> Drawn {
        let fl = &self.m.flows[f];
        // China's customs selects from its own stream, so Vietnam's draws (and every other draw
        // of the truck) stay the same whether or not the selections are shared.
        let u_cn = Mix(mix.0 ^ 0x5851_F42D_4C95_7F2D).unit();
        let (u_pair, u_com, u_ch, u_book, u_show) = (mix.unit(), mix.unit(), mix.unit(), mix.unit(), mix.unit());
        let replayed = fl.replay.as_ref().map(|r| r[self.replay_pos[f]].clone());
        let pair = replayed
            .as_ref()
            .and_then(|r| r.pair)
            .unwrap_or_else(|| fl.split[pick_cumulative(fl.split.iter().map(|(_, c)| *c), u_pair, fl.split.len())].0);
        let commodity = replayed
            .as_ref()
            .and_then(|r| r.commodity)
            .unwrap_or_else(|| pick_cumulative(self.m.commodities.iter().map(|c| c.share), u_com, self.m.commodities.len()));
        let booked = replayed.as_ref().and_then(|r| r.booked).unwrap_or(u_book < fl.booked_share);
        let channels =
            [self.m.channels[0].pick(u_ch) as u8, self.m.channels[1].pick(if self.m.shared_channel_draw { u_ch } else { u_cn }) as u8];
        let channel = self.m.channels[0].colour[channels[0] as usize];
        let mut durations = [0i64; 8];
        let pi = plan_index(fl.direction, self.m.commodities[commodity].quarantine);
        let [_, n1] = self.channel_counts;
        let row = &self.step_samplers[(pi * self.channel_counts[0] + channels[0] as usize) * n1 + channels[1] as usize];
        for (d, sampler) in durations.iter_mut().zip(&row[..self.plans[pi].n]) {
            *d = sampler.map_or(0, |s| mix.draw_us(s));
        }
        Drawn { pair, commodity, booked, no_show: booked && u_show < fl.no_show_rate, channel, channels, durations }
    }

    fn on_arrive(&mut self, f: usize) {
        let seed = self.rng.next_u64();
        let mut mix = Mix(seed);
        let Drawn { pair, commodity: com_i, booked, no_show, channel, durations, .. } = self.draw_truck(f, &mut mix);
        let serial = self.serial;
        self.serial += 1;
        let fl = &self.m.flows[f];
        let direction = fl.direction;
        // Schedule this flow's next arrival first, so the stream advances the same way whatever happens to this truck.
        if fl.replay.is_some() {
            self.replay_pos[f] += 1;
        }
        if let Some(t) = self.next_arrival(f, self.now) {
            self.schedule(t, EV_ARRIVE, f as u32);
        }
        if no_show {
            self.out.no_shows += 1;
            return;
        }
        let com = &self.m.commodities[com_i];
        let id = self.alloc(direction, channel, com.quarantine);
        let age = com.age.as_ref().map_or(0, |d| mix.draw_us(d));
        let station = pair * 2 + dir_index(direction);
        let class = if com.agv {
            LaneClass::Agv
        } else if com.perishable {
            LaneClass::Perishable
        } else {
            LaneClass::General
        };
        let mut arrive_at = self.now;
        let mut slot = None;
        if let Some(h) = booked.then(|| self.book_slot(station, self.now, com.perishable, com.agv)).flatten() {
            slot = Some(h);
            let hour_now = self.now.div_euclid(US_PER_H) * US_PER_H;
            if h > hour_now {
                arrive_at = h + (self.now - hour_now);
            }
        }
        let t = &mut self.trucks[id as usize];
        t.serial = serial;
        t.station = station;
        t.agv = com.agv;
        t.class = class;
        t.arrived = arrive_at;
        t.slot = slot;
        t.spoils_at = com.shelf_us.map(|s| arrive_at + s - age);
        t.value = com.value;
        t.durations = durations;
        t.handover = self.plans[plan_index(direction, com.quarantine)].handover;
        debug_assert_eq!(Some(t.handover), t.trip.steps().iter().position(|(st, _)| *st == Step::Handover), "the plan is the trip's");
        t.place = Place::Booked;
        t.entry_lane = None;
        if arrive_at > self.now {
            self.schedule(arrive_at, EV_BOOKED_ARRIVE, id);
        } else {
            self.enter_yard(id);
        }
    }

    /// Books the first hour from `t` with room (within three days), using the core's capacity and buckets.
    fn book_slot(&mut self, station: usize, t: i64, perishable: bool, agv: bool) -> Option<i64> {
        let st = &self.exit[station];
        let (pair, dir) = (st.pair, st.dir);
        let first = t.div_euclid(US_PER_H) * US_PER_H;
        for k in 0..72 {
            let h = first + k * US_PER_H;
            let p = &self.m.pairs[pair];
            let e = self.slot_book.entry((station, h)).or_insert_with(|| {
                // Booking capacity follows both sides' calendars (weekdays, windows, holidays, closures).
                let minutes = shared_open_minutes_of(&p.sides[0].cal, &p.sides[1].cal, Timestamp(h));
                (hour_capacity_for(&p.core_pair, &p.core_lanes, dir, minutes, &self.m.slot_policy), [0; 4])
            });
            let used = e.1;
            if let Some(b) = pick_bucket(&e.0, |b| used[b as usize], perishable, agv) {
                e.1[b as usize] += 1;
                return Some(h);
            }
        }
        None
    }

    fn enter_yard(&mut self, id: u32) {
        let t = &mut self.trucks[id as usize];
        assert_eq!(t.place, Place::Booked, "a truck enters the yard once");
        t.place = Place::Yard;
        let (station, slot, spoils_at, class) = (t.station, t.slot, t.spoils_at, t.class);
        if self.yards[station].len() >= self.m.max_queue {
            self.out.turned_away += 1;
            self.release(id);
            return;
        }
        self.n_in += 1;
        self.out.arrived += 1;
        self.arrived_measured += (self.now >= self.measure_from) as u64;
        self.n_yard += 1;
        self.arrival_seq += 1;
        let waiting = WaitingTruck {
            id: TruckId(id as u64),
            arrival_seq: self.arrival_seq,
            slot: slot.map(Timestamp),
            spoils_at: spoils_at.map(Timestamp),
            class,
        };
        let added = self.yards[station].add(waiting);
        assert!(added, "a truck waits in one yard queue at most once");
        if self.trace {
            let t = &self.trucks[id as usize];
            let (h, n) = (t.handover, t.trip.steps().len());
            self.out.trace.push(Traced::Yard {
                station,
                at: self.now,
                truck: WaitingTruck { id: TruckId(t.serial), ..waiting },
                exit_us: t.durations[..h].iter().sum(),
                cross_us: self.m.pairs[self.exit[station].pair].travel_us + t.durations[h],
                entry_us: t.durations[h + 1..n].iter().sum(),
            });
        }
        self.dispatch_exit(station);
    }

    /// One dispatch round at exit station `s`: the core's [`Yard::round`] over the lanes that
    /// are free and open now, as the live server's round calls it; wakes itself when a closed
    /// lane with trucks for it opens, or a pre-registered-only window ends.
    fn dispatch_exit(&mut self, s: usize) {
        let st = &self.exit[s];
        if st.free == 0 || self.now < st.closed_until || self.yards[s].is_empty() {
            return;
        }
        let m = self.m;
        let (pair, side, uniform) = (st.pair, st.side, st.uniform_hours);
        let cal = &m.pairs[pair].sides[side].cal;
        let limit = m.pairs[pair].far_side_limit.unwrap_or(u32::MAX);
        if !far_side_has_room(self.in_flight[s], limit) {
            return;
        }
        let now = Timestamp(self.now);
        let mut free = std::mem::take(&mut self.lane_buf);
        free.clear();
        let mut admits = Admits::Nobody;
        let mut wake = i64::MAX;
        if uniform {
            admits = self.exit[s].admits(cal, self.now);
            let st = &self.exit[s];
            if admits == Admits::Nobody {
                // Every lane keeps the side's hours: nothing to do until the side lets anyone through.
                let t = cal.next_works(now, None, true).map_or(i64::MAX, Timestamp::as_micros);
                self.exit[s].closed_until = t;
                wake = t;
            } else {
                // Where every lane is of one class, a round calls at most one waiting truck a
                // lane, first lanes first, and a lane that finds none leaves none for the next:
                // the first free lanes, as many as trucks wait, are all the round can use.
                let usable = if st.one_class { self.yards[s].len() } else { usize::MAX };
                let mut from = 0;
                while free.len() < usable
                    && let Some(li) = st.next_free(from)
                {
                    free.push((li as u32, st.lanes[li].class));
                    from = li + 1;
                }
            }
        } else {
            for (i, l) in self.exit[s].lanes.iter().enumerate() {
                if l.busy.is_some() {
                    continue;
                }
                let hours = lane_hours(m, &self.exit[s], i);
                match cal.admits(now, hours) {
                    Admits::Nobody => {
                        if self.yards[s].queue().peek(l.class).is_some()
                            && let Some(t) = cal.next_works(now, hours, true)
                        {
                            wake = wake.min(t.as_micros());
                        }
                    }
                    a => {
                        admits = admits.max(a);
                        free.push((i as u32, l.class));
                    }
                }
            }
        }
        let mut calls = std::mem::take(&mut self.call_buf);
        calls.clear();
        if !free.is_empty() {
            self.yards[s].round(&free, admits, self.in_flight[s], limit, |truck, lane| calls.push((truck, *lane)));
        }
        if admits == Admits::BookedOnly && !self.yards[s].is_empty() {
            // Unbooked trucks wait for the pre-registered-only window to end.
            for (li, _) in &free {
                if let Some(t) = cal.next_works(now, lane_hours(m, &self.exit[s], *li as usize), false) {
                    wake = wake.min(t.as_micros());
                }
            }
        }
        for (TruckId(id), li) in calls.drain(..) {
            self.start_exit(s, li as usize, id as u32);
        }
        self.lane_buf = free;
        self.call_buf = calls;
        if wake < self.exit[s].wake_at {
            self.exit[s].wake_at = wake;
            self.schedule(wake, EV_WAKE_EXIT, s as u32);
        }
    }

    fn start_exit(&mut self, s: usize, li: usize, id: u32) {
        let now = self.now;
        let booked = self.trucks[id as usize].slot.is_some();
        let st = &self.exit[s];
        let side_open = if st.uniform_hours {
            // The answer the round was made with, from the same calendar and still valid now.
            st.adm_until > now && st.adm.lets(booked)
        } else {
            self.m.pairs[st.pair].sides[st.side].cal.works_at(Timestamp(now), lane_hours(self.m, st, li), booked)
        };
        assert!(side_open, "no inspection starts while its side (or lane) is closed");
        self.exit[s].occupy(li, id);
        let t = &mut self.trucks[id as usize];
        assert_eq!(t.place, Place::Yard);
        t.place = Place::ExitLane;
        t.called = now;
        if self.trace {
            self.out.trace.push(Traced::Call { station: s, truck: t.serial, lane: li, at: now });
        }
        // Drive the core's clearance state machine through the exit side's steps.
        let mut at = now;
        for i in 0..t.handover {
            let who = officer(t.trip.steps()[i].0);
            at += t.durations[i];
            t.trip.pass(i, who, Timestamp(at), true).expect("the exit side's steps run in order");
        }
        let wait = now - t.arrived;
        // The truck checked in at `arrived`: its time in the yard is its share of the queue's area.
        self.queue_area += self.measured_span(self.trucks[id as usize].arrived, now) as i128;
        self.exit[s].lanes[li].busy_us += self.measured_span(now, at);
        if self.trucks[id as usize].arrived >= self.measure_from {
            // Arrival→call is the exit wait: `trs[0]` is copied from it at the end of the run.
            self.out.wait_exit.add_us(wait);
        }
        self.n_yard -= 1;
        self.n_exit_lane += 1;
        self.in_flight[s] += 1;
        self.schedule(at, EV_EXIT_DONE, (s as u32) << 8 | li as u32);
    }

    fn on_exit_done(&mut self, s: usize, li: usize) {
        let id = self.exit[s].vacate(li).expect("a busy lane finishes");
        let now = self.now;
        let travel = self.m.pairs[self.exit[s].pair].travel_us;
        let t = &mut self.trucks[id as usize];
        assert_eq!(t.place, Place::ExitLane);
        t.place = Place::Transit;
        t.exit_release = now;
        let arrive = now + travel + t.durations[t.handover];
        if t.arrived >= self.measure_from {
            self.out.trs[1].add_us(now - t.called);
        }
        self.n_exit_lane -= 1;
        self.n_transit += 1;
        self.schedule(arrive, EV_CROSSED, id);
        self.dispatch_exit(s);
    }

    fn on_crossed(&mut self, id: u32) {
        let now = self.now;
        let t = &mut self.trucks[id as usize];
        assert_eq!(t.place, Place::Transit);
        t.place = Place::EntryQueue;
        t.crossed = now;
        let h = t.handover;
        t.trip.pass(h, (t.trip.direction.exit_side(), cuakhau_core::Agency::BorderGuard), Timestamp(now), true).expect("hand-over");
        if t.arrived >= self.measure_from {
            self.out.trs[2].add_us(now - t.exit_release);
        }
        let w = WaitingTruck {
            id: TruckId(id as u64),
            arrival_seq: 0,
            slot: t.slot.map(Timestamp),
            spoils_at: t.spoils_at.map(Timestamp),
            class: t.class,
        };
        let s = t.station;
        self.n_transit -= 1;
        self.n_entry_queue += 1;
        self.arrival_seq += 1;
        let added = self.entry_queues[s].add(WaitingTruck { arrival_seq: self.arrival_seq, ..w });
        assert!(added, "a truck waits in one entry queue at most once");
        self.dispatch_entry(s);
    }

    fn dispatch_entry(&mut self, s: usize) {
        let st = &self.entry[s];
        if self.entry_queues[s].is_empty() || (st.free == 0 && !st.lanes.is_empty()) || self.now < st.closed_until {
            return;
        }
        let m = self.m;
        let cal = &m.pairs[st.pair].sides[st.side].cal;
        let now = Timestamp(self.now);
        let mut wake = i64::MAX;
        if self.entry[s].uniform_hours {
            let a = self.entry[s].admits(cal, self.now);
            if a == Admits::Nobody {
                let t = cal.next_works(now, None, true).map_or(i64::MAX, Timestamp::as_micros);
                self.entry[s].closed_until = t;
                wake = t;
            } else if self.entry[s].lanes.is_empty() {
                // No lanes recorded on this side for the direction: its agencies are not a
                // bottleneck, but they work only when the side lets the truck through.
                loop {
                    let q = &mut self.entry_queues[s];
                    let next = match a {
                        Admits::BookedOnly => q.call_booked(LaneClass::General).or_else(|| q.call_booked(LaneClass::Agv)),
                        _ => q.call(LaneClass::General).or_else(|| q.call(LaneClass::Agv)),
                    };
                    let Some(TruckId(id)) = next else { break };
                    self.start_entry(s, None, id as u32);
                }
            } else {
                let mut from = 0;
                while let Some(li) = self.entry[s].next_free(from) {
                    if self.entry[s].free == 0 || self.entry_queues[s].is_empty() {
                        break;
                    }
                    from = li + 1;
                    let class = self.entry[s].lanes[li].class;
                    let q = &mut self.entry_queues[s];
                    let called = if a == Admits::BookedOnly { q.call_booked(class) } else { q.call(class) };
                    if let Some(TruckId(id)) = called {
                        self.start_entry(s, Some(li), id as u32);
                    }
                }
            }
            if a == Admits::BookedOnly
                && !self.entry_queues[s].is_empty()
                && let Some(t) = cal.next_works(now, None, false)
            {
                // Unbooked trucks wait for the pre-registered-only window to end.
                wake = t.as_micros();
            }
        } else {
            for li in 0..self.entry[s].lanes.len() {
                let l = &self.entry[s].lanes[li];
                if l.busy.is_some() {
                    continue;
                }
                let (class, hours) = (l.class, lane_hours(m, &self.entry[s], li));
                if self.entry_queues[s].peek(class).is_none() {
                    continue;
                }
                let a = cal.admits(now, hours);
                let called = match a {
                    Admits::Nobody => None,
                    Admits::BookedOnly => self.entry_queues[s].call_booked(class),
                    Admits::Everyone => self.entry_queues[s].call(class),
                };
                match called {
                    Some(TruckId(id)) => self.start_entry(s, Some(li), id as u32),
                    None => {
                        if let Some(t) = cal.next_works(now, hours, a == Admits::Nobody) {
                            wake = wake.min(t.as_micros());
                        }
                    }
                }
            }
        }
        if wake < self.entry[s].wake_at {
            self.entry[s].wake_at = wake;
            self.schedule(wake, EV_WAKE_ENTRY, s as u32);
        }
    }

    fn start_entry(&mut self, s: usize, li: Option<usize>, id: u32) {
        let now = self.now;
        let booked = self.trucks[id as usize].slot.is_some();
        let st = &self.entry[s];
        let side_open = if st.uniform_hours {
            st.adm_until > now && st.adm.lets(booked)
        } else {
            let hours = li.and_then(|l| lane_hours(self.m, st, l));
            self.m.pairs[st.pair].sides[st.side].cal.works_at(Timestamp(now), hours, booked)
        };
        assert!(side_open, "no inspection starts while its side (or lane) is closed");
        if let Some(li) = li {
            self.entry[s].occupy(li, id);
        }
        let t = &mut self.trucks[id as usize];
        assert_eq!(t.place, Place::EntryQueue);
        t.place = Place::EntryLane;
        t.entry_start = now;
        let mut at = now;
        for i in t.handover + 1..t.trip.steps().len() {
            let who = officer(t.trip.steps()[i].0);
            at += t.durations[i];
            t.trip.pass(i, who, Timestamp(at), true).expect("entry steps run in order");
        }
        let wait = now - t.crossed;
        let measured = t.arrived >= self.measure_from;
        self.entry_area += self.measured_span(self.trucks[id as usize].crossed, now) as i128;
        if let Some(li) = li {
            self.entry[s].lanes[li].busy_us += self.measured_span(now, at);
        }
        if measured {
            self.out.wait_entry.add_us(wait);
        }
        self.n_entry_queue -= 1;
        self.n_entry_lane += 1;
        self.trucks[id as usize].entry_lane = li;
        self.schedule(at, EV_ENTRY_DONE, id);
    }

    fn on_entry_done(&mut self, id: u32) {
        let now = self.now;
        self.release(id);
        let t = &self.trucks[id as usize];
        let s = t.station;
        if let Some(li) = t.entry_lane {
            let freed = self.entry[s].vacate(li);
            assert_eq!(freed, Some(id), "the lane was serving this truck");
        }
        assert_eq!(t.place, Place::EntryLane);
        assert!(t.trip.is_cleared(), "a released truck passed every step");
        self.n_entry_lane -= 1;
        self.n_in -= 1;
        self.out.served += 1;
        self.in_flight[t.station] -= 1;
        if t.arrived >= self.measure_from {
            self.out.trs[3].add_us(now - t.crossed);
            let total_us = (t.called - t.arrived) + (t.entry_start - t.crossed);
            self.out.wait_total.add_us(total_us);
            self.out.measured += 1;
            self.out.wait_positive += (total_us > 0) as u64;
            let total = total_us as f64 / 1e6;
            for (k, th) in self.m.wait_thresholds_s.iter().enumerate() {
                self.out.wait_over[k] += (total > *th) as u64;
            }
            if t.spoils_at.is_some_and(|sp| sp < now) {
                self.out.spoiled += 1;
                self.out.spoiled_value += t.value;
            }
        }
        self.dispatch_entry(s);
        // A truck released on the far side frees no exit lane: it matters to the exit side's
        // round only through the far-side limit.
        if self.m.pairs[self.exit[s].pair].far_side_limit.is_some() {
            self.dispatch_exit(s);
        }
    }

    /// O(1), after every event: trucks are conserved across the places they can be.
    fn check_invariants(&self) {
        assert_eq!(
            self.n_in,
            self.n_yard + self.n_exit_lane + self.n_transit + self.n_entry_queue + self.n_entry_lane,
            "trucks are conserved"
        );
    }

    /// O(stations + lanes), once a simulated day and at the end: the counters agree with the
    /// queues and lanes themselves.
    fn check_structures(&self) {
        assert_eq!(self.n_yard as usize, self.yards.iter().map(Yard::len).sum::<usize>(), "every waiting truck is in exactly one queue");
        let busy = |st: &[Station]| st.iter().map(|s| s.lanes.iter().filter(|l| l.busy.is_some()).count()).sum::<usize>();
        assert_eq!(self.n_exit_lane as usize, busy(&self.exit), "exit lanes serve the trucks counted at them");
        for st in self.exit.iter().chain(&self.entry) {
            assert_eq!(st.free, st.lanes.iter().filter(|l| l.busy.is_none()).count(), "free-lane counts are right");
            let mask = st.lanes.iter().take(64).enumerate().filter(|(_, l)| l.busy.is_none()).fold(0u64, |m, (i, _)| m | 1 << i);
            assert_eq!(st.free_mask, mask, "the free-lane bits are the free lanes");
        }
        let entry_queued: usize = self.entry_queues.iter().map(CallForward::len).sum();
        assert_eq!(self.n_entry_queue as usize, entry_queued, "every crossed truck waits in one entry queue");
    }
}

fn officer(step: Step) -> (cuakhau_core::Side, cuakhau_core::Agency) {
    match step {
        Step::Agency { side, agency } => (side, agency),
        Step::Handover => (cuakhau_core::Side::Vn, cuakhau_core::Agency::BorderGuard),
    }
}

/// Day of the year (1–366) of a day number since 1970-01-01 (civil-from-days, proleptic Gregorian).
pub fn day_of_year(days: i64) -> i16 {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy_mar = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy_mar + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    // Day of year counted from 1 January.
    let d = doy_mar - (153 * mp + 2) / 5; // day of month − 1
    let cum = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    (cum[(m - 1) as usize] + d + 1 + if leap && m > 2 { 1 } else { 0 }) as i16
}

/// Runs one replication.
/// A truck as the simulator draws it, before any queueing.
#[derive(Debug, Clone, Copy)]
struct Drawn {
    pair: usize,
    commodity: usize,
    booked: bool,
    no_show: bool,
    /// The trip's label: the Vietnamese side's channel (green where it has its own names).
    channel: Channel,
    /// Each side's own channel (index into `Model::channels[side]`).
    channels: [u8; 2],
    durations: [i64; 8],
}

/// A generated arrival: the simulator's own draws (arrival process, gate pair split, commodity
/// mix, booking, channel, service times), without queueing. The demo day replays these through
/// the real server.
#[derive(Debug, Clone, PartialEq)]
pub struct Arrival {
    pub at_us: i64,
    pub pair: usize,
    pub direction: Direction,
    pub commodity: usize,
    pub booked: bool,
    pub no_show: bool,
    /// The Vietnamese side's channel as the core's colour (green where the side names its own).
    pub channel: Channel,
    /// Each side's own channel (VN, CN): an index into `Model::channels[side].names`.
    pub channels: [usize; 2],
    /// Service time of each step of the crossing, in plan order (µs).
    pub step_us: Vec<i64>,
}

/// Every arrival of the model's horizon, in time order, drawn exactly as `run` draws them for
/// the same seed.
pub fn generate(m: &Model, seed: u64) -> Vec<Arrival> {
    let mut sim = Sim::new(m, seed, false, false);
    let mut next: Vec<Option<i64>> = (0..m.flows.len()).map(|f| sim.next_arrival(f, m.start_us)).collect();
    let mut out = Vec::new();
    while let Some((f, t)) = next.iter().enumerate().filter_map(|(f, t)| t.map(|t| (f, t))).min_by_key(|(f, t)| (*t, *f)) {
        sim.now = t;
        let mut mix = Mix(sim.rng.next_u64());
        let d = sim.draw_truck(f, &mut mix);
        let fl = &m.flows[f];
        if fl.replay.is_some() {
            sim.replay_pos[f] += 1;
        }
        let steps = plan_iter(fl.direction, m.commodities[d.commodity].quarantine).count();
        out.push(Arrival {
            at_us: t,
            pair: d.pair,
            direction: fl.direction,
            commodity: d.commodity,
            booked: d.booked,
            no_show: d.no_show,
            channel: d.channel,
            channels: [d.channels[0] as usize, d.channels[1] as usize],
            step_us: d.durations[..steps].to_vec(),
        });
        next[f] = sim.next_arrival(f, t);
    }
    out
}

pub fn run(m: &Model, seed: u64, opts: &RunOptions<'_>) -> Result<RunStats, SimError> {
    let mut sim = Sim::new(m, seed, opts.record_series, opts.trace);
    let sample_us = (m.horizon_us / 20_000).max(US_PER_H);
    for f in 0..m.flows.len() {
        if let Some(t) = sim.next_arrival(f, m.start_us) {
            sim.schedule(t, EV_ARRIVE, f as u32);
        }
    }
    if opts.record_series {
        sim.schedule(m.start_us, EV_SAMPLE, 0);
    }
    let mut reported = m.start_us;
    while let Some(key) = sim.heap.pop() {
        let (t, packed) = event_of(key);
        let kind = ((packed >> 28) & 0xF) as u8;
        let arg = (packed & 0x0FFF_FFFF) as u32;
        if t > sim.end {
            break;
        }
        if kind != EV_SAMPLE {
            sim.out.events += 1;
        }
        if sim.out.events > m.max_events || sim.seq >= u32::MAX as u64 {
            return Err(SimError::Limit(format!("more than {} events (limits.max_events)", m.max_events)));
        }
        sim.now = t;
        match kind {
            EV_ARRIVE => sim.on_arrive(arg as usize),
            EV_BOOKED_ARRIVE => sim.enter_yard(arg),
            EV_EXIT_DONE => sim.on_exit_done((arg >> 8) as usize, (arg & 0xFF) as usize),
            EV_CROSSED => sim.on_crossed(arg),
            EV_ENTRY_DONE => sim.on_entry_done(arg),
            EV_WAKE_EXIT => {
                if t >= sim.exit[arg as usize].wake_at {
                    sim.exit[arg as usize].wake_at = i64::MAX;
                }
                sim.dispatch_exit(arg as usize);
            }
            EV_WAKE_ENTRY => {
                if t >= sim.entry[arg as usize].wake_at {
                    sim.entry[arg as usize].wake_at = i64::MAX;
                }
                sim.dispatch_entry(arg as usize);
            }
            EV_SAMPLE => {
                let n = sim.n_yard as u32;
                sim.out.queue_series.push(((t - m.start_us) as f64 / US_PER_H as f64, n));
                sim.out.entry_series.push(sim.n_entry_queue as u32);
                sim.schedule(t + sample_us, EV_SAMPLE, 0);
            }
            _ => unreachable!("unknown event kind {kind}"),
        }
        sim.check_invariants();
        if t - reported > US_PER_DAY {
            sim.check_structures();
            if let Some(p) = opts.progress {
                p.fetch_add((t - reported) as u64, Ordering::Relaxed);
            }
            reported = t;
        }
        // Drop booking counters of hours long past, so memory does not grow with the horizon.
        if sim.slot_book.len() > 50_000 {
            let cutoff = sim.now - 2 * US_PER_H;
            sim.slot_book.retain(|(_, h), _| *h >= cutoff);
        }
    }
    sim.check_structures();
    if let Some(p) = opts.progress {
        p.fetch_add((sim.end - reported).max(0) as u64, Ordering::Relaxed);
    }
    // Trucks still waiting at the end wait until the end.
    for (t, live) in sim.trucks.iter().zip(&sim.live) {
        match t.place {
            Place::Yard if *live => sim.queue_area += sim.measured_span(t.arrived, sim.end) as i128,
            Place::EntryQueue if *live => sim.entry_area += sim.measured_span(t.crossed, sim.end) as i128,
            _ => {}
        }
    }
    let measured_us = (sim.end - sim.measure_from) as f64;
    for h in [&mut sim.out.wait_exit, &mut sim.out.wait_entry, &mut sim.out.wait_total].into_iter().chain(&mut sim.out.trs) {
        h.count_pending();
    }
    sim.out.trs[0] = sim.out.wait_exit.clone();
    sim.out.in_system_end = sim.n_in;
    sim.out.mean_queue = sim.queue_area as f64 / measured_us;
    sim.out.mean_entry_queue = sim.entry_area as f64 / measured_us;
    sim.out.arrival_rate_h = sim.arrived_measured as f64 / (measured_us / US_PER_H as f64);
    for (stations, _which) in [(&sim.exit, "exit"), (&sim.entry, "entry")] {
        for st in stations.iter() {
            for l in &st.lanes {
                sim.out.lanes.push((
                    m.pairs[st.pair].id.clone(),
                    st.dir.code(),
                    if st.side == 0 { "VN" } else { "CN" },
                    lane_class_code(l.class),
                    l.busy_us as f64 / measured_us,
                ));
            }
        }
    }
    Ok(sim.out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Dist;

    /// Mean and the smallest and largest of `n` draws, in the distribution's units.
    fn draws(d: Dist, n: usize) -> (f64, f64, f64, Vec<i64>) {
        let s = Sampler::new(&d, 1e6);
        let mut mix = Mix(42);
        let v: Vec<i64> = (0..n).map(|_| mix.draw_us(&s)).collect();
        let mean = v.iter().sum::<i64>() as f64 / n as f64 / 1e6;
        (mean, *v.iter().min().unwrap() as f64 / 1e6, *v.iter().max().unwrap() as f64 / 1e6, v)
    }

    /// Counting the shares below a draw picks what searching for the first at least the draw
    /// picks, for shares with ties, zeros, a last one short of 1 and draws at the edges.
    #[test]
    fn a_cumulative_pick_is_the_first_share_at_least_the_draw() {
        let cums: [&[f64]; 5] = [&[1.0], &[0.3, 1.0], &[0.0, 0.0, 0.5, 0.5, 1.0], &[0.2, 0.7, 0.9999999999999999], &[0.7, 0.9, 1.0]];
        let mut mix = Mix(3);
        for cum in cums {
            let draws =
                [0.0, f64::MIN_POSITIVE, 0.2, 0.3, 0.5, 0.7, 0.9999999999999999, 1.0].into_iter().chain((0..1000).map(|_| mix.unit()));
            for u in draws {
                let searched = cum.iter().position(|c| u <= *c).unwrap_or(cum.len() - 1);
                assert_eq!(pick_cumulative(cum.iter().copied(), u, cum.len()), searched, "{cum:?} at {u}");
            }
        }
    }

    #[test]
    fn each_distribution_draws_what_it_says() {
        let n = 200_000;
        let (mean, lo, hi, _) = draws(Dist::Uniform { min: 2.0, max: 10.0 }, n);
        assert!((mean - 6.0).abs() < 0.03 && lo >= 2.0 && hi <= 10.0 && lo < 2.01 && hi > 9.99, "uniform: {mean} [{lo}, {hi}]");
        let (mean, lo, hi, v) = draws(Dist::Triangular { min: 1.0, mode: 2.0, max: 6.0 }, n);
        assert!((mean - 3.0).abs() < 0.02 && lo >= 1.0 && hi <= 6.0, "triangular: {mean} [{lo}, {hi}]");
        // The distribution function at the mode is (mode − min) / (max − min) = 0.2.
        let below_mode = v.iter().filter(|x| **x < 2_000_000).count() as f64 / n as f64;
        assert!((below_mode - 0.2).abs() < 0.005, "triangular below its mode: {below_mode}");
        let (mean, _, _, v) = draws(Dist::Empirical { values: vec![1.0, 2.0, 3.0], weights: Some(vec![1.0, 0.0, 3.0]) }, n);
        assert!(!v.contains(&2_000_000), "a value of weight 0 is never drawn");
        let threes = v.iter().filter(|x| **x == 3_000_000).count() as f64 / n as f64;
        assert!((threes - 0.75).abs() < 0.005 && (mean - 2.5).abs() < 0.01, "weighted: {threes} {mean}");
        let (mean, _, _, _) = draws(Dist::Empirical { values: vec![1.0, 2.0, 3.0], weights: None }, n);
        assert!((mean - 2.0).abs() < 0.01, "unweighted: {mean}");
        // The mean the model reports for each is the one drawn.
        for d in [Dist::Uniform { min: 2.0, max: 10.0 }, Dist::Triangular { min: 1.0, mode: 2.0, max: 6.0 }] {
            let want = Sampler::new(&d, 1e6).mean_us() / 1e6;
            assert!((draws(d, n).0 - want).abs() < 0.03);
        }
    }

    #[test]
    fn event_keys_order_as_their_instant_then_scheduling_order() {
        let events = [(i64::MIN, 5), (-1, u64::MAX), (-1, 0), (0, 7), (0, 3), (1, 0), (i64::MAX, 1)];
        for a in events {
            assert_eq!(event_of(event_key(a.0, a.1)), a);
            for b in events {
                assert_eq!(event_key(a.0, a.1).cmp(&event_key(b.0, b.1)), a.cmp(&b), "{a:?} against {b:?}");
            }
        }
    }

    /// Against a plain sort: both ways of holding events (few, then many) give them back in key order.
    #[test]
    fn events_come_back_in_key_order() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for pending in [10, 200] {
            let mut q = Events::default();
            let mut want = std::collections::BTreeSet::new();
            for step in 0..5000u64 {
                if want.len() < pending && next() % 3 != 0 {
                    let k = event_key((next() % 1000) as i64 - 500, step);
                    q.push(k);
                    want.insert(k);
                } else {
                    assert_eq!(q.pop(), want.pop_first());
                }
            }
            assert_eq!(q.use_heap, pending > Events::SORTED_MAX);
            while let Some(k) = want.pop_first() {
                assert_eq!(q.pop(), Some(k));
            }
            assert_eq!(q.pop(), None);
        }
    }

    #[test]
    fn no_draw_exceeds_the_cap() {
        let s = Sampler::Exponential { mean_us: MAX_DRAW_US as f64 };
        let mut mix = Mix(1);
        assert!((0..100_000).map(|_| mix.draw_us(&s)).all(|v| (0..=MAX_DRAW_US).contains(&v)));
        assert_eq!(Mix(1).draw_us(&Sampler::Deterministic { us: i64::MAX }), MAX_DRAW_US);
    }
}
