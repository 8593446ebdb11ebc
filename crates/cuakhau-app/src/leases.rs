//! Background work done once across processes: each piece of work (the dispatch rounds of one
//! gate pair, the webhook delivery, the checkpoint export) has a lease row in the store with its
//! holder's instance name and an expiry. The holder renews it each time it works (and in between,
//! [`App::renew_leases`]); when the holder dies, its lease runs out after the configured TTL and
//! the next process that asks takes it. Without an instance name (SQLite: one process by nature,
//! the CLI's one-shot commands, tests) every lease is granted without asking the store.

use crate::App;
use cuakhau_core::Timestamp;
use std::collections::HashMap;
use std::sync::Mutex;

/// The leases this process holds, by work, with their expiry (on the app's clock).
#[derive(Debug, Default)]
pub(crate) struct Held(Mutex<HashMap<String, Timestamp>>);

/// The lease name of a gate pair's dispatch rounds (incl. no-show release).
pub fn dispatch_work(pair: &str) -> String {
    format!("dispatch/{pair}")
}
/// The lease name of the webhook delivery.
pub const WEBHOOKS: &str = "webhooks";
/// The lease name of the signed checkpoint export.
pub const CHECKPOINTS: &str = "checkpoints";

impl App {
    /// Takes or renews the lease on `work` for this process: true when this process may do the
    /// work now. A store that does not answer grants nothing (the work waits).
    pub async fn hold(&self, work: &str) -> bool {
        let Some(me) = self.config().instance.as_deref() else { return true };
        let now = self.now();
        let until = now.plus_seconds(self.config().lease_ttl_s.max(1));
        let holder = match self.store().take_lease(work, me, now, until).await {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!(instance = me, work, error = %e, "cannot take or renew a lease");
                String::new()
            }
        };
        let mine = holder == me;
        let mut held = self.inner.held.0.lock().expect("not poisoned");
        let had = held.contains_key(work);
        if mine {
            held.insert(work.to_string(), until);
            if !had {
                tracing::info!(instance = me, work, "took the lease");
            }
        } else if had {
            held.remove(work);
            tracing::warn!(instance = me, work, holder = holder.as_str(), "lost the lease");
        }
        mine
    }

    /// The work whose lease this process holds (every work when it is the only process: `None`).
    pub fn held_leases(&self) -> Option<Vec<String>> {
        self.config().instance.as_ref()?;
        Some(self.inner.held.0.lock().expect("not poisoned").keys().cloned().collect())
    }

    /// Renews every lease this process holds (called between rounds, more often than the TTL).
    pub async fn renew_leases(&self) {
        let works: Vec<String> = self.inner.held.0.lock().expect("not poisoned").keys().cloned().collect();
        for w in works {
            self.hold(&w).await;
        }
    }

    /// Gives up every lease this process holds, so that another takes the work at once (at a
    /// clean shutdown; a killed process's leases simply run out).
    pub async fn give_up_leases(&self) {
        let Some(me) = self.config().instance.as_deref() else { return };
        let works: Vec<String> = self.inner.held.0.lock().expect("not poisoned").drain().map(|(k, _)| k).collect();
        for w in works {
            if let Err(e) = self.store().give_up_lease(&w, me).await {
                tracing::warn!(instance = me, work = w.as_str(), error = %e, "cannot give up a lease");
            }
        }
    }
}
