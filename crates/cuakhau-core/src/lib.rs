//! The domain of cuakhau: border gates, lanes, opening hours, users and roles, the audit chain.
//!
//! Architecture invariant: this crate does no I/O, reads no clock, draws no random numbers and
//! knows nothing of serde, SQL or HTTP. Time comes in as an argument ([`Timestamp`]); everything
//! that is a decision (who may do what, is a gate open, does the audit chain hold) is a plain
//! function here so that the server and the simulator run the very same code.

pub mod audit;
pub mod auth;
pub mod goods;
pub mod i18n;
pub mod ids;
pub mod refdata;
pub mod time;
pub mod transparency;
pub mod validate;

pub use audit::{AuditEntry, AuditRecord, ChainBreak};
pub use auth::{Action, Agency, Role};
pub use i18n::{Lang, Msg};
pub use ids::{BookingId, BookingStatus, DeclarationId, SuspensionId, TripId, UserId};
pub use refdata::{
    Coordinate, Direction, Gate, GateKind, GatePair, GatePairId, Lane, LaneId, LocalityPairing, Mode, OpeningHours, Province, ProvinceId,
    ReferenceData, Side,
};
pub use time::Timestamp;
pub use validate::{FieldError, Problem};
