//! The goods flow: declarations (file, submit, amend, cancel; accept or reject by the exit side's
//! customs), the slot calendar, slot booking with the next free hours when full, and suspensions.

use crate::{App, AppError, ConflictKind, Principal, Result, What};
use cuakhau_core::auth::{Action, Role};
use cuakhau_core::goods::declaration::DeclEvent;
use cuakhau_core::goods::parties::{Driver, EnterpriseCode, Plate, VehicleKind};
use cuakhau_core::goods::slots::{Bucket, SlotPolicy, Suspension, hour_capacity, hour_of};
use cuakhau_core::goods::{Consignment, DeclState};
use cuakhau_core::{DeclarationId, Direction, FieldError, GatePairId, Problem, Side, SuspensionId, Timestamp};
use cuakhau_store::goods::{Booking, BookingOutcome, BookingRequest, DeclarationRecord, NewDeclaration};
use cuakhau_store::{Actor, Store};

/// Declarations stay valid this long after acceptance (China's rule since March 2025).
pub const VALIDITY_H: u32 = 72;

/// The goods-flow use cases.
#[derive(Debug, Clone, Copy)]
pub struct Goods<'a>(pub(crate) &'a App);

/// A declaration as filed, parsed (the enterprise is the declarant's own).
#[derive(Debug, Clone)]
pub struct Filing {
    pub gate_pair: GatePairId,
    pub direction: Direction,
    pub plate: Plate,
    pub vehicle_kind: VehicleKind,
    pub driver: Option<Driver>,
    pub consignments: Vec<Consignment>,
}

/// Filters and page of a declaration list.
#[derive(Debug, Clone, Default)]
pub struct DeclarationFilter {
    /// Any of these states; all when empty.
    pub states: Vec<cuakhau_core::goods::StateKind>,
    pub gate_pair: Option<GatePairId>,
    pub direction: Option<Direction>,
    /// Only declarations a customs officer of this side decides (the exit side).
    pub exit_side: Option<Side>,
    /// Only declarations older than this one.
    pub cursor: Option<i64>,
    /// Page size, 1 to 200 (default 100).
    pub limit: Option<u32>,
}

/// A page of a list: the items and, when there are more, the cursor of the next page.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<i64>,
    /// The page size used.
    pub limit: u32,
}

/// One bucket of an hour: its capacity and how much of it is booked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BucketUse {
    pub bucket: Bucket,
    pub capacity: u32,
    pub booked: u32,
}

/// One hour of the slot calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotHour {
    pub hour: Timestamp,
    /// Every bucket, in `Bucket::ALL` order.
    pub buckets: Vec<BucketUse>,
}

impl SlotHour {
    pub fn capacity(&self) -> u32 {
        self.buckets.iter().map(|b| b.capacity).sum()
    }
    pub fn booked(&self) -> u32 {
        self.buckets.iter().map(|b| b.booked).sum()
    }
    pub fn free(&self) -> u32 {
        self.buckets.iter().map(|b| b.capacity.saturating_sub(b.booked)).sum()
    }
    /// Free places in the buckets `candidates` (those a truck may use).
    pub fn free_for(&self, candidates: &[Bucket]) -> u32 {
        self.buckets.iter().filter(|b| candidates.contains(&b.bucket)).map(|b| b.capacity.saturating_sub(b.booked)).sum()
    }
    /// Whether a truck that may use `candidates` finds room.
    fn has_room(&self, candidates: &[Bucket]) -> bool {
        self.free_for(candidates) > 0
    }
}

/// The enterprise a principal declares for: the code of their enterprise role.
fn enterprise_of(who: &Principal) -> Result<String> {
    who.signed_in()?
        .roles
        .iter()
        .find_map(|r| if let Role::Enterprise { code } = r { Some(code.clone()) } else { None })
        .ok_or(AppError::Forbidden)
}

impl Goods<'_> {
    /// A declaration the principal may read; someone else's does not exist, as far as they can
    /// tell (signed in first: the public learns nothing about which declarations exist).
    pub async fn declaration(&self, who: &Principal, id: DeclarationId) -> Result<DeclarationRecord> {
        who.signed_in()?;
        let d = self.0.store().declaration(id).await?.ok_or(AppError::NotFound(What::Declaration(id)))?;
        if who.may(Action::ReadDeclaration { enterprise: &d.enterprise, gate_pair: &d.gate_pair }) {
            Ok(d)
        } else {
            Err(AppError::NotFound(What::Declaration(id)))
        }
    }

    /// May the principal file declarations at all (an enterprise user)? Asked before the body is
    /// read, so that a refusal does not depend on the body.
    pub fn may_declare(&self, who: &Principal) -> Result<()> {
        let enterprise = enterprise_of(who)?;
        who.require(Action::Declare { enterprise: &enterprise })?;
        Ok(())
    }

    /// Files a declaration (state draft) for the principal's enterprise, with a fresh tracking code.
    pub async fn declare(&self, who: &Principal, f: Filing) -> Result<DeclarationRecord> {
        let enterprise = enterprise_of(who)?;
        let user = who.require(Action::Declare { enterprise: &enterprise })?;
        if f.driver.is_none() && f.vehicle_kind != VehicleKind::Agv {
            return Err(AppError::Invalid(FieldError::new("driver", Problem::Other("a driver is required unless the vehicle is an AGV"))));
        }
        if f.consignments.is_empty() {
            return Err(AppError::Invalid(FieldError::new("consignments", Problem::Empty)));
        }
        let new = NewDeclaration {
            enterprise: EnterpriseCode::parse(&enterprise)?,
            gate_pair: f.gate_pair,
            direction: f.direction,
            plate: f.plate,
            vehicle_kind: f.vehicle_kind,
            driver: f.driver,
            consignments: f.consignments,
            track_code: crate::secrets::new_track_code(self.0.entropy()),
        };
        Ok(self.0.store().create_declaration(new, Actor { name: &user.username, at: self.0.now() }).await?)
    }

    /// Declarations in the principal's scope and `f`'s filters, newest first, one page.
    pub async fn declarations(&self, who: &Principal, f: &DeclarationFilter) -> Result<Page<DeclarationRecord>> {
        let u = who.signed_in()?;
        let limit = f.limit.unwrap_or(100);
        if !(1..=200).contains(&limit) {
            return Err(AppError::Invalid(FieldError::new("limit", Problem::OutOfRange { min: 1.0, max: 200.0 })));
        }
        if f.cursor.is_some_and(|c| c < 1) {
            return Err(AppError::Invalid(FieldError::new("cursor", Problem::OutOfRange { min: 1.0, max: i64::MAX as f64 })));
        }
        let mut direction = f.direction;
        if let Some(side) = f.exit_side {
            let d = if side == Side::Vn { Direction::Export } else { Direction::Import };
            if direction.is_some_and(|x| x != d) {
                return Ok(Page { items: vec![], next: None, limit });
            }
            direction = Some(d);
        }
        let scope = cuakhau_core::auth::declaration_scope(&u.roles);
        let mut rows = self
            .0
            .store()
            .declarations(cuakhau_store::goods::DeclarationQuery {
                scope: &scope,
                states: &f.states,
                gate_pair: f.gate_pair.as_ref(),
                direction,
                before: f.cursor.map(DeclarationId),
                limit: limit + 1,
            })
            .await?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next = rows.last().filter(|_| more).map(|last| last.id.get());
        Ok(Page { items: rows, next, limit })
    }

    /// Applies a state change for whoever `who_may` says may make it on this declaration.
    async fn apply(
        &self,
        who: &Principal,
        id: DeclarationId,
        event: DeclEvent,
        who_may: for<'a> fn(&'a DeclarationRecord) -> Action<'a>,
    ) -> Result<DeclarationRecord> {
        let d = self.declaration(who, id).await?;
        let user = who.require(who_may(&d))?;
        let after = self.0.store().declaration_event(id, event, Actor { name: &user.username, at: self.0.now() }).await?;
        // A cancel withdraws a queued truck and releases its booking: the gate pair's boards are
        // told of every change to a declaration (as the follower tells them of every audited one).
        self.0.events().publish(&after.gate_pair);
        Ok(after)
    }

    /// The declarant's own changes: submit, amend, cancel.
    async fn by_owner(&self, who: &Principal, id: DeclarationId, event: DeclEvent) -> Result<DeclarationRecord> {
        self.apply(who, id, event, |d| Action::Declare { enterprise: &d.enterprise }).await
    }

    /// The exit side's customs decides.
    async fn by_customs(&self, who: &Principal, id: DeclarationId, event: DeclEvent) -> Result<DeclarationRecord> {
        self.apply(who, id, event, |d| Action::DecideDeclaration { gate_pair: &d.gate_pair, side: d.direction.exit_side() }).await
    }

    pub async fn submit(&self, who: &Principal, id: DeclarationId) -> Result<DeclarationRecord> {
        self.by_owner(who, id, DeclEvent::Submit).await
    }
    pub async fn amend(&self, who: &Principal, id: DeclarationId, consignments: Vec<Consignment>) -> Result<DeclarationRecord> {
        if consignments.is_empty() {
            return Err(AppError::Invalid(FieldError::new("consignments", Problem::Empty)));
        }
        self.by_owner(who, id, DeclEvent::Amend { consignments }).await
    }
    pub async fn cancel(&self, who: &Principal, id: DeclarationId) -> Result<DeclarationRecord> {
        self.by_owner(who, id, DeclEvent::Cancel).await
    }
    /// Accepts now, valid for [`VALIDITY_H`] hours.
    pub async fn accept(&self, who: &Principal, id: DeclarationId) -> Result<DeclarationRecord> {
        let at = self.0.now();
        self.by_customs(who, id, DeclEvent::Accept { at, validity_h: VALIDITY_H }).await
    }
    /// Rejects with reasons (blank ones are dropped; at least one must remain).
    pub async fn reject(&self, who: &Principal, id: DeclarationId, reasons: &[String]) -> Result<DeclarationRecord> {
        let reasons: Vec<String> = reasons.iter().map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect();
        if reasons.is_empty() {
            return Err(AppError::Invalid(FieldError::new("reasons", Problem::Empty)));
        }
        self.by_customs(who, id, DeclEvent::Reject { reasons }).await
    }

    /// The capacity of each hour from `from`, and what is booked: the one slot calendar that
    /// booking, the enterprise's page and the public board all show.
    pub async fn calendar(&self, pair: &GatePairId, direction: Direction, from: Timestamp, hours: u32) -> Result<Vec<SlotHour>> {
        self.calendar_from(self.0.store().as_ref(), pair, direction, from, hours).await
    }

    /// [`Self::calendar`], its bookings read from `store` (the primary or the read replica).
    pub(crate) async fn calendar_from(
        &self,
        store: &dyn Store,
        pair: &GatePairId,
        direction: Direction,
        from: Timestamp,
        hours: u32,
    ) -> Result<Vec<SlotHour>> {
        if !(1..=168).contains(&hours) {
            return Err(AppError::Invalid(FieldError::new("hours", Problem::OutOfRange { min: 1.0, max: 168.0 })));
        }
        let reference = self.0.reference();
        let data = reference.data().await?;
        let gp = data.gate_pairs.iter().find(|g| g.id == *pair).ok_or_else(|| AppError::NotFound(What::GatePair(pair.as_str().into())))?;
        let start = hour_of(from);
        let until = start.plus_seconds(hours as i64 * 3600);
        let used = store.slot_usage(pair, direction, start, until).await?;
        let all = reference.suspensions(pair, start).await?;
        let suspensions: Vec<Suspension> = all.iter().filter(|s| s.until > start && s.from < until).cloned().collect();
        let policy = SlotPolicy::default();
        Ok((0..hours as i64)
            .map(|k| {
                let h = start.plus_seconds(k * 3600);
                let cap = hour_capacity(gp, &data.lanes, direction, h, &suspensions, &policy);
                let buckets = Bucket::ALL
                    .iter()
                    .map(|&b| {
                        let u = used.iter().find(|u| u.hour == h && u.bucket == b);
                        // The hour's capacity as it is now, from the lanes, hours and suspensions:
                        // bookings are taken against it (see `book`).
                        let capacity = cap.of(b);
                        BucketUse { bucket: b, capacity, booked: u.map_or(0, |u| u.used) }
                    })
                    .collect();
                SlotHour { hour: h, buckets }
            })
            .collect())
    }

    /// Books the hour starting at or containing `hour` for the declaration's truck.
    pub async fn book(&self, who: &Principal, id: DeclarationId, hour: Timestamp) -> Result<Booking> {
        let app = self.0;
        let d = self.declaration(who, id).await?;
        let user = who.require(Action::Declare { enterprise: &d.enterprise })?;
        let hour = hour_of(hour);
        let now = app.now();
        let bad = |why| AppError::Invalid(FieldError::new("hour", Problem::Other(why)));
        if hour < hour_of(now) {
            return Err(bad("the hour has passed"));
        }
        // No booking past the declaration's validity, nor further ahead than the configured horizon.
        if let DeclState::Accepted { valid_until, .. } = d.declaration.state
            && hour >= valid_until
        {
            return Err(bad("the hour starts after the declaration's validity ends"));
        }
        if hour > now.plus_seconds(app.config().max_booking_ahead_h * 3600) {
            return Err(bad("the hour is further ahead than bookings may be made"));
        }
        // The hour's capacity from the lanes, both sides' hours and the suspensions (all cached),
        // as it is now: a lane added or closed since the hour's first booking counts.
        let reference = app.reference();
        let (gp, lanes) = reference.pair_with_lanes(&d.gate_pair).await?;
        let all = reference.suspensions(&d.gate_pair, hour).await?;
        let suspensions: Vec<Suspension> = all.iter().filter(|s| s.until > hour && s.from < hour.plus_seconds(3600)).cloned().collect();
        let capacity = hour_capacity(&gp, &lanes, d.direction, hour, &suspensions, &SlotPolicy::default());
        let candidates = Bucket::candidates(d.declaration.is_perishable(), d.vehicle_kind == VehicleKind::Agv);
        // The enterprise's day, in Vietnam's calendar for exports and China's for imports.
        let day = hour.to_rfc3339_in(d.direction.exit_side().zone())[..10].to_string();
        let req = BookingRequest {
            declaration_id: id,
            hour,
            capacity,
            candidates,
            day,
            per_day_limit: SlotPolicy::default().per_enterprise_per_day,
            gate_pair: Some(d.gate_pair.clone()),
        };
        match app.store().book_slot(req, Actor { name: &user.username, at: now }).await? {
            BookingOutcome::Booked(b) => {
                // The board shows the bookings ahead.
                app.events().publish(&d.gate_pair);
                Ok(b)
            }
            BookingOutcome::Full => {
                // Offer the next hours with room for this truck.
                let next = self.calendar(&d.gate_pair, d.direction, hour.plus_seconds(3600), 72).await?;
                let alternatives = next.iter().filter(|h| h.has_room(candidates)).take(5).map(|h| h.hour).collect();
                Err(AppError::Conflict(ConflictKind::HourFull { alternatives, direction: d.direction }))
            }
            BookingOutcome::DailyLimitReached => Err(AppError::Conflict(ConflictKind::DailyLimit)),
            BookingOutcome::AlreadyBooked(b) => Err(AppError::Conflict(ConflictKind::AlreadyBooked { booking: b.id })),
            BookingOutcome::NotBookable { state } => {
                Err(AppError::Conflict(ConflictKind::Stored(cuakhau_core::i18n::ConflictKind::DeclarationNotValid {
                    declaration: id,
                    state: state.to_string(),
                })))
            }
        }
    }

    /// The declaration's live booking.
    pub async fn booking(&self, who: &Principal, id: DeclarationId) -> Result<Booking> {
        self.declaration(who, id).await?;
        self.0.store().live_booking(id).await?.ok_or(AppError::NotFound(What::BookingOf(id)))
    }

    /// Cancels the declaration's live booking (the declarant).
    pub async fn cancel_booking(&self, who: &Principal, id: DeclarationId) -> Result<Booking> {
        let d = self.declaration(who, id).await?;
        let user = who.require(Action::Declare { enterprise: &d.enterprise })?;
        let b = self.0.store().live_booking(id).await?.ok_or(AppError::NotFound(What::BookingOf(id)))?;
        let cancelled = self.0.store().cancel_booking(b.id, Actor { name: &user.username, at: self.0.now() }).await?;
        self.0.events().publish(&d.gate_pair);
        Ok(cancelled)
    }

    /// Suspends one side of a gate pair for a while (that side's gate board); returns its id.
    pub async fn suspend(&self, who: &Principal, pair: &GatePairId, s: &Suspension) -> Result<SuspensionId> {
        let user = who.require(Action::EditGate { gate_pair: pair, side: s.side })?;
        if s.until <= s.from {
            return Err(AppError::Invalid(FieldError::new("until", Problem::Other("until must be after from"))));
        }
        let id = self.0.store().add_suspension(pair, s, Actor { name: &user.username, at: self.0.now() }).await?;
        self.0.inner.caches.suspensions.lock().expect("not poisoned").remove(pair.as_str());
        self.0.events().publish(pair);
        Ok(id)
    }

    /// Current and coming suspensions of a gate pair, with their ids.
    pub async fn suspensions(&self, pair: &GatePairId) -> Result<Vec<(SuspensionId, Suspension)>> {
        Ok(self.0.store().suspensions(pair, self.0.now(), Timestamp(i64::MAX)).await?)
    }
}
