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
pub use declaration::{Consignment, DeclState, Declaration};
pub use parties::{Driver, EnterpriseCode, HsCode, Plate, VehicleKind};
pub use slots::{CongestionLevel, HourCapacity, SlotClass};
