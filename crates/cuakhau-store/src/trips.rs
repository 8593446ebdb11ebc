//! Stored shapes of the live gate: a truck's trip from the queue to the entry side's release,
//! the notification outbox, and how a trip's clearance steps are kept as JSON.

use crate::StoreError;
use cuakhau_core::auth::Agency;
use cuakhau_core::goods::callforward::{TruckId, WaitingTruck};
use cuakhau_core::goods::clearance::{Channel, Step, StepState, Trip};
use cuakhau_core::goods::dwell::Milestones;
use cuakhau_core::goods::gate::{Candidate, TripStatus};
use cuakhau_core::goods::parties::Plate;
use cuakhau_core::refdata::LaneClass;
use cuakhau_core::{DeclarationId, Direction, GatePairId, Side, Timestamp, TripId};
use serde_json::{Value, json};

/// A truck joining the virtual queue or checking in at the yard.
#[derive(Debug, Clone)]
pub struct NewTrip {
    pub declaration_id: DeclarationId,
    /// `Virtual` or `Yard`.
    pub status: TripStatus,
    pub class: LaneClass,
    /// The HS chapter (two digits) of the first consignment, for dwell-time groups.
    pub commodity: String,
    pub slot: Option<Timestamp>,
    pub spoils_at: Option<Timestamp>,
    /// The channel and steps chosen at check-in.
    pub trip: Trip,
    pub channel_reason: String,
    /// Trucks the yard holds; checking in past it is refused.
    pub yard_capacity: u32,
}

/// The driver's last reported position.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Position {
    pub lat: f64,
    pub lon: f64,
    pub at: Timestamp,
}

/// The infrastructure fee paid for the trip, with its receipt number.
#[derive(Debug, Clone, PartialEq)]
pub struct Fee {
    pub amount: f64,
    pub currency: String,
    pub receipt: String,
}

/// A stored trip.
#[derive(Debug, Clone, PartialEq)]
pub struct TripRecord {
    pub id: TripId,
    pub declaration_id: DeclarationId,
    pub gate_pair: GatePairId,
    pub direction: Direction,
    pub enterprise: String,
    pub plate: Plate,
    pub class: LaneClass,
    pub commodity: String,
    pub slot: Option<Timestamp>,
    pub spoils_at: Option<Timestamp>,
    pub status: TripStatus,
    pub joined_at: Timestamp,
    pub yard_at: Option<Timestamp>,
    pub called_at: Option<Timestamp>,
    pub call_deadline: Option<Timestamp>,
    /// How many times the truck was called (an unanswered call puts it back).
    pub calls: u32,
    pub lane: Option<String>,
    pub trip: Trip,
    pub channel_reason: String,
    pub eta: Option<Timestamp>,
    pub position: Option<Position>,
    pub fee: Option<Fee>,
    pub updated_at: Timestamp,
}

impl TripRecord {
    /// The Time Release Study milestones: arrival is the yard check-in (or joining the virtual
    /// queue for trucks called from the road).
    pub fn milestones(&self) -> Milestones {
        Milestones {
            arrival: Some(self.yard_at.unwrap_or(self.joined_at)),
            called: self.called_at,
            exit_release: self.trip.exit_release(),
            crossed: self.trip.crossed(),
            entry_release: self.trip.entry_release(),
        }
    }

    /// The trip as call-forward sees it.
    pub fn candidate(&self) -> Candidate {
        Candidate {
            truck: WaitingTruck {
                id: TruckId::from(self.id),
                arrival_seq: self.id.get() as u64,
                slot: self.slot,
                spoils_at: self.spoils_at,
                class: self.class,
            },
            status: self.status,
            eta: self.eta,
        }
    }
}

/// Which trips to list.
#[derive(Debug, Clone, Default)]
pub struct TripQuery<'a> {
    pub gate_pair: Option<&'a GatePairId>,
    pub direction: Option<Direction>,
    /// Any of these statuses; empty means all.
    pub statuses: &'a [TripStatus],
    /// Joined at or after.
    pub from: Option<Timestamp>,
    /// Joined before.
    pub until: Option<Timestamp>,
    /// At any of these gate pairs (a reader's scope); `None` is every pair, an empty list none.
    pub gate_pairs: Option<&'a [GatePairId]>,
    /// The cursor: only trips with a larger id.
    pub after: Option<TripId>,
    pub limit: u32,
}

/// A message waiting for the driver's gateway.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub id: i64,
    pub trip_id: TripId,
    pub kind: String,
    pub payload: String,
    pub attempts: u32,
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("trip: {e}"))
}

fn us(t: &Timestamp) -> Value {
    Value::from(t.as_micros())
}

/// A trip's steps as JSON: `[{"step": "VN:customs", "state": "passed", "at": µs, "reason": …}]`.
pub fn steps_json(t: &Trip) -> String {
    Value::Array(
        t.steps()
            .iter()
            .map(|(step, state)| {
                let mut o = json!({"step": step.code(), "state": state.code()});
                match state {
                    StepState::Pending => {}
                    StepState::InProgress { since } => o["since"] = us(since),
                    StepState::Held { since, reason } => {
                        o["since"] = us(since);
                        o["reason"] = reason.as_str().into();
                    }
                    StepState::Passed { at } => o["at"] = us(at),
                    StepState::Refused { at, reason } => {
                        o["at"] = us(at);
                        o["reason"] = reason.as_str().into();
                    }
                }
                o
            })
            .collect(),
    )
    .to_string()
}

/// Parses a step code (`VN:customs`, `handover`).
pub fn parse_step(code: &str) -> Option<Step> {
    if code == "handover" {
        return Some(Step::Handover);
    }
    let (side, agency) = code.split_once(':')?;
    Some(Step::Agency { side: Side::parse("step", side).ok()?, agency: Agency::parse(agency)? })
}

pub fn steps_from_json(direction: Direction, channel: Channel, text: &str) -> Result<Trip, StoreError> {
    let v: Vec<Value> = serde_json::from_str(text).map_err(corrupt)?;
    let t = |o: &Value, k: &str| o[k].as_i64().map(Timestamp).ok_or_else(|| corrupt(format!("step without {k}")));
    let reason = |o: &Value| o["reason"].as_str().unwrap_or_default().to_string();
    let steps = v
        .iter()
        .map(|o| {
            let code = o["step"].as_str().unwrap_or_default();
            let step = parse_step(code).ok_or_else(|| corrupt(format!("unknown step {code}")))?;
            let state = match o["state"].as_str().unwrap_or_default() {
                "pending" => StepState::Pending,
                "in-progress" => StepState::InProgress { since: t(o, "since")? },
                "held" => StepState::Held { since: t(o, "since")?, reason: reason(o) },
                "passed" => StepState::Passed { at: t(o, "at")? },
                "refused" => StepState::Refused { at: t(o, "at")?, reason: reason(o) },
                other => return Err(corrupt(format!("unknown step state {other}"))),
            };
            Ok((step, state))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Trip::from_steps(direction, channel, steps))
}

/// The trips a dwell-time report counts: every one that was called.
pub const REPORTED: &[TripStatus] = &[TripStatus::Called, TripStatus::Clearing, TripStatus::Done, TripStatus::Refused];

/// Ways to group the dwell-time report.
pub const DWELL_GROUPS: &[&str] = &["gate-pair", "direction", "day", "commodity", "channel"];

/// The group key of a trip for the dwell-time report: the parts `by` names, joined with " / ".
/// Days are the exit side's local dates of arrival.
pub fn dwell_group(t: &TripRecord, by: &[&str]) -> String {
    let arrival = t.yard_at.unwrap_or(t.joined_at);
    by.iter()
        .map(|g| match *g {
            "gate-pair" => t.gate_pair.as_str().to_string(),
            "direction" => t.direction.code().to_string(),
            "day" => arrival.to_rfc3339_in(t.direction.exit_side().zone())[..10].to_string(),
            "commodity" => format!("HS{}", t.commodity),
            _ => t.trip.channel.code().to_string(),
        })
        .collect::<Vec<_>>()
        .join(" / ")
}

/// The Time Release Study report of `trips` grouped by `by`: the milestone intervals, and per
/// agency step passed, the time from the previous release (or the call) to that step's release
/// (`agency-time`, in groups `GROUP / STEP`).
pub fn dwell_report<'a>(trips: impl IntoIterator<Item = &'a TripRecord>, by: &[&str]) -> cuakhau_core::goods::dwell::Report {
    let mut r = cuakhau_core::goods::dwell::Report::default();
    for t in trips {
        let group = dwell_group(t, by);
        r.add(&group, &t.milestones());
        let mut prev = t.called_at;
        for (step, state) in t.trip.steps() {
            if let StepState::Passed { at } = state {
                if let Some(p) = prev.filter(|p| at >= p) {
                    r.add_value(&format!("{group} / {}", step.code()), "agency-time", (at.as_micros() - p.as_micros()) as f64 / 1e6);
                }
                prev = Some(*at);
            }
        }
    }
    r
}

/// The report as CSV: `group,interval,n,mean_s,p50_s,p95_s,max_s`.
pub fn dwell_csv(r: &cuakhau_core::goods::dwell::Report) -> String {
    let field = |s: &str| if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() };
    let mut out = String::from("group,interval,n,mean_s,p50_s,p95_s,max_s\n");
    for (g, i, s) in r.rows() {
        out.push_str(&format!("{},{},{},{:.1},{:.1},{:.1},{:.1}\n", field(&g), i, s.n, s.mean, s.p50, s.p95, s.max));
    }
    out
}

/// A snapshot of a trip for the audit log.
pub fn snapshot(t: &TripRecord) -> String {
    json!({"id": t.id.get(), "declaration": t.declaration_id.get(), "gate_pair": t.gate_pair.as_str(), "direction": t.direction.code(),
           "plate": t.plate.display, "status": t.status.code(), "lane": t.lane, "channel": t.trip.channel.code(),
           "steps": serde_json::from_str::<Value>(&steps_json(&t.trip)).unwrap_or(Value::Null)})
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cuakhau_core::goods::clearance::{Act, Outcome};

    #[test]
    fn steps_survive_a_round_trip_through_json() {
        let mut t = Trip::new(Direction::Export, Channel::Yellow, true);
        let at = |s: i64| Timestamp(s * 1_000_000);
        t.act(0, (Side::Vn, Agency::Customs), Act::Start, at(1), true).unwrap();
        t.act(0, (Side::Vn, Agency::Customs), Act::Finish(Outcome::Pass), at(2), true).unwrap();
        t.act(1, (Side::Vn, Agency::BorderGuard), Act::Start, at(3), true).unwrap();
        t.act(1, (Side::Vn, Agency::BorderGuard), Act::Finish(Outcome::Hold { reason: "seal".into() }), at(4), true).unwrap();
        let back = steps_from_json(Direction::Export, Channel::Yellow, &steps_json(&t)).unwrap();
        assert_eq!(back, t);
        assert!(steps_from_json(Direction::Export, Channel::Green, r#"[{"step":"XX:customs","state":"pending"}]"#).is_err());
        assert!(steps_from_json(Direction::Export, Channel::Green, r#"[{"step":"handover","state":"passed"}]"#).is_err());
    }
}
