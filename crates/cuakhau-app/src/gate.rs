//! The live gate: yard check-in by plate, the virtual queue, dispatch rounds that call trucks to
//! free lanes, the officers' clearance acts and worklist, fees, the queue board's data and the
//! driver's own view, and the notifications the background loop delivers.
//!
//! Every decision is the core's (`goods::gate::dispatch`, `Trip::act`, `select_channel`); this
//! module gathers what those functions need from the store and writes back what they decide,
//! then publishes the change on the event bus.

use crate::goods::BucketUse;
use crate::{App, AppError, Principal, Result, What};
use cuakhau_core::auth::{Action, Agency, Role};
use cuakhau_core::goods::callforward::estimated_wait_s;
use cuakhau_core::goods::clearance::{Act, ClearanceError, Step, Trip, select_channel};
use cuakhau_core::goods::gate::{self as core_gate, TripStatus};
use cuakhau_core::goods::parties::{Plate, VehicleKind};
use cuakhau_core::goods::slots::{CongestionLevel, SideCalendar, SlotPolicy, side_works_at};
use cuakhau_core::refdata::LaneClass;
use cuakhau_core::{BookingId, DeclarationId, Direction, FieldError, GatePairId, Lane, Problem, Side, Timestamp, TripId};
use cuakhau_store::goods::{Booking, DeclarationRecord};
use cuakhau_store::trips::{Fee, NewTrip, Notification, Position, TripQuery, TripRecord};
use cuakhau_store::{Actor, Store};

/// A trip's position may be reported once in this many seconds.
pub const POSITION_EVERY_S: i64 = 10;
/// Position reports one client address may send at once (several phones behind one carrier
/// address, each with its trip)…
pub const POSITIONS_BURST: u32 = 30;
/// … and then one every this many milliseconds.
pub const POSITIONS_EVERY_MS: i64 = 1000;

/// The live gate's use cases.
#[derive(Debug, Clone, Copy)]
pub struct Gate<'a>(pub(crate) &'a App);

/// What a dispatch round did.
#[derive(Debug, Clone, Default)]
pub struct Round {
    /// Trips whose call went unanswered and who went back to the queue.
    pub requeued: Vec<TripId>,
    /// Bookings released because their truck never came.
    pub no_shows: Vec<BookingId>,
    pub called: Vec<TripRecord>,
}

/// A gate pair's live queue in one direction: what its board shows.
#[derive(Debug, Clone)]
pub struct Board {
    pub gate_pair: GatePairId,
    pub direction: Direction,
    pub at: Timestamp,
    /// Open now on each side (`None`: hours not known).
    pub vn_open: Option<bool>,
    pub cn_open: Option<bool>,
    pub congestion: CongestionLevel,
    pub waiting_both_directions: u64,
    pub yard: u32,
    pub virtual_queue: u32,
    pub called: u32,
    pub clearing: u32,
    pub far_side_limit: u32,
    pub expected_wait_s: Option<i64>,
    pub lanes: Vec<LaneState>,
    /// The next six hours of the slot calendar.
    pub booked_ahead: Vec<(Timestamp, u32, u32)>,
    pub queue: Vec<QueueEntry>,
    /// True when this database holds the generated demo day.
    pub demo: bool,
    /// Read from a replica this many seconds behind the primary (`None`: read from the primary).
    pub replica_lag_s: Option<f64>,
    /// The data is at least as fresh as this: `at`, less the replica's lag.
    pub as_of: Timestamp,
    /// Every change committed up to this audit sequence number is in it (the store's last entry,
    /// read before the board): the same number on every process over one database, so a live
    /// stream's event id and a reconnecting viewer's `Last-Event-ID` can be compared.
    pub changes: i64,
    /// The next instant after `at` at which the board says something else with no change
    /// committed: either side starts or stops letting trucks through (its hours, a suspension or
    /// a window for pre-registered trucks only begins or ends; which side is open, who is
    /// expected when), or the next hour begins (the hours ahead it shows).
    pub turns_at: Timestamp,
    /// Where it was read.
    pub source: crate::ReadSource,
}

/// A lane and the truck on it.
#[derive(Debug, Clone)]
pub struct LaneState {
    pub lane: Lane,
    /// Its number among the lanes of its side and direction (`refdata::lane_number`).
    pub number: usize,
    /// Masked unless the board is detailed.
    pub plate: Option<String>,
    pub trip_status: Option<TripStatus>,
}

/// A truck waiting, in call order.
#[derive(Debug, Clone)]
pub struct QueueEntry {
    pub position: usize,
    /// Masked unless the board is detailed.
    pub plate: String,
    pub class: LaneClass,
    pub status: TripStatus,
    pub booked: bool,
    pub estimated_call: Option<Timestamp>,
    /// Only on detailed boards.
    pub trip_id: Option<TripId>,
}

/// What a driver sees of their declaration.
#[derive(Debug, Clone)]
pub struct Tracking {
    pub declaration: DeclarationRecord,
    pub trip: Option<TripRecord>,
    pub booking: Option<Booking>,
    /// The truck's place in the queue, when waiting.
    pub entry: Option<QueueEntry>,
    pub waiting_total: usize,
    /// The gate the truck leaves from (the exit side's), for naming it in the driver's language.
    pub exit_gate: cuakhau_core::refdata::Gate,
    /// The called lane's number among its side's lanes and its class.
    pub lane: Option<(usize, LaneClass)>,
    /// Read from a replica this many seconds behind the primary (`None`: read from the primary).
    pub replica_lag_s: Option<f64>,
    /// The data is at least as fresh as this (now, less the replica's lag).
    pub as_of: Timestamp,
    /// Where it was read.
    pub source: crate::ReadSource,
}

/// Hourly capacity of the exit-side lanes a truck of `class` may use.
fn serving_capacity(lanes: &[Lane], direction: Direction, class: LaneClass) -> u32 {
    lanes
        .iter()
        .filter(|l| l.side == direction.exit_side() && l.direction == direction && l.active)
        .filter(|l| match class {
            LaneClass::Agv => l.class == LaneClass::Agv,
            _ => l.class != LaneClass::Agv,
        })
        .map(|l| l.capacity_per_hour)
        .sum()
}

/// The officer's (side, agency) that may act on `step` of a trip at `pair`, from the roles.
fn officer_for(who: &Principal, pair: &GatePairId, step: &Step, direction: Direction) -> Result<(Side, Agency)> {
    who.signed_in()?;
    let want: Vec<(Side, Agency)> = match step {
        Step::Agency { side, agency } => vec![(*side, *agency)],
        // The hand-over is confirmed by a border guard of either side.
        Step::Handover => vec![(direction.exit_side(), Agency::BorderGuard), (direction.exit_side().other(), Agency::BorderGuard)],
    };
    want.into_iter()
        .find(|(side, agency)| who.may(Action::ActOnStep { gate_pair: pair, side: *side, agency: *agency }))
        .ok_or(AppError::Step(ClearanceError::NotYourStep))
}

impl Gate<'_> {
    /// Builds the trip a declaration starts when it joins a queue: its lane class, commodity,
    /// slot, spoil-by time, channel (by the risk rules) and clearance steps.
    pub async fn new_trip(&self, d: &DeclarationRecord, status: TripStatus, now: Timestamp) -> Result<NewTrip> {
        let config = self.0.config();
        let booking = self.0.store().live_booking(d.id).await?;
        let class = if d.vehicle_kind == VehicleKind::Agv {
            LaneClass::Agv
        } else if d.declaration.is_perishable() {
            LaneClass::Perishable
        } else {
            LaneClass::General
        };
        let (channel, reason) = select_channel(&config.risk_rules, &d.declaration);
        Ok(NewTrip {
            declaration_id: d.id,
            status,
            class,
            commodity: d.declaration.consignments.first().map(|c| c.hs.as_str()[..2].to_string()).unwrap_or_default(),
            slot: booking.map(|b| b.hour),
            spoils_at: d.declaration.shelf_life_h().map(|h| now.plus_seconds(h as i64 * 3600)),
            trip: Trip::new(d.direction, channel, d.declaration.needs_quarantine()),
            channel_reason: reason,
            yard_capacity: config.gate_rules.yard_capacity,
        })
    }

    /// A camera (or an officer) read `plate` at the yard of `pair`: the accepted declaration
    /// waiting for it starts a trip. Only someone who runs a yard of this pair may ask.
    pub async fn yard_check_in(&self, who: &Principal, pair: &GatePairId, plate: &str) -> Result<TripRecord> {
        who.signed_in()?;
        if !who.may(Action::OperateGate { gate_pair: pair, side: Side::Vn })
            && !who.may(Action::OperateGate { gate_pair: pair, side: Side::Cn })
        {
            return Err(AppError::Forbidden);
        }
        let key = Plate::key_of(plate);
        if key.len() < 4 {
            return Err(AppError::Invalid(FieldError::new("plate", Problem::Other("a plate as read at the gate"))));
        }
        let now = self.0.now();
        let d =
            self.0.store().declaration_for_plate(pair, &key, now).await?.ok_or_else(|| {
                AppError::NotFound(What::DeclarationForPlate { plate: plate.trim().into(), gate_pair: pair.as_str().into() })
            })?;
        let user = who.require(Action::OperateGate { gate_pair: pair, side: d.direction.exit_side() })?;
        let t = self.new_trip(&d, TripStatus::Yard, now).await?;
        let rec = self.0.store().join_queue(t, Actor { name: &user.username, at: now }).await?;
        self.0.events().publish(pair);
        Ok(rec)
    }

    /// The declarant puts the truck in the virtual queue before it reaches the yard.
    pub async fn join_virtual_queue(&self, who: &Principal, id: DeclarationId) -> Result<TripRecord> {
        let d = self.0.goods().declaration(who, id).await?;
        let user = who.require(Action::Declare { enterprise: &d.enterprise })?;
        let now = self.0.now();
        let t = self.new_trip(&d, TripStatus::Virtual, now).await?;
        let rec = self.0.store().join_queue(t, Actor { name: &user.username, at: now }).await?;
        self.0.events().publish(&d.gate_pair);
        Ok(rec)
    }

    /// The trip of a declaration the principal may read.
    pub async fn trip_of_declaration(&self, who: &Principal, id: DeclarationId) -> Result<TripRecord> {
        self.0.goods().declaration(who, id).await?;
        self.0.store().trip_of_declaration(id).await?.ok_or(AppError::NotFound(What::TripOf(id)))
    }

    /// One dispatch round at a gate pair in a direction, on behalf of `actor`: unanswered calls
    /// go back to the queue, no-shows lose their slots, then each free exit-side lane calls the
    /// truck the core picks.
    pub async fn run_round(&self, pair: &GatePairId, direction: Direction, actor: &str) -> Result<Round> {
        let app = self.0;
        let store = app.store();
        let now = app.now();
        let (gp, lanes) = app.reference().pair_with_lanes(pair).await?;
        let who = Actor { name: actor, at: now };
        let requeued = store.requeue_unanswered(pair, now, who.clone()).await?;
        let no_shows = store.release_no_shows(pair, now.plus_seconds(-SlotPolicy::default().no_show_grace_s), who.clone()).await?;
        let trips = store
            .trips(TripQuery {
                gate_pair: Some(pair),
                direction: Some(direction),
                statuses: &[TripStatus::Virtual, TripStatus::Yard, TripStatus::Called, TripStatus::Clearing],
                ..Default::default()
            })
            .await?;
        let exit = direction.exit_side();
        let suspensions = app.reference().suspensions_at(pair, now).await?;
        let held: Vec<&str> = trips.iter().filter(|t| t.trip.exit_release().is_none()).filter_map(|t| t.lane.as_deref()).collect();
        let free: Vec<_> = lanes
            .iter()
            .filter(|l| l.side == exit && l.direction == direction && l.active && !held.contains(&l.id.as_str()))
            .map(|l| (l.id.clone(), l.class))
            .collect();
        // A closed or suspended exit side calls nobody; a "pre-registered only" window calls booked trucks.
        let waiting: Vec<_> = trips
            .iter()
            .filter(|t| t.status.is_waiting() && side_works_at(&gp, &suspensions, exit, now, t.slot.is_some()))
            .map(|t| t.candidate())
            .collect();
        let in_flight = trips.iter().filter(|t| matches!(t.status, TripStatus::Called | TripStatus::Clearing)).count() as u32;
        let calls =
            core_gate::dispatch(&free, &waiting, &app.config().gate_rules, now, in_flight, core_gate::far_side_limit(&lanes, direction));
        let called = if calls.is_empty() { vec![] } else { store.call_trips(&calls, who).await? };
        if !(called.is_empty() && requeued.is_empty() && no_shows.is_empty()) {
            app.events().publish(pair);
        }
        Ok(Round { requeued, no_shows: no_shows.iter().map(|b| b.id).collect(), called })
    }

    /// A dispatch round asked for by an officer of the exit side.
    pub async fn dispatch(&self, who: &Principal, pair: &GatePairId, direction: Direction) -> Result<Round> {
        let user = who.require(Action::OperateGate { gate_pair: pair, side: direction.exit_side() })?;
        self.run_round(pair, direction, &user.username).await
    }

    /// One dispatch round at every gate pair and direction that has exit-side lanes (what the
    /// background loop does every few seconds), at the gate pairs whose lease this process holds
    /// (see [`crate::leases`]). Returns the number of trucks called.
    pub async fn dispatch_all(&self) -> usize {
        let Ok(data) = self.0.reference().data().await else { return 0 };
        let mut called = 0;
        for gp in &data.gate_pairs {
            let has_lanes = data.lanes.iter().any(|l| l.gate_pair == gp.id && l.active);
            if !has_lanes || !self.0.hold(&crate::leases::dispatch_work(gp.id.as_str())).await {
                continue;
            }
            for d in [Direction::Export, Direction::Import] {
                if !data.lanes.iter().any(|l| l.gate_pair == gp.id && l.direction == d && l.side == d.exit_side() && l.active) {
                    continue;
                }
                match self.run_round(&gp.id, d, "dispatcher").await {
                    Ok(r) => called += r.called.len(),
                    Err(e) => tracing::warn!(gate_pair = gp.id.as_str(), error = %e, "dispatch round failed"),
                }
            }
        }
        called
    }

    /// Whether the principal sees full plates and trip ids on `pair`'s board.
    pub fn sees_detail(&self, who: &Principal, pair: &GatePairId) -> bool {
        who.may(Action::ReadGateDetail { gate_pair: pair })
    }

    /// The queue board of a pair in a direction; plates in full only for `detail`. Read from the
    /// primary: officers act on it, and the live streams, woken by the primary's changes, render it.
    pub async fn board(&self, pair: &GatePairId, direction: Direction, detail: bool) -> Result<Board> {
        self.board_from(self.0.store().as_ref(), pair, direction, detail).await
    }

    /// The public board (plates masked) as the read store has it: from the read replica when the
    /// app has one, a little behind the primary, with that lag on the board.
    /// When the replica does not answer, the primary does (the board says so).
    pub async fn public_board(&self, pair: &GatePairId, direction: Direction) -> Result<Board> {
        let (store, source) = self.0.public_reads();
        let (board, source) = match self.board_from(store, pair, direction, false).await {
            Err(e) if source == crate::ReadSource::Replica && self.0.replica_failed(&e) => {
                (self.board_from(self.0.store().as_ref(), pair, direction, false).await?, crate::ReadSource::Fallback)
            }
            other => (other?, source),
        };
        Ok(Board { source, ..board })
    }

    /// The last committed change a board of `pair` would show now (its event id's number).
    pub async fn changes(&self, pair: &GatePairId) -> Result<i64> {
        changes_at(self.0.store().as_ref(), pair).await
    }

    async fn board_from(&self, store: &dyn Store, pair: &GatePairId, direction: Direction, detail: bool) -> Result<Board> {
        let app = self.0;
        // The lag first: the data read after it is at least that fresh.
        let replica_lag_s = store.replica_lag().await?;
        // Then the last committed change: everything up to it is in what is read next.
        let changes = changes_at(store, pair).await?;
        let now = app.now();
        let (gp, lanes) = app.reference().pair_with_lanes(pair).await?;
        let live = [TripStatus::Virtual, TripStatus::Yard, TripStatus::Called, TripStatus::Clearing];
        let all = store.trips(TripQuery { gate_pair: Some(pair), statuses: &live, ..Default::default() }).await?;
        let trips: Vec<&TripRecord> = all.iter().filter(|t| t.direction == direction).collect();
        let count = |s: TripStatus| trips.iter().filter(|t| t.status == s).count() as u32;
        let waiting: Vec<_> = trips.iter().filter(|t| t.status.is_waiting()).map(|t| t.candidate()).collect();
        let order = core_gate::queue_order(&waiting, app.config().gate_rules.policy);
        let by_id = |id: u64| trips.iter().find(|t| cuakhau_core::goods::TruckId::from(t.id).0 == id).expect("ordered from these trips");
        let plate = |t: &TripRecord| if detail { t.plate.display.clone() } else { core_gate::mask_plate(&t.plate.display) };
        // While the exit side is closed (its hours, or a suspension), nobody is called before it
        // lets trucks through again; a window for pre-registered trucks only lets booked ones.
        let exit_gate = gp.gate(direction.exit_side());
        let suspensions = app.reference().suspensions(pair, now).await?;
        let exit_calendar = SideCalendar::of_gate(exit_gate, &suspensions, now);
        // When the exit side next lets a truck through (now, if it does): calls are expected from
        // that instant, exactly (a call a fraction of a second before 13:00 would read 12:59).
        let opens_at = |booked: bool| -> Option<Timestamp> {
            match &exit_calendar {
                Some(c) => c.next_works(now, None, booked).map(|t| t.max(now)),
                None => Some(now.plus_seconds(
                    exit_gate.hours.as_ref().and_then(|h| h.minutes_until_open(now, &exit_gate.zone)).unwrap_or(0) as i64 * 60,
                )),
            }
        };
        let (opens, opens_booked) = (opens_at(false), opens_at(true));
        let queue = order
            .iter()
            .map(|(id, pos)| {
                let t = by_id(id.0);
                QueueEntry {
                    position: *pos,
                    plate: plate(t),
                    class: t.class,
                    status: t.status,
                    booked: t.slot.is_some(),
                    estimated_call: estimated_wait_s(*pos, serving_capacity(&lanes, direction, t.class))
                        .zip(if t.slot.is_some() { opens_booked } else { opens })
                        .map(|(s, opens)| opens.plus_seconds(s)),
                    trip_id: detail.then_some(t.id),
                }
            })
            .collect();
        let lane_states = lanes
            .iter()
            .filter(|l| l.direction == direction)
            .map(|l| {
                let on = trips.iter().find(|t| t.lane.as_deref() == Some(l.id.as_str()) && t.trip.exit_release().is_none());
                let number = cuakhau_core::refdata::lane_number(&lanes, l.id.as_str()).unwrap_or(0);
                LaneState { lane: l.clone(), number, plate: on.map(|t| plate(t)), trip_status: on.map(|t| t.status) }
            })
            .collect();
        // The slot calendar's own figures: the lanes' capacity in hours both sides work, not only booked buckets.
        let start = cuakhau_core::goods::slots::hour_of(now);
        let booked_ahead = app
            .goods()
            .calendar_from(store, pair, direction, start, 6)
            .await?
            .iter()
            .map(|h| (h.hour, h.buckets.iter().map(|b: &BucketUse| b.capacity).sum(), h.booked()))
            .collect();
        let waiting_both = all.iter().filter(|t| t.status.is_waiting()).count() as u64;
        let general_waiting = waiting.iter().filter(|c| c.truck.class != LaneClass::Agv).count();
        let demo = store.setting("demo").await?.is_some();
        // A side suspended now is closed now, whatever its hours say (a window for pre-registered
        // trucks only is not closed).
        let closed = |side: Side| suspensions.iter().any(|s| s.side == side && !s.preregistered_only && s.from <= now && now < s.until);
        let turns_at = [Side::Vn, Side::Cn]
            .into_iter()
            .filter_map(|side| SideCalendar::of_gate(gp.gate(side), &suspensions, now))
            .map(|cal| cal.admits_until(now, None).1)
            .fold(start.plus_seconds(3600), Timestamp::min);
        Ok(Board {
            gate_pair: pair.clone(),
            direction,
            at: now,
            vn_open: if closed(Side::Vn) { Some(false) } else { gp.vn.is_open_at(now) },
            cn_open: if closed(Side::Cn) { Some(false) } else { gp.cn.is_open_at(now) },
            congestion: CongestionLevel::of(waiting_both),
            waiting_both_directions: waiting_both,
            yard: count(TripStatus::Yard),
            virtual_queue: count(TripStatus::Virtual),
            called: count(TripStatus::Called),
            clearing: count(TripStatus::Clearing),
            far_side_limit: core_gate::far_side_limit(&lanes, direction),
            expected_wait_s: estimated_wait_s(general_waiting + 1, serving_capacity(&lanes, direction, LaneClass::General))
                .zip(opens)
                .map(|(s, opens)| now.seconds_until(opens) + s),
            lanes: lane_states,
            booked_ahead,
            queue,
            demo,
            replica_lag_s,
            as_of: Timestamp::from_micros(now.as_micros() - replica_lag_s.map_or(0, |s| (s * 1e6).round() as i64)),
            changes,
            turns_at,
            source: crate::ReadSource::Primary,
        })
    }

    /// The trip, if the principal may see it: officers in scope, and the declarant.
    pub async fn trip(&self, who: &Principal, id: TripId) -> Result<TripRecord> {
        let u = who.signed_in()?;
        let t = self.0.store().trip(id).await?.ok_or(AppError::NotFound(What::Trip(id)))?;
        if cuakhau_core::auth::allows(&u.roles, Action::ReadDeclaration { enterprise: &t.enterprise, gate_pair: &t.gate_pair }) {
            Ok(t)
        } else {
            Err(AppError::NotFound(What::Trip(id)))
        }
    }

    /// Trips whose current step is the principal's (side, agency) at a gate pair in scope,
    /// oldest first, one page of `limit` (1 to 500, default 200) after `cursor`.
    pub async fn worklist(&self, who: &Principal, cursor: Option<i64>, limit: Option<u32>) -> Result<crate::goods::Page<TripRecord>> {
        let u = who.signed_in()?;
        let limit = limit.unwrap_or(200);
        if !(1..=500).contains(&limit) {
            return Err(AppError::Invalid(FieldError::new("limit", Problem::OutOfRange { min: 1.0, max: 500.0 })));
        }
        let mine = |t: &TripRecord| {
            let Some(i) = t.trip.current() else { return false };
            let step = t.trip.steps()[i].0;
            u.roles.iter().any(|r| match r {
                Role::Officer { side, agency, gate_pair } => {
                    gate_pair.as_ref().is_none_or(|g| *g == t.gate_pair)
                        && match step {
                            Step::Agency { side: s, agency: a } => s == *side && a == *agency,
                            Step::Handover => *agency == Agency::BorderGuard,
                        }
                }
                _ => false,
            })
        };
        // The scope's gate pairs and the live statuses are filtered in the query; whose step it
        // is is read from the steps, chunk by chunk, until the page is full: nothing is cut silently.
        let scope = cuakhau_core::auth::gate_detail_scope(&u.roles);
        let mut after = cursor.map(TripId);
        let mut page = Vec::new();
        let next = loop {
            let chunk = self
                .0
                .store()
                .trips(TripQuery {
                    statuses: &[TripStatus::Called, TripStatus::Clearing],
                    gate_pairs: scope.as_deref(),
                    after,
                    limit: 500,
                    ..Default::default()
                })
                .await?;
            let exhausted = chunk.len() < 500;
            for t in chunk {
                after = Some(t.id);
                if mine(&t) {
                    page.push(t);
                    if page.len() == limit as usize {
                        break;
                    }
                }
            }
            if page.len() == limit as usize {
                break after;
            }
            if exhausted {
                break None;
            }
        };
        Ok(crate::goods::Page { items: page, next: next.map(TripId::get), limit })
    }

    /// An officer's act on step `index` of a trip: only an officer of that step's side and
    /// agency, while that side is open.
    pub async fn act(&self, who: &Principal, id: TripId, index: usize, act: Act) -> Result<TripRecord> {
        let app = self.0;
        let t = self.trip(who, id).await?;
        let (step, _) = t.trip.steps().get(index).ok_or(AppError::NotFound(What::Step { trip: id, index }))?;
        let officer = officer_for(who, &t.gate_pair, step, t.direction)?;
        let user = who.signed_in()?;
        let now = app.now();
        let (gp, _) = app.reference().pair_with_lanes(&t.gate_pair).await?;
        let suspensions = app.reference().suspensions_at(&t.gate_pair, now).await?;
        let open = side_works_at(&gp, &suspensions, step.side(t.direction), now, t.slot.is_some());
        let rec =
            app.store().trip_step(id, index, officer, act, open, Actor { name: &user.username, at: now }).await?.map_err(AppError::Step)?;
        app.events().publish(&t.gate_pair);
        Ok(rec)
    }

    /// Records the infrastructure fee a truck paid (an officer who runs the exit side's yard).
    pub async fn record_fee(&self, who: &Principal, id: TripId, amount: f64, currency: &str, receipt: &str) -> Result<TripRecord> {
        let t = self.trip(who, id).await?;
        let user = who.require(Action::OperateGate { gate_pair: &t.gate_pair, side: t.direction.exit_side() })?;
        if !(amount.is_finite() && amount > 0.0 && amount < 1e12) {
            return Err(AppError::Invalid(FieldError::new("amount", Problem::OutOfRange { min: 0.0, max: 1e12 })));
        }
        if !["VND", "CNY"].contains(&currency) {
            return Err(AppError::Invalid(FieldError::new("currency", Problem::NotOneOf { allowed: &["VND", "CNY"] })));
        }
        let receipt = cuakhau_core::validate::text("receipt", receipt, 64)?;
        let fee = Fee { amount, currency: currency.into(), receipt };
        Ok(self.0.store().record_fee(id, &fee, Actor { name: &user.username, at: self.0.now() }).await?)
    }

    /// The declaration a driver tracks: found by number, proven by its unguessable tracking code
    /// (a plate is no secret: the public board shows most of it). Wrong codes from one `address`
    /// are throttled like failed sign-ins.
    async fn tracked(&self, store: &dyn Store, address: Option<&str>, declaration: DeclarationId, code: &str) -> Result<DeclarationRecord> {
        let app = self.0;
        let now = app.now();
        let keys: Vec<String> = address.map(|a| format!("track:{a}")).into_iter().collect();
        let wait = app.inner.logins.wait_s(&keys, now);
        if wait > 0 {
            // Not "too many failed sign-ins": a driver's page has no sign-in.
            return Err(AppError::TooManyRequests { retry_after_s: wait });
        }
        let code: String = code.chars().filter(|c| !c.is_whitespace() && *c != '-').flat_map(char::to_lowercase).collect();
        match store.declaration(declaration).await? {
            Some(d) if !d.track_code.is_empty() && crate::secrets::same_secret(&d.track_code, &code) => Ok(d),
            _ => {
                app.inner.logins.failed(&keys, now);
                Err(AppError::NotFound(What::Tracked(declaration)))
            }
        }
    }

    /// The driver's page, read from `store` (the read store for a look, the primary after a write).
    async fn tracking(&self, store: &dyn Store, d: DeclarationRecord) -> Result<Tracking> {
        let board = self.board_from(store, &d.gate_pair, d.direction, true).await?;
        let trip = store.trip_of_declaration(d.id).await?;
        let booking = store.live_booking(d.id).await?;
        let entry = trip.as_ref().and_then(|t| board.queue.iter().find(|q| q.trip_id == Some(t.id))).cloned();
        let (gp, _) = self.0.reference().pair_with_lanes(&d.gate_pair).await?;
        let exit_gate = gp.gate(d.direction.exit_side()).clone();
        let lane = trip
            .as_ref()
            .and_then(|t| t.lane.as_deref())
            .and_then(|id| board.lanes.iter().find(|l| l.lane.id.as_str() == id))
            .map(|l| (l.number, l.lane.class));
        let (replica_lag_s, as_of) = (board.replica_lag_s, board.as_of);
        let source = crate::ReadSource::Primary;
        Ok(Tracking {
            declaration: d,
            trip,
            booking,
            entry,
            waiting_total: board.queue.len(),
            exit_gate,
            lane,
            replica_lag_s,
            as_of,
            source,
        })
    }

    /// A driver's view of their declaration, by number and tracking code, from the read store.
    /// When the replica does not answer, the primary does (the page says so).
    pub async fn track(&self, address: Option<&str>, declaration: DeclarationId, code: &str) -> Result<Tracking> {
        let (reads, source) = self.0.public_reads();
        let read = async {
            let d = self.tracked(reads, address, declaration, code).await?;
            self.tracking(reads, d).await
        };
        let (t, source) = match read.await {
            Err(e) if source == crate::ReadSource::Replica && self.0.replica_failed(&e) => {
                let primary = self.0.store().as_ref();
                let d = self.tracked(primary, address, declaration, code).await?;
                (self.tracking(primary, d).await?, crate::ReadSource::Fallback)
            }
            other => (other?, source),
        };
        Ok(Tracking { source, ..t })
    }

    /// The driver's phone reports where the truck is (and when it expects to arrive). It needs no
    /// account and changes a public board, so it is limited before any work: per client
    /// `address`, a burst of [`POSITIONS_BURST`] then one a second (per process); per trip, one
    /// report every [`POSITION_EVERY_S`] seconds (from the stored last report: every process agrees).
    pub async fn report_position(
        &self,
        address: Option<&str>,
        declaration: DeclarationId,
        code: &str,
        lat: f64,
        lon: f64,
        eta: Option<Timestamp>,
    ) -> Result<Tracking> {
        if let Some(a) = address {
            self.0.inner.positions.take(a, self.0.now()).map_err(|retry_after_s| AppError::TooManyRequests { retry_after_s })?;
        }
        if !(-90.0..=90.0).contains(&lat) {
            return Err(AppError::Invalid(FieldError::new("lat", Problem::OutOfRange { min: -90.0, max: 90.0 })));
        }
        if !(-180.0..=180.0).contains(&lon) {
            return Err(AppError::Invalid(FieldError::new("lon", Problem::OutOfRange { min: -180.0, max: 180.0 })));
        }
        let store = self.0.store().as_ref();
        let d = self.tracked(store, address, declaration, code).await?;
        let t = store.trip_of_declaration(d.id).await?.ok_or(AppError::NotFound(What::TripOf(d.id)))?;
        let now = self.0.now();
        // One report per trip every few seconds is all a phone needs; more is refused, not published.
        if let Some(last) = &t.position
            && now.as_micros() - last.at.as_micros() < POSITION_EVERY_S * 1_000_000
        {
            let wait = POSITION_EVERY_S - (now.as_micros() - last.at.as_micros()) / 1_000_000;
            return Err(AppError::TooManyRequests { retry_after_s: wait });
        }
        store.report_position(t.id, Position { lat, lon, at: now }, eta, Actor { name: "driver", at: now }).await?;
        self.0.events().publish(&d.gate_pair);
        // The driver's own report shows at once: answered from the primary, not a replica behind.
        self.tracking(store, d).await
    }

    /// Notifications for drivers whose delivery is due now (at most `limit`).
    pub async fn due_notifications(&self, limit: u32) -> Result<Vec<Notification>> {
        Ok(self.0.store().due_notifications(self.0.now(), limit).await?)
    }

    /// Records a delivery attempt: delivered, or failed and tried again after the backoff.
    pub async fn notification_attempt(&self, n: &Notification, outcome: std::result::Result<(), &str>) -> Result<()> {
        let at = self.0.now();
        let (delivered, error, next) = match outcome {
            Ok(()) => (true, None, at),
            Err(e) => (false, Some(e), at.plus_seconds(backoff_s(n.attempts))),
        };
        Ok(self.0.store().notification_attempt(n.id, delivered, error, next, at).await?)
    }
}

/// Retry delay after `attempts` failed deliveries: 30 s doubling, at most an hour.
pub fn backoff_s(attempts: u32) -> i64 {
    (30i64 << attempts.min(7)).min(3600)
}

/// The last committed change of the pair's audit stream and of the node's own (reference data).
/// Numbers are in commit order within a stream, so each stream's head only grows.
async fn changes_at(store: &dyn Store, pair: &GatePairId) -> Result<i64> {
    let heads = store.audit_heads().await?;
    Ok(heads.into_iter().filter(|h| h.stream == pair.as_str() || h.stream.is_empty()).map(|h| h.seq).max().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!((super::backoff_s(0), super::backoff_s(1), super::backoff_s(6), super::backoff_s(20)), (30, 60, 1920, 3600));
    }
}
