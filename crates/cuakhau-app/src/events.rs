//! The event bus: every change at a gate pair is published here, and live boards (server-sent
//! event streams, the board cache) subscribe. A generation counter lets a board built before the
//! last change be told apart from one built after.

use cuakhau_core::GatePairId;
use std::sync::atomic::{AtomicU64, Ordering};

/// Something changed at a gate pair: boards and streams refresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateEvent {
    pub gate_pair: String,
}

/// The broadcast of gate events and the count of changes so far.
#[derive(Debug)]
pub struct EventBus {
    sender: tokio::sync::broadcast::Sender<GateEvent>,
    generation: AtomicU64,
}

impl EventBus {
    /// Events a slow subscriber may fall behind by before it is told it lagged.
    const CAPACITY: usize = 256;

    pub(crate) fn new() -> Self {
        EventBus { sender: tokio::sync::broadcast::channel(Self::CAPACITY).0, generation: AtomicU64::new(0) }
    }

    /// Announces a change at `pair`.
    pub fn publish(&self, pair: &GatePairId) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        // No subscriber is fine: nobody is watching.
        let _ = self.sender.send(GateEvent { gate_pair: pair.as_str().to_string() });
    }

    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<GateEvent> {
        self.sender.subscribe()
    }

    /// Changes published so far (at any gate pair).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }
}
