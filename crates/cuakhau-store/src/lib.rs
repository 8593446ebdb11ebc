//! The storage traits of cuakhau (one per context, `Store` over them all), the SQL implementation
//! both engines share (`sql`), and the conformance suite every backend must pass.
//!
//! API boundary: callers see [`Store`] and [`StoreError`] only. Which engine sits behind it is
//! decided once, in the CLI, from the database URL.

use async_trait::async_trait;
use cuakhau_core::audit::{ChainBreak, Verifier};
pub use cuakhau_core::i18n::{ConflictKind, Missing};
use cuakhau_core::refdata::LaneId;
use cuakhau_core::{
    AuditEntry, BookingId, DeclarationId, GatePair, GatePairId, Lane, ReferenceData, Role, Side, SuspensionId, Timestamp, TripId, UserId,
};

pub mod conformance;
pub mod goods;
pub mod ledger;
#[doc(hidden)]
pub use serde_json;
pub mod plan;
pub mod records;
pub mod sql;
pub mod trips;

/// What can go wrong in a store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// What was looked for (named in the caller's language at the edge).
    #[error("not found: {0}")]
    NotFound(Missing),
    /// What is stored refuses the change (a kind, worded in the caller's language at the edge).
    #[error("conflict: {0}")]
    Conflict(ConflictKind),
    /// The goods flow's rules refuse the change (worded in the caller's language at the edge).
    #[error("refused: {0}")]
    Refused(cuakhau_core::goods::Refusal),
    /// Data in the database that no longer validates (edited by hand, or an old format).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Backend(String),
    /// The engine rolled the transaction back because of a concurrent one (PostgreSQL's SQLSTATE
    /// 40001 or 40P01); running it again is safe. Write methods retry it a few times themselves.
    #[error("contention: {0}")]
    Contention(String),
}

/// How many more times a write transaction runs when the engine reports contention
/// (serialization failure or deadlock: nothing of the failed attempt was kept).
pub const CONTENTION_RETRIES: u32 = 5;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A user as the rest of the system sees it (no password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub created_at: Timestamp,
    /// Disabled accounts keep their record but cannot sign in.
    pub disabled: bool,
}

/// A change to an account: new roles, disabled or enabled again (`None`: unchanged).
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub roles: Option<Vec<Role>>,
    pub disabled: Option<bool>,
}

/// A new user; the password is already hashed by the caller.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub roles: Vec<Role>,
}

/// A change to one side's gate: its daily opening hours (`None` clears them).
#[derive(Debug, Clone, PartialEq)]
pub struct GateHoursChange {
    pub hours: Option<cuakhau_core::OpeningHours>,
}

/// What a reference-data load changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// Who did it and when; every write carries one, and it becomes the audit entry's actor and time.
#[derive(Debug, Clone)]
pub struct Actor<'a> {
    pub name: &'a str,
    pub at: Timestamp,
}

impl Actor<'_> {
    /// The same actor, owning its name (for work handed to another thread).
    pub fn owned(&self) -> OwnedActor {
        OwnedActor { name: self.name.to_string(), at: self.at }
    }
}

/// An [`Actor`] that owns its name.
#[derive(Debug, Clone)]
pub struct OwnedActor {
    pub name: String,
    pub at: Timestamp,
}

impl OwnedActor {
    pub fn actor(&self) -> Actor<'_> {
        Actor { name: &self.name, at: self.at }
    }
}

/// Reference data (gate pairs, gates, lanes, provinces, pairings) and node settings.
#[async_trait]
pub trait ReferenceStore: Send + Sync {
    /// True when no gate pair is stored yet (a fresh database).
    async fn is_empty(&self) -> Result<bool>;

    /// Inserts or updates every row of `data` in one transaction; rows equal to what is stored are
    /// left alone, so loading the same data twice changes nothing and writes no audit entry.
    async fn load_reference(&self, data: &ReferenceData, actor: Actor<'_>) -> Result<LoadReport>;

    /// Everything: provinces, pairings, gate pairs (in border order) and lanes.
    async fn reference(&self) -> Result<ReferenceData>;

    async fn gate_pair(&self, id: &GatePairId) -> Result<Option<GatePair>>;

    /// Sets one side's opening hours; returns the updated pair.
    async fn update_gate_hours(&self, id: &GatePairId, side: Side, change: GateHoursChange, actor: Actor<'_>) -> Result<GatePair>;

    async fn lane(&self, id: &LaneId) -> Result<Option<Lane>>;

    /// Creates the lane, or replaces it when its id exists; the gate pair must exist.
    async fn put_lane(&self, lane: &Lane, actor: Actor<'_>) -> Result<Lane>;

    async fn setting(&self, key: &str) -> Result<Option<String>>;
    async fn put_setting(&self, key: &str, value: &str, actor: Actor<'_>) -> Result<()>;
}

/// Users, sessions and idempotency keys.
#[async_trait]
pub trait AccountStore: Send + Sync {
    async fn create_user(&self, user: NewUser, actor: Actor<'_>) -> Result<User>;
    async fn list_users(&self) -> Result<Vec<User>>;
    /// The user and their password hash, by user name.
    async fn user_credentials(&self, username: &str) -> Result<Option<(User, String)>>;
    async fn set_password(&self, username: &str, password_hash: &str, actor: Actor<'_>) -> Result<()>;
    /// Changes roles or disables/enables an account, audited; disabling ends its sessions.
    async fn update_user(&self, username: &str, change: UserChange, actor: Actor<'_>) -> Result<User>;

    /// Stores a session under the SHA-256 of its token; the token itself is never stored.
    async fn create_session(&self, token_hash: &str, user_id: UserId, expires_at: Timestamp, actor: Actor<'_>) -> Result<()>;
    /// The session's user, if the session exists and has not expired at `now`.
    async fn session_user(&self, token_hash: &str, now: Timestamp) -> Result<Option<User>>;
    /// Audits a refused sign-in for the name that was tried (no password, no session).
    async fn record_failed_login(&self, username: &str, actor: Actor<'_>) -> Result<()>;
    /// Ends a session; true when there was one.
    async fn delete_session(&self, token_hash: &str, actor: Actor<'_>) -> Result<bool>;

    /// Claims an idempotency key for a request: `Ok(None)` when it is new (the caller runs the
    /// request and then calls `idempotency_finish`), else what was stored: the request's hash and,
    /// once finished, its status and body. A claim older than `stale_before` that never finished
    /// (its process died) is taken over.
    async fn idempotency_claim(
        &self,
        scope: &str,
        request_hash: &str,
        now: Timestamp,
        stale_before: Timestamp,
    ) -> Result<Option<(String, Option<(u16, String)>)>>;
    /// Stores the answer of a claimed key (or forgets the claim when `answer` is None: the request
    /// failed in a way worth retrying).
    async fn idempotency_finish(&self, scope: &str, answer: Option<(u16, &str)>) -> Result<()>;
}

/// Goods declarations.
#[async_trait]
pub trait GoodsStore: Send + Sync {
    /// Files a new declaration (state `draft`).
    async fn create_declaration(&self, d: goods::NewDeclaration, actor: Actor<'_>) -> Result<goods::DeclarationRecord>;
    async fn declaration(&self, id: DeclarationId) -> Result<Option<goods::DeclarationRecord>>;
    /// Declarations in `q`'s scope and filters, newest first, at most `q.limit`.
    async fn declarations(&self, q: goods::DeclarationQuery<'_>) -> Result<Vec<goods::DeclarationRecord>>;
    /// Applies a state change through the core's rules (`Declaration::apply`), in one
    /// transaction with its audit entry. A change the rules refuse is a `Conflict`.
    async fn declaration_event(
        &self,
        id: DeclarationId,
        event: cuakhau_core::goods::declaration::DeclEvent,
        actor: Actor<'_>,
    ) -> Result<goods::DeclarationRecord>;
    /// The newest accepted declaration, valid at `now`, for the vehicle whose plate key is
    /// `plate_key` at `gate_pair`, that has not yet reached the yard (what a camera's read finds).
    async fn declaration_for_plate(
        &self,
        gate_pair: &GatePairId,
        plate_key: &str,
        now: Timestamp,
    ) -> Result<Option<goods::DeclarationRecord>>;
}

/// The live gate: booked slots, suspensions, trips through the yard and clearance, notifications.
#[async_trait]
pub trait GateStore: Send + Sync {
    /// Books a slot for an accepted, valid declaration: all or nothing, never past capacity,
    /// even with many bookers at once.
    async fn book_slot(&self, req: goods::BookingRequest<'_>, actor: Actor<'_>) -> Result<goods::BookingOutcome>;
    /// Cancels a live booking and gives its capacity back.
    async fn cancel_booking(&self, booking_id: BookingId, actor: Actor<'_>) -> Result<goods::Booking>;
    /// The declaration's live booking, if any.
    async fn live_booking(&self, declaration_id: DeclarationId) -> Result<Option<goods::Booking>>;
    /// Slot counters of a gate pair and direction for hours in `[from, until)`.
    async fn slot_usage(
        &self,
        gate_pair: &GatePairId,
        direction: cuakhau_core::Direction,
        from: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<goods::SlotUse>>;

    /// Records a suspension of one side of a gate pair; returns its id.
    async fn add_suspension(
        &self,
        gate_pair: &GatePairId,
        s: &cuakhau_core::goods::slots::Suspension,
        actor: Actor<'_>,
    ) -> Result<SuspensionId>;
    /// Suspensions of a gate pair that overlap `[from, until)`.
    async fn suspensions(
        &self,
        gate_pair: &GatePairId,
        from: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<(SuspensionId, cuakhau_core::goods::slots::Suspension)>>;

    /// Puts a truck in the virtual queue or checks it in at the yard. A truck already in the
    /// virtual queue keeps its place when it reaches the yard; any other existing trip, or a full
    /// yard, is a `Conflict`.
    async fn join_queue(&self, t: trips::NewTrip, actor: Actor<'_>) -> Result<trips::TripRecord>;
    async fn trip(&self, id: TripId) -> Result<Option<trips::TripRecord>>;
    async fn trip_of_declaration(&self, declaration_id: DeclarationId) -> Result<Option<trips::TripRecord>>;
    /// Trips matching `q`, oldest first.
    async fn trips(&self, q: trips::TripQuery<'_>) -> Result<Vec<trips::TripRecord>>;
    /// Records a dispatch round's calls: each truck still waiting goes to its lane if the lane is
    /// free; a "your turn" notification is queued in the same transaction. Returns the trips called.
    async fn call_trips(&self, calls: &[cuakhau_core::goods::gate::Call], actor: Actor<'_>) -> Result<Vec<trips::TripRecord>>;
    /// Puts back in the queue every truck of `gate_pair` whose call went unanswered by `now`.
    async fn requeue_unanswered(&self, gate_pair: &GatePairId, now: Timestamp, actor: Actor<'_>) -> Result<Vec<TripId>>;
    /// An officer's act on step `index`, checked by the core's `Trip::act` inside the
    /// transaction; the inner error says why the act was refused (nothing written then).
    async fn trip_step(
        &self,
        id: TripId,
        index: usize,
        officer: (Side, cuakhau_core::Agency),
        act: cuakhau_core::goods::clearance::Act,
        side_open: bool,
        actor: Actor<'_>,
    ) -> Result<std::result::Result<trips::TripRecord, cuakhau_core::goods::clearance::ClearanceError>>;
    /// Records the infrastructure fee of a trip; a receipt number is used once.
    async fn record_fee(&self, id: TripId, fee: &trips::Fee, actor: Actor<'_>) -> Result<trips::TripRecord>;
    /// The driver's phone reports where the truck is and when it expects to arrive. Audited: the
    /// ETA decides whether dispatch may call a truck on the road.
    async fn report_position(
        &self,
        id: TripId,
        pos: trips::Position,
        eta: Option<Timestamp>,
        actor: Actor<'_>,
    ) -> Result<trips::TripRecord>;
    /// Marks `no-show` every live booking at `gate_pair` whose hour started before `cutoff` and
    /// whose truck never reached the yard, giving its capacity back.
    async fn release_no_shows(&self, gate_pair: &GatePairId, cutoff: Timestamp, actor: Actor<'_>) -> Result<Vec<goods::Booking>>;
    /// Notifications not yet delivered whose next attempt is due at `now`.
    async fn due_notifications(&self, now: Timestamp, limit: u32) -> Result<Vec<trips::Notification>>;
    /// Records a delivery attempt: delivered, or failed with the time of the next attempt.
    async fn notification_attempt(
        &self,
        id: i64,
        delivered: bool,
        error: Option<&str>,
        next_attempt: Timestamp,
        at: Timestamp,
    ) -> Result<()>;
}

/// The head of one stream of the audit log: its last entry's number (in the whole log) and hash,
/// and how many entries it holds (the size of its Merkle tree).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamHead {
    /// The gate pair the stream's entries concern; `""` for the node's own stream (users,
    /// sessions, settings, bulk loads, and every entry written before there were streams).
    pub stream: String,
    pub seq: i64,
    pub size: i64,
    pub hash: String,
}

/// An audit entry with the stream whose chain it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEntry {
    pub stream: String,
    pub entry: AuditEntry,
}

/// The audit log: pages, heads, the business rows it vouches for, and the chain walk.
///
/// The log is kept as streams, one per gate pair and one for the node (see [`StreamHead`]): each
/// stream is its own hash chain and Merkle tree with its own head row, so writes at different
/// gate pairs lock different heads. Entries are numbered across the whole log (`seq`); within a
/// stream the numbers increase in commit order, across streams they need not.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Up to `limit` audit entries with `seq > after`, oldest first.
    async fn audit_page(&self, after: i64, limit: u32) -> Result<Vec<AuditEntry>>;

    /// Like `audit_page`, with each entry's stream.
    async fn audit_entries(&self, after: i64, limit: u32) -> Result<Vec<StreamEntry>>;

    /// Like `audit_page`, but only entries about one of `gate_pairs` (`None`: about any gate pair).
    /// What a gate pair's officers may read; entries about users, sessions, settings and bulk
    /// loads belong to no gate pair and stay with administrators.
    async fn audit_page_scoped(&self, after: i64, limit: u32, gate_pairs: Option<&[GatePairId]>) -> Result<Vec<AuditEntry>>;

    /// The sequence number and hash of the last audit entry written, in any stream (0 and the
    /// genesis hash when empty).
    async fn audit_head(&self) -> Result<(i64, String)>;

    /// Every stream's head, by stream.
    async fn audit_heads(&self) -> Result<Vec<StreamHead>>;

    /// Every booking and declaration as it stands, as `(entity, state)` in the shape the audit
    /// log records it (`booking/7`, [`ledger::booking_state`]; `declaration/3`, [`goods::snapshot`]),
    /// for [`ledger::verify`] to compare with the log's last states.
    async fn business_rows(&self) -> Result<Vec<(String, serde_json::Value)>>;

    /// Walks the whole audit log, every stream's chain against its head. `Ok(Ok(n))`: n entries,
    /// all intact. A break names the first bad entry by its number in the whole log.
    async fn verify_audit(&self) -> Result<std::result::Result<i64, ChainBreak>> {
        let heads = self.audit_heads().await?;
        let mut chains: std::collections::BTreeMap<String, Chain> =
            heads.iter().map(|h| (h.stream.clone(), Chain { head: h.clone(), v: Verifier::stream(), past: None })).collect();
        let mut after = 0;
        let mut total = 0;
        loop {
            let page = self.audit_entries(after, 1000).await?;
            let Some(last) = page.last() else { break };
            after = last.entry.seq;
            for StreamEntry { stream, entry } in &page {
                let c = chains.entry(stream.clone()).or_insert_with(|| Chain {
                    head: StreamHead { stream: stream.clone(), seq: 0, size: 0, hash: cuakhau_core::audit::GENESIS_HASH.into() },
                    v: Verifier::stream(),
                    past: None,
                });
                // Entries past the stream's head: someone wrote them behind the store's back.
                if c.v.count() >= c.head.size {
                    c.past.get_or_insert(entry.seq);
                }
                if let Err(b) = c.v.push(entry) {
                    return Ok(Err(b));
                }
                total += 1;
            }
        }
        // Each head is written in the same transaction as its stream's entries: a chain shorter
        // than its head says was cut, one longer was written behind its back.
        let mut first: Option<ChainBreak> = None;
        for c in chains.values() {
            let b = if let Some(seq) = c.past {
                ChainBreak { seq, reason: "is past its stream's head (written behind the log's back)" }
            } else if c.v.count() != c.head.size || c.v.last_seq() != c.head.seq || c.v.last_hash() != c.head.hash {
                ChainBreak { seq: c.v.last_seq() + 1, reason: "is missing (the log was truncated)" }
            } else {
                continue;
            };
            if first.as_ref().is_none_or(|f| b.seq < f.seq) {
                first = Some(b);
            }
        }
        Ok(first.map_or(Ok(total), Err))
    }
}

/// One stream's chain as `verify_audit` walks it.
struct Chain {
    head: StreamHead,
    v: Verifier,
    /// The first entry found past the head.
    past: Option<i64>,
}

/// One committed audited change, as a follower in another process reads it back from the log
/// (the audit log is the outbox of change events).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub seq: i64,
    /// The stream of the log it was written to.
    pub stream: String,
    pub action: String,
    pub entity: String,
    /// The gate pair the change concerns, if any.
    pub gate_pair: Option<String>,
    /// Who made it (the user whose session ended, for `session.logout`).
    pub actor: String,
}

/// Where a follower of the log stands: the last entry it has read of each stream. Within a stream
/// entries commit in the order of their numbers, across streams they need not, so one number for
/// the whole log would skip an entry that commits after a later-numbered one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogCursor(pub std::collections::BTreeMap<String, i64>);

impl LogCursor {
    /// At the heads: everything committed so far read.
    pub fn at(heads: &[StreamHead]) -> LogCursor {
        LogCursor(heads.iter().map(|h| (h.stream.clone(), h.seq)).collect())
    }
    /// The last entry read of `stream` (0: none).
    pub fn of(&self, stream: &str) -> i64 {
        self.0.get(stream).copied().unwrap_or(0)
    }
    /// `c` was read.
    pub fn advance(&mut self, c: &Change) {
        let at = self.0.entry(c.stream.clone()).or_insert(0);
        *at = (*at).max(c.seq);
    }
}

/// What a change listener hears: the sequence number of a committed audit entry, or that the
/// connection was lost (notifications may have been missed: read the log again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    Committed(i64),
    Lost,
}

/// A connection that hears about committed changes (PostgreSQL: `LISTEN`).
pub trait ChangeListener: Send + std::fmt::Debug {
    /// Waits for the next notification.
    fn next(&mut self) -> sql::BoxFuture<'_, Result<Heard>>;
}

/// Several processes on one database: committed changes to follow, and leases that say which
/// process does a piece of background work.
#[async_trait]
pub trait ClusterStore: Send + Sync {
    /// The committed changes after `after` (up to `limit` of each stream, at most as far as its
    /// head), ordered by number.
    async fn changes_after(&self, after: &LogCursor, limit: u32) -> Result<Vec<Change>>;

    /// A listener for committed changes, where the engine can tell other processes (PostgreSQL);
    /// `None` where one process is all there is (SQLite).
    async fn listen_changes(&self) -> Result<Option<Box<dyn ChangeListener>>>;

    /// Takes or renews the lease `name` for `holder` until `until`: granted when nobody holds it,
    /// `holder` already does, or the holder's lease ran out before `now`. Answers the holder.
    async fn take_lease(&self, name: &str, holder: &str, now: Timestamp, until: Timestamp) -> Result<String>;

    /// Gives the lease up (only if `holder` holds it), so another process may take it at once.
    async fn give_up_lease(&self, name: &str, holder: &str) -> Result<()>;

    /// How far this store's database is behind its primary, in seconds, when it is a read
    /// replica (PostgreSQL in recovery: 0 when it has replayed all it received, else the age of
    /// the last commit it replayed); `None` on a primary and on SQLite.
    async fn replica_lag(&self) -> Result<Option<f64>>;
}

/// The one storage interface: every context's trait. Every method that writes is one transaction
/// and appends its audit entries in that same transaction. Bring the methods into scope with
/// `use cuakhau_store::prelude::*;`.
pub trait Store: ReferenceStore + AccountStore + GoodsStore + GateStore + AuditStore + ClusterStore + std::fmt::Debug + 'static {
    /// The engine's name, for logs and `/healthz`.
    fn engine(&self) -> &'static str;
}

/// One `use` for callers: the umbrella trait and every context's trait.
pub mod prelude {
    pub use crate::{AccountStore, AuditStore, ClusterStore, GateStore, GoodsStore, ReferenceStore, Store};
}
