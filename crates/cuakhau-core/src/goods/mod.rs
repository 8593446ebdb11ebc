//! The goods flow at a smart border gate: parties, declarations, slots, the yard and call-forward,
//! clearance on both sides, congestion and dwell times.
//!
//! Everything here is a pure decision over values passed in: the server calls it with the wall
//! clock and stored state, the simulator with virtual time and generated trucks.

pub mod callforward;
pub mod clearance;
pub mod declaration;
pub mod dwell;
pub mod gate;
pub mod parties;
pub mod slots;

pub use callforward::{CallForward, Policy, TruckId, WaitingTruck};
pub use clearance::{Channel, Outcome, Step, StepState, Trip};
pub use declaration::{Consignment, DeclState, Declaration, StateKind};
pub use parties::{Driver, EnterpriseCode, HsCode, Plate, VehicleKind};
pub use slots::{CongestionLevel, HourCapacity, SlotClass};

/// Why the goods flow's rules refuse a change, as a value: the store returns it, the edge words
/// it in the caller's language (`i18n::Msg::Refused`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The declaration's state machine has no such transition.
    Transition(declaration::BadTransition),
    /// The declaration's truck is too far along for the change.
    TripLocked(gate::TripLocked),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Transition(t) => t.fmt(f),
            Refusal::TripLocked(t) => t.fmt(f),
        }
    }
}
