//! The goods context's SQL: declarations, their lists by scope, their state changes through the
//! core's rules, and what a camera's plate read finds.

use super::audit::append;
use super::gate::{read_live_booking, release_booking};
use super::reference::require_pair;
use super::{Conn, Engine, FromRow, Row, Value, all, always, opt, params, scalar};
use crate::goods::{DeclarationQuery, DeclarationRecord, NewDeclaration};
use crate::{Actor, GoodsStore, Missing, Result, StoreError};
use async_trait::async_trait;
use cuakhau_core::goods::declaration::DeclEvent;
use cuakhau_core::goods::gate::TripStatus;
use cuakhau_core::goods::parties::{Driver, Plate, VehicleKind};
use cuakhau_core::goods::{DeclState, Declaration, Refusal};
use cuakhau_core::{DeclarationId, Direction, GatePairId, Side, Timestamp, TripId};

pub const DECL_COLS: &str = "id, enterprise_code, gate_pair_id, direction, plate, plate_country, vehicle_kind, driver_name, \
    driver_nationality, driver_document_no, consignments_json, state, version, reasons_json, accepted_at_us, valid_until_us, \
    created_at_us, updated_at_us, track_code, (SELECT t.status FROM trips t WHERE t.declaration_id = declarations.id) AS trip_status";

/// A declaration read from `DECL_COLS`.
#[derive(Debug)]
pub struct DeclRow(pub DeclarationRecord);

impl FromRow for DeclRow {
    fn from_row(r: &Row) -> Result<Self> {
        let bad = |e: cuakhau_core::FieldError| StoreError::Corrupt(format!("declaration: {e}"));
        let driver = match r.get::<Option<String>>("driver_name")? {
            Some(n) => {
                let nat: Option<String> = r.get("driver_nationality")?;
                let doc: Option<String> = r.get("driver_document_no")?;
                Some(Driver::parse(&n, nat.as_deref().unwrap_or(""), doc.as_deref().unwrap_or("")).map_err(bad)?)
            }
            None => None,
        };
        let state: String = r.get("state")?;
        let reasons: Option<String> = r.get("reasons_json")?;
        let version: i64 = r.get("version")?;
        let side: String = r.get("plate_country")?;
        Ok(DeclRow(DeclarationRecord {
            id: r.get("id")?,
            enterprise: r.get("enterprise_code")?,
            gate_pair: GatePairId::parse(&r.get::<String>("gate_pair_id")?).map_err(bad)?,
            direction: Direction::parse("direction", &r.get::<String>("direction")?).map_err(bad)?,
            plate: Plate::parse(&r.get::<String>("plate")?, Side::parse("plate_country", &side).map_err(bad)?).map_err(bad)?,
            vehicle_kind: VehicleKind::parse(&r.get::<String>("vehicle_kind")?).map_err(bad)?,
            driver,
            declaration: Declaration {
                state: crate::goods::state_from_columns(&state, reasons.as_deref(), r.get("accepted_at_us")?, r.get("valid_until_us")?)?,
                version: version as u32,
                consignments: crate::goods::consignments_from_json(&r.get::<String>("consignments_json")?)?,
            },
            created_at: Timestamp(r.get("created_at_us")?),
            updated_at: Timestamp(r.get("updated_at_us")?),
            track_code: r.get::<Option<String>>("track_code")?.unwrap_or_default(),
            trip_status: match r.get::<Option<String>>("trip_status")? {
                Some(t) => Some(TripStatus::parse(&t).ok_or_else(|| StoreError::Corrupt(format!("trip status {t:?}")))?),
                None => None,
            },
        }))
    }
}

pub async fn read_decl<C: Conn>(c: &mut C, id: DeclarationId) -> Result<Option<DeclarationRecord>> {
    Ok(opt::<DeclRow, _>(c, &format!("SELECT {DECL_COLS} FROM declarations WHERE id = $1"), params![id]).await?.map(|d| d.0))
}

/// The declaration, which must exist.
pub async fn require_decl<C: Conn>(c: &mut C, id: DeclarationId) -> Result<DeclarationRecord> {
    read_decl(c, id).await?.ok_or(StoreError::NotFound(Missing::Declaration(id)))
}

pub async fn create_declaration<C: Conn>(c: &mut C, d: &NewDeclaration, actor: Actor<'_>) -> Result<DeclarationRecord> {
    require_pair(c, &d.gate_pair).await?;
    let now = actor.at.as_micros();
    let id: DeclarationId = scalar(
        c,
        "INSERT INTO declarations (enterprise_code, gate_pair_id, direction, plate, plate_key, plate_country, vehicle_kind,
         driver_name, driver_nationality, driver_document_no, consignments_json, state, version, created_at_us, updated_at_us, track_code)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'draft', 1, $12, $12, $13) RETURNING id",
        params![
            d.enterprise.as_str(),
            d.gate_pair.as_str(),
            d.direction.code(),
            &d.plate.display,
            &d.plate.key,
            d.plate.country.code(),
            d.vehicle_kind.code(),
            d.driver.as_ref().map(|x| x.name.clone()),
            d.driver.as_ref().map(|x| x.nationality.code()),
            d.driver.as_ref().map(|x| x.document_no.clone()),
            crate::goods::consignments_json(&d.consignments),
            now,
            &d.track_code
        ],
    )
    .await?;
    let rec = require_decl(c, id).await?;
    append(
        c,
        &actor,
        Some(rec.gate_pair.as_str()),
        "declaration.create",
        format!("declaration/{id}"),
        None,
        Some(crate::goods::snapshot(&rec)),
    )
    .await?;
    Ok(rec)
}

/// An owned [`DeclarationQuery`], for work handed to another thread.
#[derive(Debug, Clone)]
pub struct DeclarationFilter {
    pub scope: cuakhau_core::auth::ReadScope,
    pub states: Vec<cuakhau_core::goods::StateKind>,
    pub gate_pair: Option<GatePairId>,
    pub direction: Option<Direction>,
    pub before: Option<DeclarationId>,
    pub limit: u32,
}

impl From<DeclarationQuery<'_>> for DeclarationFilter {
    fn from(q: DeclarationQuery<'_>) -> Self {
        DeclarationFilter {
            scope: q.scope.clone(),
            states: q.states.to_vec(),
            gate_pair: q.gate_pair.cloned(),
            direction: q.direction,
            before: q.before,
            limit: q.limit,
        }
    }
}

pub async fn declarations<C: Conn>(c: &mut C, q: &DeclarationFilter) -> Result<Vec<DeclarationRecord>> {
    use cuakhau_core::auth::ReadScope;
    // Every value is bound as a parameter; the SQL text holds only $n markers.
    let mut values: Vec<Value> = Vec::new();
    let list = |vals: Vec<String>, values: &mut Vec<Value>| {
        vals.into_iter()
            .map(|v| {
                values.push(Value::from(v));
                format!("${}", values.len())
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut clauses: Vec<String> = Vec::new();
    if let ReadScope::Only { enterprises, gate_pairs } = &q.scope {
        let mut any = Vec::new();
        if !enterprises.is_empty() {
            any.push(format!("enterprise_code IN ({})", list(enterprises.clone(), &mut values)));
        }
        if !gate_pairs.is_empty() {
            any.push(format!("gate_pair_id IN ({})", list(gate_pairs.iter().map(|g| g.as_str().to_string()).collect(), &mut values)));
        }
        if any.is_empty() {
            return Ok(Vec::new());
        }
        clauses.push(format!("({})", any.join(" OR ")));
    }
    if !q.states.is_empty() {
        clauses.push(format!("state IN ({})", list(state_codes(&q.states), &mut values)));
    }
    if let Some(g) = &q.gate_pair {
        clauses.push(format!("gate_pair_id = {}", list(vec![g.as_str().to_string()], &mut values)));
    }
    if let Some(d) = q.direction {
        clauses.push(format!("direction = {}", list(vec![d.code().to_string()], &mut values)));
    }
    let n = values.len();
    let mut sql = format!("SELECT {DECL_COLS} FROM declarations WHERE id < ${}", n + 1);
    for c in &clauses {
        sql.push_str(" AND ");
        sql.push_str(c);
    }
    sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", n + 2));
    values.push(Value::from(q.before.map_or(i64::MAX, DeclarationId::get)));
    values.push(Value::from(i64::from(q.limit)));
    Ok(all::<DeclRow, _>(c, &sql, &values).await?.into_iter().map(|d| d.0).collect())
}

/// The states of a filter once each, in one order: at most five bound parameters, and one statement
/// text per set of states, however the caller repeats or orders them (each distinct text is a
/// statement every connection prepares and keeps).
fn state_codes(states: &[cuakhau_core::goods::StateKind]) -> Vec<String> {
    cuakhau_core::goods::StateKind::ALL.into_iter().filter(|k| states.contains(k)).map(|k| k.code().to_string()).collect()
}

pub async fn declaration_event<C: Conn>(c: &mut C, id: DeclarationId, event: &DeclEvent, actor: Actor<'_>) -> Result<DeclarationRecord> {
    let before = require_decl(c, id).await?;
    let action = format!(
        "declaration.{}",
        match event {
            DeclEvent::Submit => "submit",
            DeclEvent::Accept { .. } => "accept",
            DeclEvent::Reject { .. } => "reject",
            DeclEvent::Amend { .. } => "amend",
            DeclEvent::Cancel => "cancel",
        }
    );
    // Where the truck stands decides first: once called, the declaration never changes.
    let trip = opt::<TripIdStatus, _>(c, "SELECT id, status FROM trips WHERE declaration_id = $1", params![id]).await?;
    let trip_status = trip
        .as_ref()
        .map(|t| TripStatus::parse(&t.status).ok_or_else(|| StoreError::Corrupt(format!("trip {} has status {:?}", t.id, t.status))))
        .transpose()?;
    let trip_next =
        cuakhau_core::goods::gate::declaration_change(event, trip_status).map_err(|e| StoreError::Refused(Refusal::TripLocked(e)))?;
    let next = before.declaration.apply(event.clone()).map_err(|e| StoreError::Refused(Refusal::Transition(e)))?;
    if let (Some(status), Some(t)) = (trip_next, &trip) {
        c.execute("UPDATE trips SET status = $1, updated_at_us = $2 WHERE id = $3", params![status.code(), actor.at.as_micros(), t.id])
            .await?;
        append(
            c,
            &actor,
            Some(before.gate_pair.as_str()),
            "trip.withdraw",
            format!("trip/{}", t.id),
            Some(serde_json::json!({"status": t.status}).to_string()),
            Some(serde_json::json!({"status": status.code()}).to_string()),
        )
        .await?;
    }
    let (state, reasons, accepted, valid) = crate::goods::state_columns(&next.state);
    c.execute(
        "UPDATE declarations SET state = $1, version = $2, reasons_json = $3, accepted_at_us = $4, valid_until_us = $5, consignments_json = $6,
         updated_at_us = $7 WHERE id = $8",
        params![
            state,
            i64::from(next.version),
            reasons,
            accepted,
            valid,
            crate::goods::consignments_json(&next.consignments),
            actor.at.as_micros(),
            id
        ],
    )
    .await?;
    // Leaving `accepted` gives up the slot the declaration held.
    if !matches!(next.state, DeclState::Accepted { .. })
        && let Some(b) = read_live_booking(c, id).await?
    {
        release_booking(c, &b).await?;
        let after = serde_json::json!({"declaration": id.get(), "reason": action}).to_string();
        append(c, &actor, Some(b.gate_pair.as_str()), "slot.release", format!("booking/{}", b.id), None, Some(after)).await?;
    }
    let after = require_decl(c, id).await?;
    let (b, a) = (crate::goods::snapshot(&before), crate::goods::snapshot(&after));
    append(c, &actor, Some(before.gate_pair.as_str()), &action, format!("declaration/{id}"), Some(b), Some(a)).await?;
    Ok(after)
}

/// A trip's id and status code.
#[derive(Debug)]
pub struct TripIdStatus {
    pub id: TripId,
    pub status: String,
}

impl FromRow for TripIdStatus {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(TripIdStatus { id: r.get("id")?, status: r.get("status")? })
    }
}

pub async fn declaration_for_plate<C: Conn>(
    c: &mut C,
    gate_pair: &GatePairId,
    plate_key: &str,
    now: Timestamp,
) -> Result<Option<DeclarationRecord>> {
    let sql = format!(
        "SELECT {DECL_COLS} FROM declarations WHERE gate_pair_id = $1 AND plate_key = $2 AND state = 'accepted' AND valid_until_us > $3
         AND NOT EXISTS (SELECT 1 FROM trips t WHERE t.declaration_id = declarations.id AND t.status <> 'virtual') ORDER BY id DESC LIMIT 1"
    );
    Ok(opt::<DeclRow, _>(c, &sql, params![gate_pair.as_str(), plate_key, now.as_micros()]).await?.map(|d| d.0))
}

#[async_trait]
impl<E: Engine> GoodsStore for E {
    async fn create_declaration(&self, d: NewDeclaration, actor: Actor<'_>) -> Result<DeclarationRecord> {
        self.write((d, actor.owned()), always, |c, (d, a)| Box::pin(create_declaration(c, d, a.actor()))).await
    }

    async fn declaration(&self, id: DeclarationId) -> Result<Option<DeclarationRecord>> {
        self.read(id, |c, id| Box::pin(read_decl(c, *id))).await
    }

    async fn declarations(&self, q: DeclarationQuery<'_>) -> Result<Vec<DeclarationRecord>> {
        self.read(DeclarationFilter::from(q), |c, q| Box::pin(declarations(c, q))).await
    }

    async fn declaration_event(&self, id: DeclarationId, event: DeclEvent, actor: Actor<'_>) -> Result<DeclarationRecord> {
        self.write((id, event, actor.owned()), always, |c, (id, ev, a)| Box::pin(declaration_event(c, *id, ev, a.actor()))).await
    }

    async fn declaration_for_plate(&self, gate_pair: &GatePairId, plate_key: &str, now: Timestamp) -> Result<Option<DeclarationRecord>> {
        self.read((gate_pair.clone(), plate_key.to_string(), now), |c, (g, p, now)| Box::pin(declaration_for_plate(c, g, p, *now))).await
    }
}

#[cfg(test)]
mod tests {
    use cuakhau_core::goods::StateKind;

    #[test]
    fn a_state_filter_is_each_state_once_in_one_order() {
        let many = vec![StateKind::Draft; 10_000];
        assert_eq!(super::state_codes(&many), ["draft"]);
        let mixed = [StateKind::Cancelled, StateKind::Draft, StateKind::Cancelled, StateKind::Accepted, StateKind::Draft];
        assert_eq!(super::state_codes(&mixed), ["draft", "accepted", "cancelled"]);
        assert_eq!(super::state_codes(&[]), Vec::<String>::new());
    }
}
