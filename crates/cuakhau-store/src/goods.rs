//! Stored shapes of the goods flow: declarations with their vehicle and driver, and bookings of
//! slot capacity.

use crate::StoreError;
use cuakhau_core::goods::declaration::{ConsignmentFields, DeclState};
use cuakhau_core::goods::parties::{Driver, EnterpriseCode, Plate, VehicleKind};
use cuakhau_core::goods::slots::{Bucket, HourCapacity};
use cuakhau_core::goods::{Consignment, Declaration};
use cuakhau_core::{BookingId, BookingStatus, DeclarationId, Direction, GatePairId, Timestamp};
use serde_json::{Value, json};

/// A declaration as an enterprise files it.
#[derive(Debug, Clone)]
pub struct NewDeclaration {
    pub enterprise: EnterpriseCode,
    pub gate_pair: GatePairId,
    pub direction: Direction,
    pub plate: Plate,
    pub vehicle_kind: VehicleKind,
    /// None only for a driverless AGV.
    pub driver: Option<Driver>,
    pub consignments: Vec<Consignment>,
    /// The driver's page secret (from the application's randomness).
    pub track_code: String,
}

/// A stored declaration: who, where, which vehicle, and the core's declaration (state, version,
/// goods).
#[derive(Debug, Clone, PartialEq)]
pub struct DeclarationRecord {
    pub id: DeclarationId,
    pub enterprise: String,
    pub gate_pair: GatePairId,
    pub direction: Direction,
    pub plate: Plate,
    pub vehicle_kind: VehicleKind,
    pub driver: Option<Driver>,
    pub declaration: Declaration,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The secret of the driver's page for this declaration.
    pub track_code: String,
    /// Where the declaration's truck stands, once it has joined a queue.
    pub trip_status: Option<cuakhau_core::goods::gate::TripStatus>,
}

/// Which declarations to list: the caller's scope and filters are applied in the query, then the
/// page is cut, newest first.
#[derive(Debug, Clone)]
pub struct DeclarationQuery<'a> {
    pub scope: &'a cuakhau_core::auth::ReadScope,
    /// Any of these states; empty means all.
    pub states: &'a [cuakhau_core::goods::StateKind],
    pub gate_pair: Option<&'a GatePairId>,
    pub direction: Option<Direction>,
    /// The cursor: only declarations with a smaller id.
    pub before: Option<DeclarationId>,
    pub limit: u32,
}

/// A request to book one hour of a gate pair in a direction.
#[derive(Debug, Clone)]
pub struct BookingRequest<'a> {
    pub declaration_id: DeclarationId,
    pub hour: Timestamp,
    /// The hour's capacity per bucket (from `cuakhau_core::goods::slots::hour_capacity`).
    pub capacity: HourCapacity,
    /// The buckets this truck may use, in the order to try them.
    pub candidates: &'a [Bucket],
    /// The enterprise's local day (`YYYY-MM-DD`), for the daily limit.
    pub day: String,
    pub per_day_limit: u32,
    /// The declaration's gate pair, when the caller knows it: engines with row locks let only a
    /// few of a process's bookings at one gate pair reach the database at a time (they would
    /// queue there on its slot counters and audit head anyway). The store books at the
    /// declaration's own gate pair either way.
    pub gate_pair: Option<GatePairId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    pub id: BookingId,
    pub declaration_id: DeclarationId,
    pub gate_pair: GatePairId,
    pub direction: Direction,
    pub hour: Timestamp,
    pub bucket: Bucket,
    pub status: BookingStatus,
}

/// How a booking attempt ended. Only `Booked` wrote anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookingOutcome {
    Booked(Booking),
    /// Every bucket the truck may use is full for that hour.
    Full,
    /// The enterprise holds its daily number of bookings.
    DailyLimitReached,
    /// The declaration already holds a booking.
    AlreadyBooked(Booking),
    /// The declaration is not accepted, or its validity has run out.
    NotBookable {
        /// The declaration's state code (`accepted` when only its validity has run out).
        state: &'static str,
    },
}

/// A slot counter: hour, bucket, the capacity its last booking was taken under, and how many
/// are booked (the limit of a new booking is the capacity in force when it is made).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotUse {
    pub hour: Timestamp,
    pub bucket: Bucket,
    pub capacity: u32,
    pub used: u32,
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

pub fn consignments_json(cs: &[Consignment]) -> String {
    Value::Array(
        cs.iter()
            .map(|c| {
                json!({"hs_code": c.hs.as_str(), "description_vi": c.description_vi, "description_zh": c.description_zh,
                   "packages": c.packages, "gross_kg": c.gross_kg, "value": c.value, "currency": c.currency, "origin": c.origin,
                   "shelf_life_h": c.perishable.map(|p| p.shelf_life_h), "certificate": c.certificate})
            })
            .collect(),
    )
    .to_string()
}

pub fn consignments_from_json(text: &str) -> Result<Vec<Consignment>, StoreError> {
    let v: Vec<Value> = serde_json::from_str(text).map_err(corrupt)?;
    v.iter()
        .enumerate()
        .map(|(i, c)| {
            let s = |k: &str| c[k].as_str().unwrap_or("").to_string();
            let (hs, dv, dz, cur, ori, cert) =
                (s("hs_code"), s("description_vi"), s("description_zh"), s("currency"), s("origin"), s("certificate"));
            Consignment::parse(
                i,
                &ConsignmentFields {
                    hs_code: &hs,
                    description_vi: &dv,
                    description_zh: &dz,
                    packages: c["packages"].as_u64().unwrap_or(0) as u32,
                    gross_kg: c["gross_kg"].as_f64().unwrap_or(0.0),
                    value: c["value"].as_f64().unwrap_or(0.0),
                    currency: &cur,
                    origin: &ori,
                    shelf_life_h: c["shelf_life_h"].as_u64().map(|h| h as u32),
                    certificate: &cert,
                },
            )
            .map_err(corrupt)
        })
        .collect()
}

/// A declaration's state as stored columns: (state, reasons JSON, accepted at, valid until).
pub fn state_columns(s: &DeclState) -> (&'static str, Option<String>, Option<i64>, Option<i64>) {
    match s {
        DeclState::Accepted { at, valid_until } => ("accepted", None, Some(at.as_micros()), Some(valid_until.as_micros())),
        DeclState::Rejected { reasons } => ("rejected", Some(Value::from(reasons.clone()).to_string()), None, None),
        other => (other.code(), None, None, None),
    }
}

pub fn state_from_columns(
    state: &str,
    reasons: Option<&str>,
    accepted: Option<i64>,
    valid_until: Option<i64>,
) -> Result<DeclState, StoreError> {
    Ok(match state {
        "draft" => DeclState::Draft,
        "submitted" => DeclState::Submitted,
        "cancelled" => DeclState::Cancelled,
        "accepted" => DeclState::Accepted {
            at: Timestamp(accepted.ok_or_else(|| corrupt("accepted without a time"))?),
            valid_until: Timestamp(valid_until.ok_or_else(|| corrupt("accepted without validity"))?),
        },
        "rejected" => DeclState::Rejected { reasons: serde_json::from_str(reasons.unwrap_or("[]")).map_err(corrupt)? },
        other => return Err(corrupt(format!("unknown declaration state {other}"))),
    })
}

/// A snapshot of a declaration for the audit log.
pub fn snapshot(d: &DeclarationRecord) -> String {
    json!({"id": d.id.get(), "enterprise": d.enterprise, "gate_pair": d.gate_pair.as_str(), "direction": d.direction.code(),
           "plate": d.plate.display, "state": d.declaration.state.code(), "version": d.declaration.version,
           "consignments": serde_json::from_str::<Value>(&consignments_json(&d.declaration.consignments)).unwrap_or(Value::Null)})
    .to_string()
}
