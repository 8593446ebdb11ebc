//! The event bus: every change at a gate pair is published here, and live boards (server-sent
//! event streams, the board cache) subscribe; so is every change to an account's standing (a
//! user disabled, their roles or password changed, a session ended), for streams opened with
//! that account's rights. A generation counter lets a board built before the last change be told
//! apart from one built after.
//!
//! With several processes on one database, [`follow`] runs in each: it hears every committed
//! audit entry (the audit log is the outbox), reads the entries after the last one it saw, clears
//! the caches they make stale and delivers their events to this process's subscribers. While it
//! runs, [`EventBus::publish`] and [`EventBus::account`] only mark the change (the generation):
//! the follower delivers it, once, in commit order, to every process alike.

use crate::App;
use cuakhau_core::GatePairId;
use cuakhau_store::{Change, Heard, LogCursor};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// Something changed at a gate pair (or at [`EVERY_PAIR`]): boards and streams refresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateEvent {
    pub gate_pair: String,
}

/// The gate pair of an event that concerns every board (reference data imported): no gate pair's
/// id can be this.
pub const EVERY_PAIR: &str = "*";

impl GateEvent {
    /// Whether a board of `pair` is to be refreshed.
    pub fn concerns(&self, pair: &str) -> bool {
        self.gate_pair == pair || self.gate_pair == EVERY_PAIR
    }
}

/// An account's standing changed (disabled, roles, password, a session ended): what was
/// allowed with its sessions must be asked again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountEvent {
    pub username: String,
}

/// The broadcasts of gate and account events and the count of changes so far.
#[derive(Debug)]
pub struct EventBus {
    sender: tokio::sync::broadcast::Sender<GateEvent>,
    accounts: tokio::sync::broadcast::Sender<AccountEvent>,
    generation: AtomicU64,
    /// A follower delivers events (several processes): local publishing only marks changes.
    followed: AtomicBool,
    /// The last audit entry the follower delivered.
    delivered: AtomicI64,
}

impl EventBus {
    /// Events a slow subscriber may fall behind by before it is told it lagged.
    const CAPACITY: usize = 256;

    pub(crate) fn new() -> Self {
        EventBus {
            sender: tokio::sync::broadcast::channel(Self::CAPACITY).0,
            accounts: tokio::sync::broadcast::channel(Self::CAPACITY).0,
            generation: AtomicU64::new(0),
            followed: AtomicBool::new(false),
            delivered: AtomicI64::new(0),
        }
    }

    /// Announces a change at `pair` (delivered by the follower instead when one runs).
    pub fn publish(&self, pair: &GatePairId) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if !self.followed() {
            self.deliver(pair.as_str());
        }
    }

    /// Announces a change that may concern every gate pair's board (delivered by the follower
    /// instead when one runs: it delivers every `reference.*` entry to every board).
    pub fn publish_everywhere(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if !self.followed() {
            self.deliver(EVERY_PAIR);
        }
    }

    fn deliver(&self, pair: &str) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        // No subscriber is fine: nobody is watching.
        let _ = self.sender.send(GateEvent { gate_pair: pair.to_string() });
    }

    /// Announces a change to `username`'s account (delivered by the follower when one runs).
    pub fn account(&self, username: &str) {
        if !self.followed() {
            let _ = self.accounts.send(AccountEvent { username: username.to_string() });
        }
    }

    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<GateEvent> {
        self.sender.subscribe()
    }

    pub fn subscribe_accounts(&self) -> tokio::sync::broadcast::Receiver<AccountEvent> {
        self.accounts.subscribe()
    }

    /// Changes published so far (at any gate pair).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// The sequence number of the last audit entry the follower delivered (0 before it starts).
    pub fn delivered(&self) -> i64 {
        self.delivered.load(Ordering::SeqCst)
    }

    /// Whether a follower delivers the events (see [`follow`]).
    pub fn followed(&self) -> bool {
        self.followed.load(Ordering::SeqCst)
    }
}

/// How long the follower waits for a notification before it reads the log anyway.
pub const IDLE: Duration = Duration::from_secs(1);
/// Entries read from the log at a time.
const PAGE: u32 = 500;

/// Follows the changes committed by every process on the store's database and delivers them
/// here. Returns at once where the store has no listener (SQLite: one process, the in-process
/// path stays). Runs until dropped (the CLI aborts it at shutdown). On each notification, on a
/// lost connection and after [`IDLE`] without one, it reads the log after the last entry it
/// delivered, so a missed notification delays an event by at most [`IDLE`].
pub async fn follow(app: App) {
    let store = app.store().clone();
    let mut listener = loop {
        match store.listen_changes().await {
            Ok(Some(l)) => break l,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for changes yet; trying again");
                tokio::time::sleep(IDLE).await;
            }
        }
    };
    let mut cursor = loop {
        match store.audit_heads().await {
            Ok(heads) => break LogCursor::at(&heads),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the audit heads yet; trying again");
                tokio::time::sleep(IDLE).await;
            }
        }
    };
    let mut last = cursor.0.values().copied().max().unwrap_or(0);
    // The numbers delivered lately: a notification of one of them needs no read (entries of
    // different streams commit out of number order, so "at most the last" would skip some).
    let mut recent: std::collections::BTreeSet<i64> = Default::default();
    app.events().delivered.store(last, Ordering::SeqCst);
    app.events().followed.store(true, Ordering::SeqCst);
    tracing::info!(after = last, "following the changes of every process on the database");
    loop {
        match tokio::time::timeout(IDLE, listener.next()).await {
            Ok(Ok(Heard::Committed(seq))) if recent.contains(&seq) => continue,
            Ok(Ok(Heard::Committed(_))) => {
                // Other processes committing at the same moment: one read for all of them, so
                // followers do not read once per write of every process.
                let gather = tokio::time::sleep(GATHER);
                tokio::pin!(gather);
                loop {
                    tokio::select! {
                        _ = &mut gather => break,
                        h = listener.next() => if !matches!(h, Ok(Heard::Committed(_))) { break },
                    }
                }
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "the change listener failed; reading the log and listening again");
                tokio::time::sleep(IDLE / 4).await;
            }
            // A newer entry, a lost connection or a quiet second: read what is new.
            _ => {}
        }
        loop {
            let page = match store.changes_after(&cursor, PAGE).await {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(error = %e, "reading the changes failed");
                    break;
                }
            };
            for c in &page {
                apply(&app, c);
                cursor.advance(c);
                recent.insert(c.seq);
                last = last.max(c.seq);
            }
            while recent.len() > RECENT {
                recent.pop_first();
            }
            app.events().delivered.store(last, Ordering::SeqCst);
            if page.len() < PAGE as usize {
                break;
            }
        }
    }
}

/// How long the follower gathers the notifications that follow one before it reads.
const GATHER: Duration = Duration::from_millis(5);

/// Numbers of delivered entries remembered to skip their notifications.
const RECENT: usize = 4096;

/// Clears what `c` makes stale, then delivers its events (so a subscriber that reacts reads
/// fresh data).
fn apply(app: &App, c: &Change) {
    let bus = app.events();
    let pair = c.gate_pair.as_deref();
    let account = match c.action.as_str() {
        "user.update" | "user.password" => c.entity.strip_prefix("user/"),
        "session.logout" => Some(c.actor.as_str()),
        _ => None,
    };
    if let Some(name) = account {
        app.accounts().sessions_changed(None, Some(name));
        let _ = bus.accounts.send(AccountEvent { username: name.to_string() });
    }
    if c.action.starts_with("reference.") || c.action.starts_with("lane.") || c.action == "gate.hours" {
        app.reference().changed();
    }
    // An imported row (no gate pair of its own) may change any board.
    if c.action.starts_with("reference.") {
        bus.deliver(EVERY_PAIR);
    }
    if let Some(p) = pair {
        if c.action == "gate.suspend" {
            app.inner.caches.suspensions.lock().expect("not poisoned").remove(p);
        }
        bus.deliver(p);
    }
}
