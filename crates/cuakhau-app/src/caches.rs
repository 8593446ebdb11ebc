//! What the use cases keep in memory between requests: the reference data, recently checked
//! sessions and the suspensions per gate pair. Ages are read on the injected [`crate::Ticker`]
//! (the session cache on the injected clock, as sessions expire in wall time), so tests can move
//! them.

use cuakhau_core::goods::slots::Suspension;
use cuakhau_core::{ReferenceData, Timestamp};
use cuakhau_store::User;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// How stale another node's writes may look (this node's own writes clear the caches at once).
pub(crate) const TTL: Duration = Duration::from_secs(5);
/// At most this many sessions are kept.
pub(crate) const SESSIONS_MAX: usize = 100_000;

/// By gate pair: when read (ticker), and its suspensions from a day back.
type SuspensionMap = HashMap<String, (Duration, Arc<Vec<Suspension>>)>;

#[derive(Debug, Default)]
pub(crate) struct Caches {
    /// When read (ticker), and the data.
    pub reference: RwLock<Option<(Duration, Arc<ReferenceData>)>>,
    /// By token hash: when checked (clock), and the user.
    pub sessions: Mutex<HashMap<String, (Timestamp, User)>>,
    pub suspensions: Mutex<SuspensionMap>,
}

/// True when something read at `at` is still fresh at `now` (both on the ticker).
pub(crate) fn fresh(at: Duration, now: Duration) -> bool {
    now.saturating_sub(at) < TTL
}
