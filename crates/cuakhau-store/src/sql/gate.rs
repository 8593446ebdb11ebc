//! The gate context's SQL: booked slots and their counters, suspensions, trips from the queue
//! through the yard and clearance, fees, positions, no-shows and the notification outbox.

use super::audit::append;
use super::goods::{TripIdStatus, require_decl};
use super::reference::require_pair;
use super::{Conn, Engine, FromRow, Row, Value, all, always, opt, params, scalar};
use crate::goods::{Booking, BookingOutcome, BookingRequest, SlotUse};
use crate::trips::{Fee, NewTrip, Notification, Position, TripQuery, TripRecord};
use crate::{Actor, ConflictKind, GateStore, Missing, Result, StoreError};
use async_trait::async_trait;
use cuakhau_core::goods::StateKind;
use cuakhau_core::goods::clearance::{Act, ClearanceError};
use cuakhau_core::goods::gate::{Call, TripStatus};
use cuakhau_core::goods::parties::Plate;
use cuakhau_core::goods::slots::{Bucket, HourCapacity, Suspension};
use cuakhau_core::{Agency, BookingId, BookingStatus, DeclarationId, Direction, GatePairId, Lane, Side, SuspensionId, Timestamp, TripId};

pub const BOOKING_COLS: &str = "id, declaration_id, gate_pair_id, direction, hour_us, bucket, status";

/// A booking read from `BOOKING_COLS`.
#[derive(Debug)]
pub struct BookingRow(pub Booking);

impl FromRow for BookingRow {
    fn from_row(r: &Row) -> Result<Self> {
        let bad = |e: cuakhau_core::FieldError| StoreError::Corrupt(format!("booking: {e}"));
        let bucket: String = r.get("bucket")?;
        Ok(BookingRow(Booking {
            id: r.get("id")?,
            declaration_id: r.get("declaration_id")?,
            gate_pair: GatePairId::parse(&r.get::<String>("gate_pair_id")?).map_err(bad)?,
            direction: Direction::parse("direction", &r.get::<String>("direction")?).map_err(bad)?,
            hour: Timestamp(r.get("hour_us")?),
            bucket: Bucket::parse(&bucket).ok_or_else(|| StoreError::Corrupt(format!("bucket {bucket}")))?,
            status: BookingStatus::parse(&r.get::<String>("status")?).ok_or_else(|| StoreError::Corrupt("booking status".into()))?,
        }))
    }
}

pub async fn read_live_booking<C: Conn>(c: &mut C, declaration_id: DeclarationId) -> Result<Option<Booking>> {
    let sql = format!("SELECT {BOOKING_COLS} FROM bookings WHERE declaration_id = $1 AND status = 'booked'");
    Ok(opt::<BookingRow, _>(c, &sql, params![declaration_id]).await?.map(|b| b.0))
}

/// Marks a booking cancelled and gives back its slot and its place in the daily count.
pub async fn release_booking<C: Conn>(c: &mut C, b: &Booking) -> Result<()> {
    // Locks in booking's order everywhere: the enterprise's day counter, then the slot counter,
    // then the booking row (and the audit head last). Two orders deadlock.
    c.execute(
        "UPDATE enterprise_day SET used = used - 1 WHERE (enterprise_code, day) IN (SELECT enterprise_code, day FROM bookings WHERE id = $1) AND used > 0",
        params![b.id],
    )
    .await?;
    c.execute(
        "UPDATE slot_usage SET used = used - 1 WHERE gate_pair_id = $1 AND direction = $2 AND hour_us = $3 AND bucket = $4 AND used > 0",
        params![b.gate_pair.as_str(), b.direction.code(), b.hour.as_micros(), b.bucket.code()],
    )
    .await?;
    c.execute("UPDATE bookings SET status = 'cancelled' WHERE id = $1", params![b.id]).await?;
    Ok(())
}

/// An owned [`BookingRequest`], for work handed to another thread.
#[derive(Debug, Clone)]
pub struct Booked {
    pub declaration_id: DeclarationId,
    pub hour: Timestamp,
    pub capacity: HourCapacity,
    pub candidates: Vec<Bucket>,
    pub day: String,
    pub per_day_limit: u32,
}

impl From<BookingRequest<'_>> for Booked {
    fn from(r: BookingRequest<'_>) -> Self {
        Booked {
            declaration_id: r.declaration_id,
            hour: r.hour,
            capacity: r.capacity,
            candidates: r.candidates.to_vec(),
            day: r.day,
            per_day_limit: r.per_day_limit,
        }
    }
}

/// What a booking needs of its declaration: who, where, and whether it is valid now.
struct Bookable {
    id: DeclarationId,
    enterprise: String,
    gate_pair: GatePairId,
    direction: Direction,
    state: StateKind,
    valid_until: Option<i64>,
}

impl FromRow for Bookable {
    fn from_row(r: &Row) -> Result<Self> {
        let bad = |e: cuakhau_core::FieldError| StoreError::Corrupt(format!("declaration: {e}"));
        Ok(Bookable {
            id: r.get("id")?,
            enterprise: r.get("enterprise_code")?,
            gate_pair: GatePairId::parse(&r.get::<String>("gate_pair_id")?).map_err(bad)?,
            direction: Direction::parse("direction", &r.get::<String>("direction")?).map_err(bad)?,
            state: StateKind::parse("state", &r.get::<String>("state")?).map_err(bad)?,
            valid_until: r.get("valid_until_us")?,
        })
    }
}

/// Books a slot. Only `Booked` is to be committed: every other outcome is rolled back (the
/// daily counter was taken before the buckets were tried).
pub async fn book_slot<C: Conn>(c: &mut C, req: &Booked, actor: Actor<'_>) -> Result<BookingOutcome> {
    // Only the columns a booking needs: the goods and the trip are not read on this hot path.
    let sql = "SELECT id, enterprise_code, gate_pair_id, direction, state, valid_until_us FROM declarations WHERE id = $1";
    let d: Bookable =
        opt(c, sql, params![req.declaration_id]).await?.ok_or(StoreError::NotFound(Missing::Declaration(req.declaration_id)))?;
    if !d.state.is_valid_at(d.valid_until.map(Timestamp::from_micros), actor.at) {
        return Ok(BookingOutcome::NotBookable { state: d.state.code() });
    }
    // One statement each: create the counter at 1, or add 1 while below the limit.
    let day_ok = req.per_day_limit > 0
        && !c
            .query(
                "INSERT INTO enterprise_day (enterprise_code, day, used) VALUES ($1, $2, 1)
                 ON CONFLICT (enterprise_code, day) DO UPDATE SET used = enterprise_day.used + 1 WHERE enterprise_day.used < $3 RETURNING used",
                params![&d.enterprise, &req.day, i64::from(req.per_day_limit)],
            )
            .await?
            .is_empty();
    if !day_ok {
        return Ok(BookingOutcome::DailyLimitReached);
    }
    for b in &req.candidates {
        let cap = i64::from(req.capacity.of(*b));
        if cap == 0 {
            continue;
        }
        // The hour's capacity as it is now (lanes added or closed since its first booking count):
        // a booking is taken while fewer than that are booked, and the row records the capacity
        // it was taken under. Bookings already above a lowered capacity stay.
        let got = c
            .query(
                "INSERT INTO slot_usage (gate_pair_id, direction, hour_us, bucket, capacity, used) VALUES ($1, $2, $3, $4, $5, 1)
                 ON CONFLICT (gate_pair_id, direction, hour_us, bucket) DO UPDATE SET used = slot_usage.used + 1, capacity = excluded.capacity
                 WHERE slot_usage.used < excluded.capacity RETURNING used",
                params![d.gate_pair.as_str(), d.direction.code(), req.hour.as_micros(), b.code(), cap],
            )
            .await?;
        if got.is_empty() {
            continue;
        }
        // No read for an existing booking first: the partial unique index on live bookings
        // refuses a second one here, and the caller rolls this attempt back.
        let sql = format!(
            "INSERT INTO bookings (declaration_id, gate_pair_id, direction, hour_us, bucket, enterprise_code, day, status, created_at_us)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'booked', $8) ON CONFLICT DO NOTHING RETURNING {BOOKING_COLS}"
        );
        let p = params![
            d.id,
            d.gate_pair.as_str(),
            d.direction.code(),
            req.hour.as_micros(),
            b.code(),
            &d.enterprise,
            &req.day,
            actor.at.as_micros()
        ];
        let Some(BookingRow(booking)) = opt(c, &sql, p).await? else {
            return match read_live_booking(c, d.id).await? {
                Some(b) => Ok(BookingOutcome::AlreadyBooked(b)),
                None => Err(StoreError::Conflict(ConflictKind::BookedMeanwhile { declaration: d.id })),
            };
        };
        let after = serde_json::json!({"declaration": d.id.get(), "gate_pair": d.gate_pair.as_str(), "direction": d.direction.code(),
                                       "hour": req.hour.to_rfc3339(), "bucket": b.code()});
        append(c, &actor, Some(d.gate_pair.as_str()), "slot.book", format!("booking/{}", booking.id), None, Some(after.to_string()))
            .await?;
        return Ok(BookingOutcome::Booked(booking));
    }
    Ok(BookingOutcome::Full)
}

pub async fn cancel_booking<C: Conn>(c: &mut C, booking_id: BookingId, actor: Actor<'_>) -> Result<Booking> {
    let sql = format!("SELECT {BOOKING_COLS} FROM bookings WHERE id = $1 AND status = 'booked'");
    let BookingRow(b) = opt(c, &sql, params![booking_id]).await?.ok_or(StoreError::NotFound(Missing::Booking(booking_id)))?;
    release_booking(c, &b).await?;
    append(c, &actor, Some(b.gate_pair.as_str()), "slot.cancel", format!("booking/{booking_id}"), None, None).await?;
    Ok(Booking { status: BookingStatus::Cancelled, ..b })
}

struct SlotRow(SlotUse);

impl FromRow for SlotRow {
    fn from_row(r: &Row) -> Result<Self> {
        let bucket: String = r.get("bucket")?;
        Ok(SlotRow(SlotUse {
            hour: Timestamp(r.get("hour_us")?),
            bucket: Bucket::parse(&bucket).ok_or_else(|| StoreError::Corrupt(format!("bucket {bucket}")))?,
            capacity: r.get::<i64>("capacity")? as u32,
            used: r.get::<i64>("used")? as u32,
        }))
    }
}

pub async fn slot_usage<C: Conn>(
    c: &mut C,
    gate_pair: &GatePairId,
    direction: Direction,
    from: Timestamp,
    until: Timestamp,
) -> Result<Vec<SlotUse>> {
    let sql = "SELECT hour_us, bucket, capacity, used FROM slot_usage WHERE gate_pair_id = $1 AND direction = $2 AND hour_us >= $3 AND hour_us < $4
               ORDER BY hour_us, bucket";
    let rows = all::<SlotRow, _>(c, sql, params![gate_pair.as_str(), direction.code(), from.as_micros(), until.as_micros()]).await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

pub async fn add_suspension<C: Conn>(c: &mut C, gate_pair: &GatePairId, su: &Suspension, actor: Actor<'_>) -> Result<SuspensionId> {
    require_pair(c, gate_pair).await?;
    let id: SuspensionId = scalar(
        c,
        "INSERT INTO suspensions (gate_pair_id, side, from_us, until_us, preregistered_only, reason, created_at_us)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        params![
            gate_pair.as_str(),
            su.side.code(),
            su.from.as_micros(),
            su.until.as_micros(),
            su.preregistered_only,
            &su.reason,
            actor.at.as_micros()
        ],
    )
    .await?;
    let after = serde_json::json!({"id": id.get(), "from": su.from.to_rfc3339(), "until": su.until.to_rfc3339(),
                                   "preregistered_only": su.preregistered_only, "reason": su.reason});
    let entity = format!("gate-pair/{}/{}", gate_pair.as_str(), su.side.code());
    append(c, &actor, Some(gate_pair.as_str()), "gate.suspend", entity, None, Some(after.to_string())).await?;
    Ok(id)
}

struct SuspensionRow(SuspensionId, Suspension);

impl FromRow for SuspensionRow {
    fn from_row(r: &Row) -> Result<Self> {
        let side: String = r.get("side")?;
        Ok(SuspensionRow(
            r.get("id")?,
            Suspension {
                side: Side::parse("side", &side).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                from: Timestamp(r.get("from_us")?),
                until: Timestamp(r.get("until_us")?),
                preregistered_only: r.get("preregistered_only")?,
                reason: r.get("reason")?,
            },
        ))
    }
}

pub async fn suspensions<C: Conn>(
    c: &mut C,
    gate_pair: &GatePairId,
    from: Timestamp,
    until: Timestamp,
) -> Result<Vec<(SuspensionId, Suspension)>> {
    let sql = "SELECT id, side, from_us, until_us, preregistered_only, reason FROM suspensions
               WHERE gate_pair_id = $1 AND until_us > $2 AND from_us < $3 ORDER BY from_us, id";
    let rows = all::<SuspensionRow, _>(c, sql, params![gate_pair.as_str(), from.as_micros(), until.as_micros()]).await?;
    Ok(rows.into_iter().map(|r| (r.0, r.1)).collect())
}

pub const TRIP_COLS: &str = "id, declaration_id, gate_pair_id, direction, enterprise_code, plate, plate_country, lane_class, commodity, slot_us, \
    spoils_at_us, status, joined_at_us, yard_at_us, called_at_us, call_deadline_us, calls, lane_id, channel, channel_reason, steps_json, eta_us, \
    lat, lon, position_at_us, fee_amount, fee_currency, fee_receipt, updated_at_us";

/// A trip read from `TRIP_COLS`.
#[derive(Debug)]
pub struct TripRow(pub TripRecord);

impl FromRow for TripRow {
    fn from_row(r: &Row) -> Result<Self> {
        let bad = |e: cuakhau_core::FieldError| StoreError::Corrupt(format!("trip: {e}"));
        let ts = |k: &str| -> Result<Option<Timestamp>> { Ok(r.get::<Option<i64>>(k)?.map(Timestamp)) };
        let s = |k: &str| -> Result<String> { r.get::<String>(k) };
        let direction = Direction::parse("direction", &s("direction")?).map_err(bad)?;
        let channel_code = s("channel")?;
        let channel =
            cuakhau_core::goods::Channel::parse(&channel_code).ok_or_else(|| StoreError::Corrupt(format!("channel {channel_code}")))?;
        let status_code = s("status")?;
        let lat: Option<f64> = r.get("lat")?;
        let lon: Option<f64> = r.get("lon")?;
        let fee_amount: Option<f64> = r.get("fee_amount")?;
        Ok(TripRow(TripRecord {
            id: r.get("id")?,
            declaration_id: r.get("declaration_id")?,
            gate_pair: GatePairId::parse(&s("gate_pair_id")?).map_err(bad)?,
            direction,
            enterprise: s("enterprise_code")?,
            plate: Plate::parse(&s("plate")?, Side::parse("plate_country", &s("plate_country")?).map_err(bad)?).map_err(bad)?,
            class: cuakhau_core::refdata::LaneClass::parse("lane_class", &s("lane_class")?).map_err(bad)?,
            commodity: s("commodity")?,
            slot: ts("slot_us")?,
            spoils_at: ts("spoils_at_us")?,
            status: TripStatus::parse(&status_code).ok_or_else(|| StoreError::Corrupt(format!("trip status {status_code}")))?,
            joined_at: Timestamp(r.get("joined_at_us")?),
            yard_at: ts("yard_at_us")?,
            called_at: ts("called_at_us")?,
            call_deadline: ts("call_deadline_us")?,
            calls: r.get::<i64>("calls")? as u32,
            lane: r.get("lane_id")?,
            trip: crate::trips::steps_from_json(direction, channel, &s("steps_json")?)?,
            channel_reason: s("channel_reason")?,
            eta: ts("eta_us")?,
            position: match (lat, lon, ts("position_at_us")?) {
                (Some(lat), Some(lon), Some(at)) => Some(Position { lat, lon, at }),
                _ => None,
            },
            fee: match fee_amount {
                Some(amount) => Some(Fee {
                    amount,
                    currency: r.get::<Option<String>>("fee_currency")?.unwrap_or_default(),
                    receipt: r.get::<Option<String>>("fee_receipt")?.unwrap_or_default(),
                }),
                None => None,
            },
            updated_at: Timestamp(r.get("updated_at_us")?),
        }))
    }
}

pub async fn read_trip<C: Conn>(c: &mut C, id: TripId) -> Result<Option<TripRecord>> {
    Ok(opt::<TripRow, _>(c, &format!("SELECT {TRIP_COLS} FROM trips WHERE id = $1"), params![id]).await?.map(|t| t.0))
}

/// The trip, which must exist.
async fn require_trip<C: Conn>(c: &mut C, id: TripId) -> Result<TripRecord> {
    read_trip(c, id).await?.ok_or(StoreError::NotFound(Missing::Trip(id)))
}

async fn queue_notification<C: Conn>(c: &mut C, trip: &TripRecord, kind: &str, at: Timestamp) -> Result<()> {
    let mut payload = serde_json::json!({
        "event": kind, "trip": trip.id.get(), "declaration": trip.declaration_id.get(), "gate_pair": trip.gate_pair.as_str(),
        "direction": trip.direction.code(), "plate": trip.plate.display, "lane": trip.lane,
        "deadline": trip.call_deadline.map(|d| d.to_rfc3339()),
        "deadline_local": trip.call_deadline.map(|d| d.to_rfc3339_in(trip.direction.exit_side().zone())),
    });
    if let Some(words) = notification_words(c, trip).await? {
        payload.as_object_mut().expect("an object").extend(words);
    }
    let payload = payload.to_string();
    c.execute(
        "INSERT INTO notifications (trip_id, kind, payload_json, created_at_us, next_attempt_us) VALUES ($1, $2, $3, $4, $4)",
        params![trip.id, kind, payload, at.as_micros()],
    )
    .await?;
    Ok(())
}

/// What the driver reads, in the words of the driver's page: `text` in the driver's language (their
/// nationality's, else the exit side's), `texts` in all three, `language`, and for a call the
/// lane's number (see `refdata::lane_number`).
async fn notification_words<C: Conn>(c: &mut C, trip: &TripRecord) -> Result<Option<serde_json::Map<String, serde_json::Value>>> {
    use cuakhau_core::goods::clearance::StepState;
    use cuakhau_core::i18n::{CallPlace, Lang, refused_text, your_turn};
    let exit = trip.direction.exit_side();
    if trip.status == TripStatus::Refused {
        let Some((step, StepState::Refused { reason, .. })) =
            trip.trip.steps().iter().find(|(_, s)| matches!(s, StepState::Refused { .. }))
        else {
            return Ok(None);
        };
        let decl = require_decl(c, trip.declaration_id).await?;
        let lang = Lang::of_side(decl.driver.as_ref().map_or(exit, |d| d.nationality));
        return Ok(Some(worded(lang, |l| refused_text(l, step, reason))));
    }
    let (Some(lane_id), Some(deadline)) = (trip.lane.as_deref(), trip.call_deadline) else { return Ok(None) };
    if trip.status != TripStatus::Called {
        return Ok(None);
    }
    let lanes = super::reference::read_pair_lanes(c, &trip.gate_pair).await?;
    let (Some(lane), Some(lane_number)) =
        (lanes.iter().find(|l| l.id.as_str() == lane_id), cuakhau_core::refdata::lane_number(&lanes, lane_id))
    else {
        return Ok(None);
    };
    let pair = require_pair(c, &trip.gate_pair).await?;
    let decl = require_decl(c, trip.declaration_id).await?;
    let lang = Lang::of_side(decl.driver.as_ref().map_or(exit, |d| d.nationality));
    let call = CallPlace { lane_number, class: lane.class, gate: pair.gate(exit), direction: trip.direction, deadline };
    let mut out = worded(lang, |l| your_turn(l, &call));
    out.insert("lane_number".into(), lane_number.into());
    Ok(Some(out))
}

/// `text` in the driver's language, `texts` in all three, and `language`.
fn worded(lang: cuakhau_core::Lang, say: impl Fn(cuakhau_core::Lang) -> String) -> serde_json::Map<String, serde_json::Value> {
    let texts: serde_json::Map<String, serde_json::Value> =
        cuakhau_core::Lang::ALL.iter().map(|l| (l.code().to_string(), say(*l).into())).collect();
    let mut out = serde_json::Map::new();
    out.insert("text".into(), say(lang).into());
    out.insert("texts".into(), texts.into());
    out.insert("language".into(), lang.code().into());
    out
}

pub async fn join_queue<C: Conn>(c: &mut C, t: &NewTrip, actor: Actor<'_>) -> Result<TripRecord> {
    let d = require_decl(c, t.declaration_id).await?;
    if !d.declaration.is_valid_at(actor.at) {
        return Err(StoreError::Conflict(ConflictKind::DeclarationNotValid {
            declaration: d.id,
            state: d.declaration.state.code().to_string(),
        }));
    }
    if t.status == TripStatus::Yard {
        let in_yard: i64 = scalar(
            c,
            "SELECT COUNT(*) FROM trips WHERE gate_pair_id = $1 AND direction = $2 AND status = 'yard'",
            params![d.gate_pair.as_str(), d.direction.code()],
        )
        .await?;
        if in_yard >= i64::from(t.yard_capacity) {
            return Err(StoreError::Conflict(ConflictKind::YardFull { capacity: t.yard_capacity }));
        }
    }
    let existing = opt::<TripIdStatus, _>(c, "SELECT id, status FROM trips WHERE declaration_id = $1", params![d.id]).await?;
    let now = actor.at.as_micros();
    let id = match existing {
        Some(e) if e.status == "virtual" && t.status == TripStatus::Yard => {
            c.execute("UPDATE trips SET status = 'yard', yard_at_us = $1, updated_at_us = $1 WHERE id = $2", params![now, e.id]).await?;
            e.id
        }
        Some(e) => return Err(StoreError::Conflict(ConflictKind::TripExists { declaration: d.id, trip: e.id, status: e.status })),
        None => {
            let yard_at = (t.status == TripStatus::Yard).then_some(now);
            scalar(
                c,
                "INSERT INTO trips (declaration_id, gate_pair_id, direction, enterprise_code, plate, plate_key, plate_country,
                 lane_class, commodity, slot_us, spoils_at_us, status, joined_at_us, yard_at_us, channel, channel_reason, steps_json, updated_at_us)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $13) RETURNING id",
                params![
                    d.id,
                    d.gate_pair.as_str(),
                    d.direction.code(),
                    &d.enterprise,
                    &d.plate.display,
                    &d.plate.key,
                    d.plate.country.code(),
                    t.class.code(),
                    &t.commodity,
                    t.slot.map(|x| x.as_micros()),
                    t.spoils_at.map(|x| x.as_micros()),
                    t.status.code(),
                    now,
                    yard_at,
                    t.trip.channel.code(),
                    &t.channel_reason,
                    crate::trips::steps_json(&t.trip)
                ],
            )
            .await?
        }
    };
    let rec = require_trip(c, id).await?;
    let action = if t.status == TripStatus::Yard { "trip.yard-check-in" } else { "trip.join-virtual-queue" };
    append(c, &actor, Some(d.gate_pair.as_str()), action, format!("trip/{id}"), None, Some(crate::trips::snapshot(&rec))).await?;
    Ok(rec)
}

/// An owned [`TripQuery`], for work handed to another thread.
#[derive(Debug, Clone)]
pub struct TripFilter {
    pub gate_pair: Option<GatePairId>,
    pub direction: Option<Direction>,
    pub statuses: Vec<TripStatus>,
    pub from: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub gate_pairs: Option<Vec<GatePairId>>,
    pub after: Option<TripId>,
    pub limit: u32,
}

impl From<TripQuery<'_>> for TripFilter {
    fn from(q: TripQuery<'_>) -> Self {
        TripFilter {
            gate_pair: q.gate_pair.cloned(),
            direction: q.direction,
            statuses: q.statuses.to_vec(),
            from: q.from,
            until: q.until,
            gate_pairs: q.gate_pairs.map(<[GatePairId]>::to_vec),
            after: q.after,
            limit: q.limit,
        }
    }
}

pub async fn trips<C: Conn>(c: &mut C, q: &TripFilter) -> Result<Vec<TripRecord>> {
    // Statuses are our own codes, never user text: safe to inline. Gate pairs are bound.
    let statuses = q.statuses.iter().map(|s| format!("'{}'", s.code())).collect::<Vec<_>>().join(", ");
    let pairs: Vec<String> = q.gate_pairs.as_deref().unwrap_or(&[]).iter().map(|g| g.as_str().to_string()).collect();
    if q.gate_pairs.is_some() && pairs.is_empty() {
        return Ok(Vec::new());
    }
    let pair_list = (0..pairs.len()).map(|i| format!("${}", i + 7)).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT {TRIP_COLS} FROM trips WHERE ($1 IS NULL OR gate_pair_id = $1) AND ($2 IS NULL OR direction = $2)
         AND joined_at_us >= $3 AND joined_at_us < $4 AND id > $6 {} {} ORDER BY id LIMIT $5",
        if statuses.is_empty() { String::new() } else { format!("AND status IN ({statuses})") },
        if pairs.is_empty() { String::new() } else { format!("AND gate_pair_id IN ({pair_list})") }
    );
    let mut p = vec![
        Value::from(q.gate_pair.as_ref().map(|g| g.as_str())),
        Value::from(q.direction.map(|d| d.code())),
        Value::from(q.from.map_or(i64::MIN, |t| t.as_micros())),
        Value::from(q.until.map_or(i64::MAX, |t| t.as_micros())),
        Value::from(if q.limit == 0 { i64::MAX } else { i64::from(q.limit) }),
        Value::from(q.after.map_or(i64::MIN, TripId::get)),
    ];
    p.extend(pairs.into_iter().map(Value::from));
    Ok(all::<TripRow, _>(c, &sql, &p).await?.into_iter().map(|t| t.0).collect())
}

pub async fn call_trips<C: Conn>(c: &mut C, calls: &[Call], actor: Actor<'_>) -> Result<Vec<TripRecord>> {
    let mut out = Vec::new();
    for call in calls {
        let id = TripId::from(call.truck);
        let n = c
            .execute(
                "UPDATE trips SET status = 'called', lane_id = $1, lane_hold = $1, called_at_us = $2, call_deadline_us = $3,
                 calls = calls + 1, updated_at_us = $2
                 WHERE id = $4 AND status IN ('yard', 'virtual') AND NOT EXISTS (SELECT 1 FROM trips t2 WHERE t2.lane_hold = $1)
                 AND EXISTS (SELECT 1 FROM lanes WHERE lanes.id = $1 AND lanes.active)",
                params![call.lane.as_str(), actor.at.as_micros(), call.deadline.as_micros(), id],
            )
            .await?;
        if n == 0 {
            continue;
        }
        let rec = require_trip(c, id).await?;
        queue_notification(c, &rec, "your-turn", actor.at).await?;
        let after = serde_json::json!({"lane": call.lane.as_str(), "deadline": call.deadline.to_rfc3339()}).to_string();
        append(c, &actor, Some(rec.gate_pair.as_str()), "trip.call", format!("trip/{id}"), None, Some(after)).await?;
        out.push(rec);
    }
    Ok(out)
}

pub async fn requeue_unanswered<C: Conn>(c: &mut C, gate_pair: &GatePairId, now: Timestamp, actor: Actor<'_>) -> Result<Vec<TripId>> {
    let rows = c
        .query(
            "SELECT id FROM trips WHERE gate_pair_id = $1 AND status = 'called' AND call_deadline_us <= $2 ORDER BY id",
            params![gate_pair.as_str(), now.as_micros()],
        )
        .await?;
    let ids = rows.iter().map(Row::first::<TripId>).collect::<Result<Vec<_>>>()?;
    requeue(c, gate_pair, &ids, "call not answered in time", actor).await?;
    Ok(ids)
}

/// Puts back in the queue, at the place they had, the trucks called to `lane` and not yet at it:
/// a closed lane serves nobody, and their drivers are told to wait again. A truck already being
/// cleared there is left to finish.
pub async fn requeue_called_to_lane<C: Conn>(c: &mut C, lane: &Lane, actor: Actor<'_>) -> Result<Vec<TripId>> {
    let rows = c.query("SELECT id FROM trips WHERE lane_id = $1 AND status = 'called' ORDER BY id", params![lane.id.as_str()]).await?;
    let ids = rows.iter().map(Row::first::<TripId>).collect::<Result<Vec<_>>>()?;
    requeue(c, &lane.gate_pair, &ids, "lane closed", actor).await?;
    Ok(ids)
}

/// Called trips `ids` go back to waiting (in the yard, or on the road if never checked in), audited with `reason`.
async fn requeue<C: Conn>(c: &mut C, gate_pair: &GatePairId, ids: &[TripId], reason: &str, actor: Actor<'_>) -> Result<()> {
    for id in ids {
        c.execute(
            "UPDATE trips SET status = CASE WHEN yard_at_us IS NULL THEN 'virtual' ELSE 'yard' END, lane_id = NULL, lane_hold = NULL,
             call_deadline_us = NULL, updated_at_us = $1 WHERE id = $2",
            params![actor.at.as_micros(), *id],
        )
        .await?;
        let after = Some(serde_json::json!({ "reason": reason }).to_string());
        append(c, &actor, Some(gate_pair.as_str()), "trip.requeue", format!("trip/{id}"), None, after).await?;
    }
    Ok(())
}

/// What an officer does to a step, owned.
#[derive(Debug, Clone)]
pub struct StepAct {
    pub id: TripId,
    pub index: usize,
    pub officer: (Side, Agency),
    pub act: Act,
    pub side_open: bool,
}

/// An officer's act on a step; `Ok(Err(_))` is a refusal by the core's rules (nothing written).
pub async fn trip_step<C: Conn>(c: &mut C, s: &StepAct, actor: Actor<'_>) -> Result<std::result::Result<TripRecord, ClearanceError>> {
    let before = require_trip(c, s.id).await?;
    if before.status.is_waiting() {
        return Ok(Err(ClearanceError::NotCurrent));
    }
    let mut trip = before.trip.clone();
    if let Err(e) = trip.act(s.index, s.officer, s.act.clone(), actor.at, s.side_open) {
        return Ok(Err(e));
    }
    let status = if trip.is_refused() {
        TripStatus::Refused
    } else if trip.is_cleared() {
        TripStatus::Done
    } else {
        TripStatus::Clearing
    };
    // The lane is free again once the exit side has released the truck, or refused it.
    let free_lane = trip.is_refused() || trip.exit_release().is_some();
    let sql = format!(
        "UPDATE trips SET status = $1, steps_json = $2, updated_at_us = $3, call_deadline_us = NULL {} WHERE id = $4",
        if free_lane { ", lane_hold = NULL" } else { "" }
    );
    c.execute(&sql, params![status.code(), crate::trips::steps_json(&trip), actor.at.as_micros(), s.id]).await?;
    let after = require_trip(c, s.id).await?;
    let (step, _) = &after.trip.steps()[s.index];
    let what: String = match &s.act {
        Act::Start => "start".into(),
        Act::Finish(o) => match o {
            cuakhau_core::goods::Outcome::Pass => "pass".into(),
            cuakhau_core::goods::Outcome::Hold { .. } => "hold".into(),
            cuakhau_core::goods::Outcome::Refuse { .. } => "refuse".into(),
        },
    };
    if status == TripStatus::Refused {
        queue_notification(c, &after, "refused", actor.at).await?;
    }
    let entity = format!("trip/{}/step/{}", s.id, step.code());
    let (b, a) = (crate::trips::snapshot(&before), crate::trips::snapshot(&after));
    append(c, &actor, Some(before.gate_pair.as_str()), &format!("trip.step.{what}"), entity, Some(b), Some(a)).await?;
    Ok(Ok(after))
}

pub async fn record_fee<C: Conn>(c: &mut C, id: TripId, fee: &Fee, actor: Actor<'_>) -> Result<TripRecord> {
    let before = require_trip(c, id).await?;
    if let Some(f) = &before.fee {
        return Err(StoreError::Conflict(ConflictKind::FeeRecorded { trip: id, receipt: f.receipt.clone() }));
    }
    let taken: Option<TripId> = super::scalar_opt(c, "SELECT id FROM trips WHERE fee_receipt = $1", params![&fee.receipt]).await?;
    if let Some(other) = taken {
        return Err(StoreError::Conflict(ConflictKind::ReceiptUsed { receipt: fee.receipt.clone(), trip: other }));
    }
    c.execute(
        "UPDATE trips SET fee_amount = $1, fee_currency = $2, fee_receipt = $3, updated_at_us = $4 WHERE id = $5",
        params![fee.amount, &fee.currency, &fee.receipt, actor.at.as_micros(), id],
    )
    .await?;
    let after = serde_json::json!({"amount": fee.amount, "currency": fee.currency, "receipt": fee.receipt}).to_string();
    append(c, &actor, Some(before.gate_pair.as_str()), "trip.fee", format!("trip/{id}"), None, Some(after)).await?;
    require_trip(c, id).await
}

pub async fn report_position<C: Conn>(
    c: &mut C,
    id: TripId,
    pos: Position,
    eta: Option<Timestamp>,
    actor: Actor<'_>,
) -> Result<TripRecord> {
    let before = require_trip(c, id).await?;
    c.execute(
        "UPDATE trips SET lat = $1, lon = $2, position_at_us = $3, eta_us = COALESCE($4, eta_us) WHERE id = $5",
        params![pos.lat, pos.lon, pos.at.as_micros(), eta.map(|e| e.as_micros()), id],
    )
    .await?;
    // The ETA moves the truck in dispatch's eyes: who reported what is on record.
    let b = serde_json::json!({"eta": before.eta.map(|e| e.to_rfc3339())}).to_string();
    let a = serde_json::json!({"lat": pos.lat, "lon": pos.lon, "eta": eta.map(|e| e.to_rfc3339())}).to_string();
    append(c, &actor, Some(before.gate_pair.as_str()), "trip.position", format!("trip/{id}"), Some(b), Some(a)).await?;
    require_trip(c, id).await
}

pub async fn release_no_shows<C: Conn>(c: &mut C, gate_pair: &GatePairId, cutoff: Timestamp, actor: Actor<'_>) -> Result<Vec<Booking>> {
    let sql = format!(
        "SELECT {BOOKING_COLS} FROM bookings b WHERE gate_pair_id = $2 AND status = 'booked' AND hour_us < $1
         AND NOT EXISTS (SELECT 1 FROM trips t WHERE t.declaration_id = b.declaration_id AND t.status <> 'virtual') ORDER BY id"
    );
    let rows = all::<BookingRow, _>(c, &sql, params![cutoff.as_micros(), gate_pair.as_str()]).await?;
    let mut out = Vec::new();
    for BookingRow(b) in rows {
        release_booking(c, &b).await?;
        c.execute("UPDATE bookings SET status = 'no-show' WHERE id = $1", params![b.id]).await?;
        let after = serde_json::json!({"declaration": b.declaration_id.get(), "hour": b.hour.to_rfc3339()}).to_string();
        append(c, &actor, Some(b.gate_pair.as_str()), "slot.no-show", format!("booking/{}", b.id), None, Some(after)).await?;
        out.push(Booking { status: BookingStatus::NoShow, ..b });
    }
    Ok(out)
}

struct NotificationRow(Notification);

impl FromRow for NotificationRow {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(NotificationRow(Notification {
            id: r.get("id")?,
            trip_id: r.get("trip_id")?,
            kind: r.get("kind")?,
            payload: r.get("payload_json")?,
            attempts: r.get::<i64>("attempts")? as u32,
        }))
    }
}

pub async fn due_notifications<C: Conn>(c: &mut C, now: Timestamp, limit: u32) -> Result<Vec<Notification>> {
    let sql = "SELECT id, trip_id, kind, payload_json, attempts FROM notifications
               WHERE delivered_at_us IS NULL AND next_attempt_us <= $1 ORDER BY id LIMIT $2";
    Ok(all::<NotificationRow, _>(c, sql, params![now.as_micros(), i64::from(limit)]).await?.into_iter().map(|n| n.0).collect())
}

/// The outcome of one delivery attempt.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub id: i64,
    pub delivered: bool,
    pub error: Option<String>,
    pub next_attempt: Timestamp,
    pub at: Timestamp,
}

pub async fn notification_attempt<C: Conn>(c: &mut C, a: &Attempt) -> Result<()> {
    c.execute(
        "UPDATE notifications SET attempts = attempts + 1, delivered_at_us = $1, last_error = $2, next_attempt_us = $3 WHERE id = $4",
        params![a.delivered.then_some(a.at.as_micros()), &a.error, a.next_attempt.as_micros(), a.id],
    )
    .await?;
    Ok(())
}

#[async_trait]
impl<E: Engine> GateStore for E {
    async fn book_slot(&self, req: BookingRequest<'_>, actor: Actor<'_>) -> Result<BookingOutcome> {
        let keep = |o: &BookingOutcome| matches!(o, BookingOutcome::Booked(_));
        let key = req.gate_pair.as_ref().map(|g| g.as_str().to_string());
        self.write_hot(key.as_deref(), (Booked::from(req), actor.owned()), keep, |c, (r, a)| Box::pin(book_slot(c, r, a.actor()))).await
    }

    async fn cancel_booking(&self, booking_id: BookingId, actor: Actor<'_>) -> Result<Booking> {
        self.write((booking_id, actor.owned()), always, |c, (id, a)| Box::pin(cancel_booking(c, *id, a.actor()))).await
    }

    async fn live_booking(&self, declaration_id: DeclarationId) -> Result<Option<Booking>> {
        self.read(declaration_id, |c, id| Box::pin(read_live_booking(c, *id))).await
    }

    async fn slot_usage(&self, gate_pair: &GatePairId, direction: Direction, from: Timestamp, until: Timestamp) -> Result<Vec<SlotUse>> {
        self.read((gate_pair.clone(), direction, from, until), |c, (g, d, f, u)| Box::pin(slot_usage(c, g, *d, *f, *u))).await
    }

    async fn add_suspension(&self, gate_pair: &GatePairId, s: &Suspension, actor: Actor<'_>) -> Result<SuspensionId> {
        self.write((gate_pair.clone(), s.clone(), actor.owned()), always, |c, (g, s, a)| Box::pin(add_suspension(c, g, s, a.actor()))).await
    }

    async fn suspensions(&self, gate_pair: &GatePairId, from: Timestamp, until: Timestamp) -> Result<Vec<(SuspensionId, Suspension)>> {
        self.read((gate_pair.clone(), from, until), |c, (g, f, u)| Box::pin(suspensions(c, g, *f, *u))).await
    }

    async fn join_queue(&self, t: NewTrip, actor: Actor<'_>) -> Result<TripRecord> {
        self.write((t, actor.owned()), always, |c, (t, a)| Box::pin(join_queue(c, t, a.actor()))).await
    }

    async fn trip(&self, id: TripId) -> Result<Option<TripRecord>> {
        self.read(id, |c, id| Box::pin(read_trip(c, *id))).await
    }

    async fn trip_of_declaration(&self, declaration_id: DeclarationId) -> Result<Option<TripRecord>> {
        self.read(declaration_id, |c, id| {
            Box::pin(async move {
                let sql = format!("SELECT {TRIP_COLS} FROM trips WHERE declaration_id = $1");
                Ok(opt::<TripRow, _>(c, &sql, params![*id]).await?.map(|t| t.0))
            })
        })
        .await
    }

    async fn trips(&self, q: TripQuery<'_>) -> Result<Vec<TripRecord>> {
        self.read(TripFilter::from(q), |c, q| Box::pin(trips(c, q))).await
    }

    async fn call_trips(&self, calls: &[Call], actor: Actor<'_>) -> Result<Vec<TripRecord>> {
        self.write((calls.to_vec(), actor.owned()), always, |c, (calls, a)| Box::pin(call_trips(c, calls, a.actor()))).await
    }

    async fn requeue_unanswered(&self, gate_pair: &GatePairId, now: Timestamp, actor: Actor<'_>) -> Result<Vec<TripId>> {
        self.write((gate_pair.clone(), now, actor.owned()), always, |c, (g, now, a)| Box::pin(requeue_unanswered(c, g, *now, a.actor())))
            .await
    }

    async fn trip_step(
        &self,
        id: TripId,
        index: usize,
        officer: (Side, Agency),
        act: Act,
        side_open: bool,
        actor: Actor<'_>,
    ) -> Result<std::result::Result<TripRecord, ClearanceError>> {
        let s = StepAct { id, index, officer, act, side_open };
        self.write(
            (s, actor.owned()),
            |r: &std::result::Result<TripRecord, ClearanceError>| r.is_ok(),
            |c, (s, a)| Box::pin(trip_step(c, s, a.actor())),
        )
        .await
    }

    async fn record_fee(&self, id: TripId, fee: &Fee, actor: Actor<'_>) -> Result<TripRecord> {
        self.write((id, fee.clone(), actor.owned()), always, |c, (id, fee, a)| Box::pin(record_fee(c, *id, fee, a.actor()))).await
    }

    async fn report_position(&self, id: TripId, pos: Position, eta: Option<Timestamp>, actor: Actor<'_>) -> Result<TripRecord> {
        self.write((id, pos, eta, actor.owned()), always, |c, (id, pos, eta, a)| Box::pin(report_position(c, *id, *pos, *eta, a.actor())))
            .await
    }

    async fn release_no_shows(&self, gate_pair: &GatePairId, cutoff: Timestamp, actor: Actor<'_>) -> Result<Vec<Booking>> {
        self.write((gate_pair.clone(), cutoff, actor.owned()), always, |c, (g, cut, a)| Box::pin(release_no_shows(c, g, *cut, a.actor())))
            .await
    }

    async fn due_notifications(&self, now: Timestamp, limit: u32) -> Result<Vec<Notification>> {
        self.read((now, limit), |c, (now, limit)| Box::pin(due_notifications(c, *now, *limit))).await
    }

    async fn notification_attempt(
        &self,
        id: i64,
        delivered: bool,
        error: Option<&str>,
        next_attempt: Timestamp,
        at: Timestamp,
    ) -> Result<()> {
        let a = Attempt { id, delivered, error: error.map(str::to_string), next_attempt, at };
        self.write(a, always, |c, a| Box::pin(notification_attempt(c, a))).await
    }
}
