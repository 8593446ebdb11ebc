//! The live gate: where a truck stands between joining the queue and crossing, which trucks a
//! dispatch round calls to which free lanes, and what the public may see of a plate.
//!
//! Everything here is a pure function of its arguments; the server feeds it what the store holds
//! and writes back what it decides, and the simulator keeps a [`Yard`] alive and calls the same round.

use crate::goods::callforward::{CallForward, Policy, TruckId, WaitingTruck, far_side_has_room};
use crate::goods::slots::Admits;
use crate::refdata::{Direction, Lane, LaneClass, LaneId, Side};
use crate::time::Timestamp;

/// Where a truck's trip stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TripStatus {
    /// In the virtual queue, still on the road (no slot needed).
    Virtual,
    /// Checked in at the yard, waiting to be called.
    Yard,
    /// Called to a lane; must reach it before the call's deadline or go back to the queue.
    Called,
    /// At a lane: clearance steps under way on either side.
    Clearing,
    /// Released by the entry side: the crossing is complete.
    Done,
    /// An agency refused the truck.
    Refused,
    /// Taken out of the queue before it was called, because its declaration was cancelled.
    Withdrawn,
}

impl TripStatus {
    pub const ALL: [TripStatus; 7] = [
        TripStatus::Virtual,
        TripStatus::Yard,
        TripStatus::Called,
        TripStatus::Clearing,
        TripStatus::Done,
        TripStatus::Refused,
        TripStatus::Withdrawn,
    ];
    pub fn code(self) -> &'static str {
        match self {
            TripStatus::Virtual => "virtual",
            TripStatus::Yard => "yard",
            TripStatus::Called => "called",
            TripStatus::Clearing => "clearing",
            TripStatus::Done => "done",
            TripStatus::Refused => "refused",
            TripStatus::Withdrawn => "withdrawn",
        }
    }
    pub fn parse(s: &str) -> Option<TripStatus> {
        TripStatus::ALL.into_iter().find(|t| t.code() == s)
    }
    /// Waiting to be called (in the yard or the virtual queue).
    pub fn is_waiting(self) -> bool {
        matches!(self, TripStatus::Virtual | TripStatus::Yard)
    }
    /// Finished, one way or the other.
    pub fn is_final(self) -> bool {
        matches!(self, TripStatus::Done | TripStatus::Refused | TripStatus::Withdrawn)
    }
}

/// What the declarant may do now with a declaration in `state` whose truck stands at `trip`:
/// codes `submit`, `amend`, `cancel`, `book` and `queue`, decided by the same rules that the store
/// applies (so a page never offers what the server would refuse).
pub fn declarant_actions(d: &crate::goods::Declaration, trip: Option<TripStatus>) -> Vec<&'static str> {
    use crate::goods::declaration::DeclEvent;
    let mut out = Vec::new();
    let events = [
        ("submit", DeclEvent::Submit),
        ("amend", DeclEvent::Amend { consignments: d.consignments.clone() }),
        ("cancel", DeclEvent::Cancel),
    ];
    for (code, event) in events {
        if declaration_change(&event, trip).is_ok() && d.apply(event).is_ok() {
            out.push(code);
        }
    }
    if matches!(d.state, crate::goods::DeclState::Accepted { .. }) && trip.is_none() {
        out.extend(["book", "queue"]);
    }
    out
}

/// Why a declarant's change is refused because of where the declaration's truck stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TripLocked {
    pub status: TripStatus,
    /// `amended` or `cancelled`.
    pub event: &'static str,
}

impl std::fmt::Display for TripLocked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the declaration cannot be {} while its truck is {}", self.event, self.status.code())
    }
}

/// What a declaration event does to the declaration's trip, if it has one.
///
/// The table, by trip status (no trip: every event the declaration's own rules allow):
///
/// | trip status                         | amend   | cancel              | submit, accept, reject |
/// |-------------------------------------|---------|---------------------|------------------------|
/// | virtual, yard (waiting, not called) | refused | allowed: withdrawn  | allowed                |
/// | called, clearing, done, refused     | refused | refused             | allowed                |
/// | withdrawn                           | allowed | allowed             | allowed                |
///
/// An amendment needs a new acceptance, which a truck already in the queue cannot wait for: the
/// declarant cancels and files anew. A called truck is at a lane; from then on the declaration is
/// what the officers clear and what the record keeps, so it never changes again. (Submit, accept
/// and reject cannot meet a live trip: a trip needs an accepted declaration, and only amend leaves
/// `accepted`.) `Ok(Some(status))` is the trip's new status.
pub fn declaration_change(
    event: &crate::goods::declaration::DeclEvent,
    trip: Option<TripStatus>,
) -> Result<Option<TripStatus>, TripLocked> {
    use crate::goods::declaration::DeclEvent;
    let Some(status) = trip else { return Ok(None) };
    match (event, status) {
        (_, TripStatus::Withdrawn) => Ok(None),
        (DeclEvent::Amend { .. }, _) => Err(TripLocked { status, event: "amended" }),
        (DeclEvent::Cancel, TripStatus::Virtual | TripStatus::Yard) => Ok(Some(TripStatus::Withdrawn)),
        (DeclEvent::Cancel, _) => Err(TripLocked { status, event: "cancelled" }),
        _ => Ok(None),
    }
}

/// Rules of a gate's dispatching.
#[derive(Debug, Clone, PartialEq)]
pub struct GateRules {
    pub policy: Policy,
    /// How long a called truck has to reach its lane.
    pub answer_window_s: i64,
    /// Trucks the yard holds.
    pub yard_capacity: u32,
}

impl Default for GateRules {
    fn default() -> Self {
        GateRules { policy: Policy::PerishablesFirst, answer_window_s: 15 * 60, yard_capacity: 500 }
    }
}

/// A waiting truck as dispatch sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub truck: WaitingTruck,
    pub status: TripStatus,
    /// The driver's last reported arrival time (virtual queue only).
    pub eta: Option<Timestamp>,
}

/// One call of a dispatch round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub truck: TruckId,
    pub lane: LaneId,
    pub deadline: Timestamp,
}

/// Can a truck answer a call made now? Trucks in the yard can; a truck on the road only if its
/// reported ETA brings it to the lane within the answer window (no ETA: it cannot).
pub fn can_answer(c: &Candidate, now: Timestamp, answer_window_s: i64) -> bool {
    match c.status {
        TripStatus::Yard => true,
        TripStatus::Virtual => c.eta.is_some_and(|eta| eta <= now.plus_seconds(answer_window_s)),
        _ => false,
    }
}

/// How many trucks the far side can take at once: its lanes' hourly capacity for the direction
/// (the exit side's when the far side has no lanes recorded).
pub fn far_side_limit(lanes: &[Lane], direction: Direction) -> u32 {
    let on =
        |side: Side| lanes.iter().filter(|l| l.side == side && l.direction == direction && l.active).map(|l| l.capacity_per_hour).sum();
    let far: u32 = on(direction.exit_side().other());
    if far > 0 { far } else { on(direction.exit_side()) }
}

/// The order in which free lanes choose in a round: specialised lanes first (AGV, then green
/// lanes for perishables), so that a general lane does not take the perishable truck a free
/// green lane was waiting for.
pub const LANE_ORDER: [LaneClass; 3] = [LaneClass::Agv, LaneClass::Perishable, LaneClass::General];

/// The yard of one gate pair and direction as dispatch sees it: the waiting trucks that can
/// answer a call, in the policy's order. The live server builds one for each round from what the
/// store holds ([`dispatch`]); the simulator keeps one alive for the whole run, adding trucks as
/// they check in. Either way a round is [`Yard::round`], the one dispatch of the project.
#[derive(Debug, Clone)]
pub struct Yard {
    queue: CallForward,
}

impl Yard {
    pub fn new(policy: Policy) -> Yard {
        Yard { queue: CallForward::new(policy) }
    }
    /// A truck checks in (or can answer again); false if it already waits.
    #[inline]
    pub fn add(&mut self, t: WaitingTruck) -> bool {
        self.queue.add(t)
    }
    /// A truck leaves the yard without being called.
    pub fn remove(&mut self, id: TruckId) -> bool {
        self.queue.remove(id)
    }
    #[inline]
    pub fn len(&self) -> usize {
        self.queue.len()
    }
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
    /// The waiting trucks in call order (peek, positions, counts).
    pub fn queue(&mut self) -> &mut CallForward {
        &mut self.queue
    }

    /// One dispatch round: each free exit-side lane, in [`LANE_ORDER`] (then in the order
    /// given), calls the best truck its class serves, while the far side has room. `admits` is
    /// what the exit side lets through now (a pre-registered-only window calls booked trucks
    /// only); `in_flight` counts trucks called or clearing and not yet released by the entry
    /// side. `call` is told each call; returns how many were made.
    pub fn round<L>(
        &mut self,
        free_lanes: &[(L, LaneClass)],
        admits: Admits,
        mut in_flight: u32,
        far_limit: u32,
        mut call: impl FnMut(TruckId, &L),
    ) -> u32 {
        let mut n = 0;
        if admits == Admits::Nobody || self.queue.is_empty() {
            return 0;
        }
        for class in LANE_ORDER {
            for (lane, _) in free_lanes.iter().filter(|(_, c)| *c == class) {
                if !far_side_has_room(in_flight, far_limit) || self.queue.is_empty() {
                    return n;
                }
                let truck = if admits == Admits::BookedOnly { self.queue.call_booked(class) } else { self.queue.call(class) };
                if let Some(truck) = truck {
                    call(truck, lane);
                    in_flight += 1;
                    n += 1;
                }
            }
        }
        n
    }
}

/// One dispatch round over trucks read from a store: the candidates that can answer form a
/// [`Yard`], and [`Yard::round`] calls them (the caller has already left out trucks the exit
/// side does not let through now, see [`crate::goods::slots::side_works_at`]). `in_flight`
/// counts trucks called or clearing and not yet released by the entry side.
pub fn dispatch(
    free_lanes: &[(LaneId, LaneClass)],
    waiting: &[Candidate],
    rules: &GateRules,
    now: Timestamp,
    in_flight: u32,
    far_limit: u32,
) -> Vec<Call> {
    let mut yard = Yard::new(rules.policy);
    for c in waiting.iter().filter(|c| can_answer(c, now, rules.answer_window_s)) {
        yard.add(c.truck);
    }
    let deadline = now.plus_seconds(rules.answer_window_s);
    let mut calls = Vec::new();
    yard.round(free_lanes, Admits::Everyone, in_flight, far_limit, |truck, lane| calls.push(Call { truck, lane: lane.clone(), deadline }));
    calls
}

/// The order in which waiting trucks would be called, with each one's place (1 = next), as the
/// queue board and the driver's view show it. Trucks that cannot answer yet keep their place.
pub fn queue_order(waiting: &[Candidate], policy: Policy) -> Vec<(TruckId, usize)> {
    let mut cf = CallForward::new(policy);
    for c in waiting {
        cf.add(c.truck);
    }
    let mut out: Vec<(TruckId, usize)> = waiting.iter().filter_map(|c| cf.position(c.truck.id).map(|p| (c.truck.id, p))).collect();
    out.sort_by_key(|(id, p)| (*p, *id));
    out
}

/// A plate as the public board shows it: the province prefix and the last two characters.
pub fn mask_plate(display: &str) -> String {
    let chars: Vec<char> = display.chars().collect();
    if chars.len() <= 4 {
        return "•".repeat(chars.len());
    }
    let keep_head = 3;
    let keep_tail = 2;
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < keep_head || i >= chars.len() - keep_tail || matches!(c, '-' | '.' | ' ') { *c } else { '•' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::refdata::GatePairId;

    fn cand(id: u64, status: TripStatus, spoils: Option<i64>, eta: Option<i64>) -> Candidate {
        Candidate {
            truck: WaitingTruck {
                id: TruckId(id),
                arrival_seq: id,
                slot: None,
                spoils_at: spoils.map(|s| Timestamp(s * 1_000_000)),
                class: if spoils.is_some() { LaneClass::Perishable } else { LaneClass::General },
            },
            status,
            eta: eta.map(|s| Timestamp(s * 1_000_000)),
        }
    }

    fn lane(id: &str, side: Side, cap: u32) -> Lane {
        Lane {
            id: LaneId::parse(id).unwrap(),
            gate_pair: GatePairId::parse("huu-nghi").unwrap(),
            side,
            direction: Direction::Export,
            class: LaneClass::General,
            name: id.into(),
            capacity_per_hour: cap,
            active: true,
            basis: "test".into(),
        }
    }

    #[test]
    fn dispatch_calls_perishables_first_and_skips_trucks_that_cannot_answer() {
        let now = Timestamp(0);
        let waiting = [
            cand(1, TripStatus::Yard, None, None),
            cand(2, TripStatus::Yard, Some(7200), None),
            // On the road, 2 h away: cannot reach a lane within 15 minutes.
            cand(3, TripStatus::Virtual, Some(3600), Some(7200)),
            // On the road, 10 minutes away: can.
            cand(4, TripStatus::Virtual, None, Some(600)),
        ];
        let lanes = [(LaneId::parse("a").unwrap(), LaneClass::General), (LaneId::parse("b").unwrap(), LaneClass::General)];
        // A green lane listed after a general one still gets the perishable truck.
        let mixed = [(LaneId::parse("a").unwrap(), LaneClass::General), (LaneId::parse("g").unwrap(), LaneClass::Perishable)];
        let calls = dispatch(&mixed, &waiting, &GateRules::default(), now, 0, 10);
        assert_eq!(calls.iter().map(|c| (c.truck.0, c.lane.as_str())).collect::<Vec<_>>(), vec![(2, "g"), (1, "a")]);
        let calls = dispatch(&lanes, &waiting, &GateRules::default(), now, 0, 10);
        assert_eq!(calls.iter().map(|c| c.truck.0).collect::<Vec<_>>(), vec![2, 1]);
        assert_eq!(calls[0].deadline, Timestamp(900 * 1_000_000));
        // The far side holds 9 of its 10: one call only.
        assert_eq!(dispatch(&lanes, &waiting, &GateRules::default(), now, 9, 10).len(), 1);
        assert!(dispatch(&lanes, &waiting, &GateRules::default(), now, 10, 10).is_empty());
        let fifo = GateRules { policy: Policy::Fifo, ..GateRules::default() };
        assert_eq!(dispatch(&lanes, &waiting, &fifo, now, 0, 10).iter().map(|c| c.truck.0).collect::<Vec<_>>(), vec![1, 2]);
    }

    #[test]
    fn a_kept_yard_calls_as_a_fresh_round_does_and_booked_only_windows_call_booked_trucks() {
        let booked = |id: u64, class| WaitingTruck { id: TruckId(id), arrival_seq: id, slot: Some(Timestamp(0)), spoils_at: None, class };
        let mut yard = Yard::new(Policy::Fifo);
        for c in [cand(1, TripStatus::Yard, None, None), cand(2, TripStatus::Yard, Some(50), None)] {
            yard.add(c.truck);
        }
        yard.add(booked(3, LaneClass::General));
        yard.add(booked(4, LaneClass::Agv));
        let lanes = [(7usize, LaneClass::General), (8, LaneClass::Agv), (9, LaneClass::General)];
        let mut got = vec![];
        assert_eq!(yard.round(&lanes, Admits::BookedOnly, 0, u32::MAX, |t, l| got.push((t.0, *l))), 2);
        assert_eq!(got, vec![(4, 8), (3, 7)], "AGV lane first, then booked trucks only");
        got.clear();
        assert_eq!(yard.round(&lanes, Admits::Nobody, 0, u32::MAX, |t, l| got.push((t.0, *l))), 0);
        assert_eq!(yard.round(&lanes, Admits::Everyone, 5, 6, |t, l| got.push((t.0, *l))), 1, "the far side takes one more");
        assert_eq!(got, vec![(1, 7)]);
        assert_eq!(yard.len(), 1);
    }

    #[test]
    fn queue_order_places_every_waiting_truck() {
        let waiting =
            [cand(1, TripStatus::Yard, None, None), cand(2, TripStatus::Yard, Some(10), None), cand(3, TripStatus::Virtual, None, None)];
        assert_eq!(queue_order(&waiting, Policy::PerishablesFirst), vec![(TruckId(2), 1), (TruckId(1), 2), (TruckId(3), 3)]);
    }

    #[test]
    fn far_side_limit_is_the_far_sides_lanes() {
        let lanes = [lane("vn-1", Side::Vn, 20), lane("cn-1", Side::Cn, 12), lane("cn-2", Side::Cn, 8)];
        assert_eq!(far_side_limit(&lanes, Direction::Export), 20);
        assert_eq!(far_side_limit(&lanes[..1], Direction::Export), 20, "no far-side lanes recorded: the exit side's");
        assert_eq!(far_side_limit(&lanes, Direction::Import), 0);
    }

    #[test]
    fn plates_are_masked_for_the_public() {
        assert_eq!(mask_plate("29C-12345"), "29C-•••45");
        assert_eq!(mask_plate("12C-123.45"), "12C-•••.45");
        assert_eq!(mask_plate("桂A12345"), "桂A1••45");
        assert_eq!(mask_plate("AB1"), "•••");
    }

    #[test]
    fn statuses_round_trip() {
        for s in TripStatus::ALL {
            assert_eq!(TripStatus::parse(s.code()), Some(s));
        }
        assert!(TripStatus::Yard.is_waiting() && !TripStatus::Called.is_waiting() && TripStatus::Refused.is_final());
    }

    /// Random sequences of declarant, customs, gate and officer acts: whatever happens, a
    /// declaration whose truck has been called never changes again, a cancelled declaration has
    /// no truck waiting, and every refusal changes nothing.
    #[test]
    fn no_sequence_of_acts_changes_a_declaration_once_its_truck_is_called() {
        use crate::goods::declaration::{DeclEvent, Declaration, tests::durian};
        let mut seed = 0x5eed_u64;
        let mut next = move || {
            // SplitMix64: reproducible from the seed above.
            seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = seed;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        let mut locked_seen = 0;
        for _ in 0..2_000 {
            let mut d = Declaration::new(vec![durian()]).unwrap();
            let mut trip: Option<TripStatus> = None;
            let mut frozen: Option<Declaration> = None;
            for _ in 0..30 {
                let before = (d.clone(), trip);
                match next() % 9 {
                    // Declarant and customs, through the one gate every caller goes through.
                    k @ 0..=4 => {
                        let event = match k {
                            0 => DeclEvent::Submit,
                            1 => DeclEvent::Accept { at: Timestamp(0), validity_h: 72 },
                            2 => DeclEvent::Reject { reasons: vec!["x".into()] },
                            3 => DeclEvent::Amend { consignments: vec![durian(), durian()] },
                            _ => DeclEvent::Cancel,
                        };
                        match declaration_change(&event, trip).map_err(|_| ()).and_then(|t| Ok((d.apply(event).map_err(|_| ())?, t))) {
                            Ok((nd, t)) => {
                                d = nd;
                                if t.is_some() {
                                    trip = t;
                                }
                            }
                            Err(()) => assert_eq!((d.clone(), trip), before, "a refusal changes nothing"),
                        }
                    }
                    // The truck joins the queue (only with a valid declaration, as the store checks).
                    5 if trip.is_none() && d.is_valid_at(Timestamp(0)) => {
                        trip = Some(if next() % 2 == 0 { TripStatus::Virtual } else { TripStatus::Yard })
                    }
                    6 if trip.is_some_and(TripStatus::is_waiting) => trip = Some(TripStatus::Called),
                    7 if trip == Some(TripStatus::Called) => trip = Some(TripStatus::Clearing),
                    8 if trip == Some(TripStatus::Clearing) => {
                        trip = Some(if next() % 4 == 0 { TripStatus::Refused } else { TripStatus::Done })
                    }
                    _ => {}
                }
                if matches!(trip, Some(TripStatus::Called | TripStatus::Clearing | TripStatus::Done | TripStatus::Refused)) {
                    let f = frozen.get_or_insert_with(|| d.clone());
                    assert_eq!(&d, f, "changed after the call");
                    locked_seen += 1;
                }
                if d.state.code() == "cancelled" {
                    assert!(!trip.is_some_and(TripStatus::is_waiting), "a cancelled declaration left a truck in the queue");
                }
                if trip == Some(TripStatus::Withdrawn) {
                    assert_eq!(d.state.code(), "cancelled");
                }
            }
        }
        assert!(locked_seen > 500, "the generator reaches called trucks ({locked_seen})");
    }

    #[test]
    fn the_declaration_change_table() {
        use crate::goods::declaration::{DeclEvent, tests::durian};
        let amend = DeclEvent::Amend { consignments: vec![durian()] };
        type Want = Result<Option<TripStatus>, ()>;
        let cases: [(Option<TripStatus>, Want, Want); 8] = [
            (None, Ok(None), Ok(None)),
            (Some(TripStatus::Virtual), Err(()), Ok(Some(TripStatus::Withdrawn))),
            (Some(TripStatus::Yard), Err(()), Ok(Some(TripStatus::Withdrawn))),
            (Some(TripStatus::Called), Err(()), Err(())),
            (Some(TripStatus::Clearing), Err(()), Err(())),
            (Some(TripStatus::Done), Err(()), Err(())),
            (Some(TripStatus::Refused), Err(()), Err(())),
            (Some(TripStatus::Withdrawn), Ok(None), Ok(None)),
        ];
        for (trip, amend_wants, cancel_wants) in cases {
            assert_eq!(declaration_change(&amend, trip).map_err(|_| ()), amend_wants, "amend at {trip:?}");
            assert_eq!(declaration_change(&DeclEvent::Cancel, trip).map_err(|_| ()), cancel_wants, "cancel at {trip:?}");
        }
        let e = declaration_change(&DeclEvent::Cancel, Some(TripStatus::Done)).unwrap_err();
        assert_eq!(e.to_string(), "the declaration cannot be cancelled while its truck is done");
    }
}
