//! The live gate: where a truck stands between joining the queue and crossing, which trucks a
//! dispatch round calls to which free lanes, and what the public may see of a plate.
//!
//! Everything here is a pure function of its arguments; the server feeds it what the store holds
//! and writes back what it decides, and the simulator can call the same [`dispatch`].

use crate::goods::callforward::{CallForward, Policy, TruckId, WaitingTruck, far_side_has_room};
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
}

impl TripStatus {
    pub const ALL: [TripStatus; 6] =
        [TripStatus::Virtual, TripStatus::Yard, TripStatus::Called, TripStatus::Clearing, TripStatus::Done, TripStatus::Refused];
    pub fn code(self) -> &'static str {
        match self {
            TripStatus::Virtual => "virtual",
            TripStatus::Yard => "yard",
            TripStatus::Called => "called",
            TripStatus::Clearing => "clearing",
            TripStatus::Done => "done",
            TripStatus::Refused => "refused",
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
        matches!(self, TripStatus::Done | TripStatus::Refused)
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

/// One dispatch round: each free exit-side lane calls the best truck its class serves that can
/// answer, while the far side has room. `in_flight` counts trucks called or clearing and not yet
/// released by the entry side.
pub fn dispatch(
    free_lanes: &[(LaneId, LaneClass)],
    waiting: &[Candidate],
    rules: &GateRules,
    now: Timestamp,
    mut in_flight: u32,
    far_limit: u32,
) -> Vec<Call> {
    let mut cf = CallForward::new(rules.policy);
    for c in waiting.iter().filter(|c| can_answer(c, now, rules.answer_window_s)) {
        cf.add(c.truck);
    }
    let mut calls = Vec::new();
    // Specialised lanes choose first (AGV, then green lanes for perishables), so that a general
    // lane does not take the perishable truck a free green lane was waiting for.
    let mut lanes: Vec<&(LaneId, LaneClass)> = free_lanes.iter().collect();
    lanes.sort_by_key(|(_, c)| match c {
        LaneClass::Agv => 0,
        LaneClass::Perishable => 1,
        LaneClass::General => 2,
    });
    for (lane, class) in lanes {
        if !far_side_has_room(in_flight, far_limit) {
            break;
        }
        if let Some(truck) = cf.call(*class) {
            calls.push(Call { truck, lane: lane.clone(), deadline: now.plus_seconds(rules.answer_window_s) });
            in_flight += 1;
        }
    }
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
}
