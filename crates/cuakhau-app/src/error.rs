//! The use cases' one error type: kinds, not prose. The HTTP edge maps each kind to a status and
//! words it in the caller's language; the CLI prints it in English.

use cuakhau_core::goods::Refusal;
use cuakhau_core::goods::clearance::ClearanceError;
use cuakhau_core::{BookingId, DeclarationId, Direction, FieldError, Timestamp, TripId};
use cuakhau_store::StoreError;

/// Why a use case did not do what it was asked.
#[derive(Debug)]
pub enum AppError {
    /// Nobody is signed in, and the use case needs someone.
    Unauthenticated,
    /// The principal's roles do not allow it.
    Forbidden,
    /// A wrong user name or password (or a disabled account: nothing tells which).
    WrongCredentials,
    /// Too many failed tries (sign-ins, tracking codes); try after this long.
    TooManyAttempts {
        retry_after_s: i64,
    },
    /// A public write came faster than its limit (per client address, per trip).
    TooManyRequests {
        retry_after_s: i64,
    },
    NotFound(What),
    /// A value the rules do not accept.
    Invalid(FieldError),
    /// A scenario that does not compile (the simulator's own message).
    InvalidScenario(String),
    /// A reference-data file that does not parse (line-numbered).
    Import(cuakhau_data::DataError),
    /// The change collides with the state of things.
    Conflict(ConflictKind),
    /// The goods flow's rules refuse the change.
    Refused(Refusal),
    /// A clearance act the step's rules refuse.
    Step(ClearanceError),
    /// Contention outlasted the store's retries; nothing was changed.
    Busy,
    /// The store failed.
    Store(StoreError),
}

/// The English form, for logs and the CLI.
impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppError::Unauthenticated => write!(f, "not signed in"),
            AppError::Forbidden => write!(f, "not allowed"),
            AppError::WrongCredentials => write!(f, "wrong user name or password"),
            AppError::TooManyAttempts { retry_after_s } => write!(f, "too many attempts; try again in {retry_after_s} s"),
            AppError::TooManyRequests { retry_after_s } => write!(f, "too many requests; try again in {retry_after_s} s"),
            AppError::NotFound(w) => write!(f, "not found: {w}"),
            AppError::Invalid(e) => write!(f, "{e}"),
            AppError::InvalidScenario(e) => write!(f, "scenario: {e}"),
            AppError::Import(e) => write!(f, "{e}"),
            AppError::Conflict(c) => write!(f, "conflict: {c:?}"),
            AppError::Refused(r) => write!(f, "refused: {r}"),
            AppError::Step(e) => write!(f, "{e:?}"),
            AppError::Busy => write!(f, "busy"),
            AppError::Store(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for AppError {}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => AppError::NotFound(What::Stored(what)),
            StoreError::Conflict(detail) => AppError::Conflict(ConflictKind::Stored(detail)),
            StoreError::Refused(r) => AppError::Refused(r),
            StoreError::Contention(detail) => {
                tracing::warn!(%detail, "contention outlasted the retries");
                AppError::Busy
            }
            other => AppError::Store(other),
        }
    }
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        AppError::Invalid(e)
    }
}

/// What was not found. `Display` gives the English noun phrase the edge puts in its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum What {
    GatePair(String),
    Province(String),
    Lane(String),
    Table(String),
    Declaration(DeclarationId),
    BookingOf(DeclarationId),
    TripOf(DeclarationId),
    Trip(TripId),
    Step {
        trip: TripId,
        index: usize,
    },
    /// No accepted declaration waits at the gate pair for this plate.
    DeclarationForPlate {
        plate: String,
        gate_pair: String,
    },
    /// The declaration does not exist or the tracking code is wrong (nothing tells which).
    Tracked(DeclarationId),
    Simulation(u64),
    Plot {
        simulation: u64,
        name: String,
    },
    /// Whatever the store could not find (a kind the edge words).
    Stored(cuakhau_core::i18n::Missing),
}

impl std::fmt::Display for What {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            What::GatePair(id) => write!(f, "gate pair {id}"),
            What::Province(id) => write!(f, "province {id}"),
            What::Lane(id) => write!(f, "lane {id}"),
            What::Table(t) => write!(f, "table {t}"),
            What::Declaration(id) => write!(f, "declaration {id}"),
            What::BookingOf(id) => write!(f, "booking of declaration {id}"),
            What::TripOf(id) => write!(f, "trip of declaration {id}"),
            What::Trip(id) => write!(f, "trip {id}"),
            What::Step { trip, index } => write!(f, "step {index} of trip {trip}"),
            What::DeclarationForPlate { plate, gate_pair } => write!(f, "accepted declaration for plate {plate} at {gate_pair}"),
            What::Tracked(id) => write!(f, "declaration {id} with this tracking code"),
            What::Simulation(id) => write!(f, "simulation {id}"),
            What::Plot { simulation, name } => write!(f, "plot {name} of simulation {simulation}"),
            What::Stored(m) => f.write_str(&cuakhau_core::i18n::missing_name(m, cuakhau_core::i18n::Lang::En)),
        }
    }
}

/// Which collision.
#[derive(Debug, Clone, PartialEq)]
pub enum ConflictKind {
    /// The hour is full; the next hours with room for this truck (at most five, within 72 h),
    /// to be shown in the exit side's zone.
    HourFull { alternatives: Vec<Timestamp>, direction: Direction },
    /// The enterprise holds its daily number of bookings.
    DailyLimit,
    /// The declaration already holds this booking.
    AlreadyBooked { booking: BookingId },
    /// A lane with this id exists.
    LaneExists(String),
    /// Every simulation slot is taken.
    SimulationsBusy { slots: usize },
    /// A collision the store reports (a kind the edge words).
    Stored(cuakhau_core::i18n::ConflictKind),
}
