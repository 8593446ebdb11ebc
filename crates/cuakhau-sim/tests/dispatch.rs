//! The simulator calls the same trucks to the same lanes at the same instants as the live
//! server's dispatch would.
//!
//! A traced run records every check-in at the exit yard (with the truck's class, slot, spoil-by
//! time and service times) and every call. A reference loop written here plays those same trucks
//! the way the server does: at every event and at every whole minute it runs a round — the
//! waiting trucks the exit side lets through now (`side_works_at`, as `run_round` filters them),
//! the lanes not held, the trucks in flight, through `cuakhau_core::goods::gate::dispatch` — and
//! holds each called truck at its lane for its service time, then across the line, then at the
//! entry side while that side works for it. Every call (truck, lane, instant) must agree.

use cuakhau_core::goods::callforward::{Policy, TruckId, WaitingTruck};
use cuakhau_core::goods::gate::{Candidate, GateRules, TripStatus, dispatch};
use cuakhau_core::goods::slots::{Suspension, side_works_at};
use cuakhau_core::{LaneId, Side, Timestamp};
use cuakhau_sim::engine::Traced;
use cuakhau_sim::{Model, RunOptions, Scenario, run};
use std::collections::BTreeMap;
use std::path::Path;

/// Daily hours, full closures on both sides, a pre-registered-only window, booked trucks,
/// perishables, AGV and green lanes, and a far side that takes three trucks at a time.
const LIVE: &str = r#"
name = "dispatch as the server calls it"
start = "2027-02-01T00:00:00+07:00"
horizon_days = 12
seed = 5
policy = "perishables-first"
[[gate_pairs]]
id = "a"
travel_time_min = 7
far_side_limit = 3
[gate_pairs.vn]
opens = "07:00"
closes = "19:00"
closures = [
  { from = "2027-02-03T10:00:00+07:00", until = "2027-02-03T13:30:00+07:00" },
  { from = "2027-02-05T07:00:00+07:00", until = "2027-02-06T12:00:00+07:00", preregistered_only = true },
]
lanes = [{ direction = "export", count = 2 }, { direction = "export", class = "perishable", count = 1 }, { direction = "export", class = "agv", count = 1 }]
[gate_pairs.cn]
opens = "08:00"
closes = "20:00"
closures = [{ from = "2027-02-08T09:00:00+08:00", until = "2027-02-08T15:00:00+08:00" }]
[[flows]]
direction = "export"
trucks_per_day = 90
booked_share = 0.4
[[commodities]]
name = "durian"
share = 0.35
perishable = true
shelf_life_h = 60
age_h = { kind = "uniform", min = 0, max = 36 }
[[commodities]]
name = "containers"
share = 0.15
agv = true
[[commodities]]
name = "general"
share = 0.5
[channels]
green = 0.7
yellow = 0.2
red = 0.1
[[service]]
side = "VN"
agency = "customs"
time = { kind = "lognormal", mean = 20, sigma = 0.6 }
[[service]]
side = "CN"
agency = "customs"
time = { kind = "exponential", mean = 25 }
"#;

/// Hoành Mô's split hours (08:00–09:00 and 15:00–16:00, Monday to Friday), a holiday, a lane
/// with hours of its own past the side's, and a Chinese side open Monday to Saturday.
const WINDOWS: &str = r#"
name = "split hours"
start = "2027-02-01T00:00:00+07:00"
horizon_days = 15
seed = 8
policy = "fifo"
[[gate_pairs]]
id = "hoanh-mo"
travel_time_min = 4
far_side_limit = 4
[gate_pairs.vn]
windows = [{ days = "mon-fri", opens = "08:00", closes = "09:00" }, { days = "mon-fri", opens = "15:00", closes = "16:00" }]
holidays = ["2027-02-09"]
lanes = [{ direction = "export", count = 2 }, { direction = "export", count = 1, opens = "20:00", closes = "01:30" }]
[gate_pairs.cn]
windows = [{ days = "mon-sat", opens = "08:00", closes = "17:00" }]
[[flows]]
direction = "export"
trucks_per_day = 14
[[commodities]]
name = "general"
share = 1
[[service]]
side = "VN"
agency = "customs"
time = { kind = "lognormal", mean = 18, sigma = 0.5 }
[[service]]
side = "CN"
agency = "customs"
time = { kind = "exponential", mean = 30 }
"#;

fn model(text: &str) -> Model {
    Model::compile(&Scenario::from_toml(text).unwrap(), Path::new(".")).unwrap()
}

/// A check-in as traced.
#[derive(Clone, Copy)]
struct Truck {
    at: i64,
    w: WaitingTruck,
    exit_us: i64,
    cross_us: i64,
    entry_us: i64,
}

/// (truck, lane, instant) for every call of exit station 0, in order.
type Calls = Vec<(u64, usize, i64)>;

fn simulated(m: &Model, seed: u64) -> (Vec<Truck>, Calls) {
    let r = run(m, seed, &RunOptions { trace: true, ..Default::default() }).unwrap();
    let mut trucks = Vec::new();
    let mut calls = Vec::new();
    for t in r.trace {
        match t {
            Traced::Yard { station: 0, at, truck, exit_us, cross_us, entry_us } => {
                trucks.push(Truck { at, w: truck, exit_us, cross_us, entry_us })
            }
            Traced::Call { station: 0, truck, lane, at } => calls.push((truck, lane, at)),
            other => panic!("only exit station 0 has trucks here: {other:?}"),
        }
    }
    (trucks, calls)
}

/// Whether a side lets a truck through: (side, exit lane or none, instant, booked).
type Works<'a> = dyn Fn(Side, Option<usize>, Timestamp, bool) -> bool + 'a;

/// The live gate's rounds over the same trucks.
fn reference(
    trucks: &[Truck],
    lanes: &[cuakhau_core::refdata::LaneClass],
    rules: &GateRules,
    far: u32,
    end: i64,
    works: &Works<'_>,
) -> Calls {
    const MIN: i64 = 60_000_000;
    let ids: Vec<LaneId> = (0..lanes.len()).map(|i| LaneId::parse(&format!("lane-{i}")).unwrap()).collect();
    // Pending instants: check-ins, lane releases, crossings, entry releases.
    let mut events: BTreeMap<i64, Vec<(u8, usize)>> = BTreeMap::new();
    for (i, t) in trucks.iter().enumerate() {
        events.entry(t.at).or_default().push((0, i));
    }
    let by_id: BTreeMap<u64, usize> = trucks.iter().enumerate().map(|(i, t)| (t.w.id.0, i)).collect();
    let mut waiting: Vec<usize> = Vec::new();
    let mut held: Vec<Option<usize>> = vec![None; lanes.len()];
    let mut crossed: Vec<usize> = Vec::new();
    let mut in_flight = 0u32;
    let mut calls = Vec::new();
    let mut now = trucks.first().map_or(end, |t| t.at);
    now -= now.rem_euclid(MIN);
    while now <= end {
        for (kind, i) in events.remove(&now).unwrap_or_default() {
            let t = &trucks[i];
            match kind {
                0 => waiting.push(i),
                1 => {
                    let lane = held.iter().position(|h| *h == Some(i)).unwrap();
                    held[lane] = None;
                    events.entry(now + t.cross_us).or_default().push((2, i));
                }
                2 => crossed.push(i),
                _ => in_flight -= 1,
            }
        }
        // The entry side starts each crossed truck while it works for it.
        crossed.retain(|&i| {
            let t = &trucks[i];
            if works(Side::Cn, None, Timestamp(now), t.w.slot.is_some()) {
                events.entry(now + t.entry_us).or_default().push((3, i));
                false
            } else {
                true
            }
        });
        // The round, as run_round makes it.
        let free: Vec<_> = (0..lanes.len())
            .filter(|l| held[*l].is_none() && works(Side::Vn, Some(*l), Timestamp(now), true))
            .map(|l| (ids[l].clone(), lanes[l]))
            .collect();
        let (open, open_booked) = (works(Side::Vn, None, Timestamp(now), false), works(Side::Vn, None, Timestamp(now), true));
        let candidates: Vec<Candidate> = waiting
            .iter()
            .map(|&i| trucks[i].w)
            .filter(|w| if w.slot.is_some() { open_booked } else { open })
            .map(|w| Candidate { truck: w, status: TripStatus::Yard, eta: None })
            .collect();
        if !free.is_empty() && !candidates.is_empty() {
            for c in dispatch(&free, &candidates, rules, Timestamp(now), in_flight, far) {
                let i = by_id[&c.truck.0];
                let lane = ids.iter().position(|l| *l == c.lane).unwrap();
                waiting.retain(|w| *w != i);
                held[lane] = Some(i);
                in_flight += 1;
                calls.push((c.truck.0, lane, now));
                events.entry(now + trucks[i].exit_us).or_default().push((1, i));
            }
        }
        // On to the next event or whole minute, whichever comes first.
        let next_minute = now - now.rem_euclid(MIN) + MIN;
        now = events.keys().next().map_or(next_minute, |k| (*k).min(next_minute));
    }
    calls
}

fn exit_lanes(m: &Model) -> Vec<cuakhau_core::refdata::LaneClass> {
    m.pairs[0].sides[0].lanes[0].clone()
}

fn suspensions(m: &Model) -> Vec<Suspension> {
    m.pairs[0].sides.iter().flat_map(|s| s.cal.suspensions().iter().cloned()).collect()
}

#[test]
fn the_simulator_calls_what_the_live_gates_dispatch_calls() {
    let m = model(LIVE);
    let (trucks, sim_calls) = simulated(&m, 21);
    let end = m.start_us + m.horizon_us;
    let (pair, sus) = (&m.pairs[0].core_pair, suspensions(&m));
    // Exactly the server's question: the gate pair's hours in each side's zone and its suspensions.
    let server_works = |side: Side, _lane: Option<usize>, t: Timestamp, booked: bool| side_works_at(pair, &sus, side, t, booked);
    let rules = GateRules { policy: Policy::PerishablesFirst, ..GateRules::default() };
    let live = reference(&trucks, &exit_lanes(&m), &rules, 3, end, &server_works);
    assert!(sim_calls.len() > 400, "twelve days of calls ({})", sim_calls.len());
    let booked_in_window =
        sim_calls.iter().filter(|(_, _, at)| (m.start_us + 4 * 86_400_000_000..m.start_us + 5 * 86_400_000_000).contains(at)).count();
    assert!(booked_in_window > 0, "booked trucks cross in the pre-registered-only window");
    first_difference(&sim_calls, &live);
    // The comparison sees a different policy, and a gate that ignores suspensions.
    let fifo = GateRules { policy: Policy::Fifo, ..GateRules::default() };
    assert_ne!(sim_calls, reference(&trucks, &exit_lanes(&m), &fifo, 3, end, &server_works), "FIFO calls other trucks");
    let no_sus = |side: Side, _: Option<usize>, t: Timestamp, booked: bool| side_works_at(pair, &[], side, t, booked);
    assert_ne!(sim_calls, reference(&trucks, &exit_lanes(&m), &rules, 3, end, &no_sus), "suspensions change the calls");
    assert_ne!(sim_calls, reference(&trucks, &exit_lanes(&m), &rules, 4, end, &server_works), "so does the far side's limit");
}

#[test]
fn split_hours_holidays_and_lane_hours_call_as_the_live_gate_would() {
    let m = model(WINDOWS);
    let (trucks, sim_calls) = simulated(&m, 4);
    let end = m.start_us + m.horizon_us;
    let lane_hours = &m.pairs[0].sides[0].lane_hours[0];
    // The one opening-hours model: each side's calendar, a lane's own hours in place of its side's.
    let works = |side: Side, lane: Option<usize>, t: Timestamp, booked: bool| {
        let s = &m.pairs[0].sides[if side == Side::Vn { 0 } else { 1 }];
        s.cal.works_at(t, lane.and_then(|l| lane_hours[l].as_ref()), booked)
    };
    // The side's own hours decide for candidates; lanes with their own hours take trucks then.
    let lane_works = |side: Side, lane: Option<usize>, t: Timestamp, booked: bool| match lane {
        Some(_) => works(side, lane, t, booked),
        None if side == Side::Vn => (0..lane_hours.len()).any(|l| works(side, Some(l), t, booked)),
        None => works(side, None, t, booked),
    };
    let live = reference(&trucks, &exit_lanes(&m), &GateRules { policy: Policy::Fifo, ..GateRules::default() }, 4, end, &lane_works);
    assert!(sim_calls.len() > 100, "calls in a fortnight of split hours ({})", sim_calls.len());
    let at = |s: &str| cuakhau_core::time::parse_rfc3339(s).unwrap().as_micros();
    let in_window = |t: i64, a: &str, b: &str| (at(a)..at(b)).contains(&t);
    assert!(sim_calls.iter().any(|c| in_window(c.2, "2027-02-01T15:00:00+07:00", "2027-02-01T16:00:00+07:00")), "the afternoon window");
    assert!(
        sim_calls.iter().any(|c| c.1 == 2 && in_window(c.2, "2027-02-06T00:00:00+07:00", "2027-02-07T00:00:00+07:00")),
        "the night lane works on Saturday"
    );
    assert!(!sim_calls.iter().any(|c| in_window(c.2, "2027-02-09T00:00:00+07:00", "2027-02-10T00:00:00+07:00")), "nobody on the holiday");
    first_difference(&sim_calls, &live);
}

/// Fails naming the first call where the two disagree.
fn first_difference(sim: &Calls, live: &Calls) {
    for (i, (a, b)) in sim.iter().zip(live).enumerate() {
        assert_eq!(a, b, "call {i}: simulator (truck, lane, µs) against the live gate's dispatch");
    }
    assert_eq!(sim.len(), live.len(), "as many calls");
}

#[test]
fn a_truck_is_the_same_in_the_trace_and_in_generate() {
    let m = model(LIVE);
    let (trucks, _) = simulated(&m, 21);
    let drawn = cuakhau_sim::generate(&m, 21);
    // Unbooked trucks check in when they arrive; their number is their place in `generate`.
    for t in trucks.iter().filter(|t| t.w.slot.is_none()) {
        assert_eq!(drawn[t.w.id.0 as usize].at_us, t.at);
    }
    assert_eq!(trucks.iter().map(|t| t.w.id).collect::<std::collections::BTreeSet<TruckId>>().len(), trucks.len());
}
