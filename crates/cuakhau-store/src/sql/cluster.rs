//! The cluster context's SQL: committed changes read back from the audit log (the outbox every
//! process follows), and leases on background work (one row per piece of work, with its holder
//! and expiry).

use super::{Conn, Engine, FromRow, Row, all, always, params, scalar};
use crate::{Change, ChangeListener, ClusterStore, Result};
use async_trait::async_trait;
use cuakhau_core::Timestamp;

impl FromRow for Change {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(Change {
            seq: r.get("seq")?,
            action: r.get("action")?,
            entity: r.get("entity")?,
            gate_pair: r.get("gate_pair_id")?,
            actor: r.get("actor")?,
        })
    }
}

pub async fn changes_after<C: Conn>(c: &mut C, after: i64, limit: u32) -> Result<Vec<Change>> {
    all(
        c,
        "SELECT seq, action, entity, gate_pair_id, actor FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
        params![after, i64::from(limit)],
    )
    .await
}

/// Takes the lease when free, expired or already ours (one conditional upsert: two processes
/// asking at once cannot both win), then answers who holds it.
pub async fn take_lease<C: Conn>(c: &mut C, name: &str, holder: &str, now: Timestamp, until: Timestamp) -> Result<String> {
    c.execute(
        "INSERT INTO leases (name, holder, expires_us) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_us = excluded.expires_us
         WHERE leases.holder = excluded.holder OR leases.expires_us <= $4",
        params![name, holder, until.as_micros(), now.as_micros()],
    )
    .await?;
    scalar(c, "SELECT holder FROM leases WHERE name = $1", params![name]).await
}

pub async fn give_up_lease<C: Conn>(c: &mut C, name: &str, holder: &str) -> Result<()> {
    c.execute("UPDATE leases SET expires_us = 0 WHERE name = $1 AND holder = $2", params![name, holder]).await?;
    Ok(())
}

#[async_trait]
impl<E: Engine> ClusterStore for E {
    async fn changes_after(&self, after: i64, limit: u32) -> Result<Vec<Change>> {
        self.read((after, limit), |c, (after, limit)| Box::pin(changes_after(c, *after, *limit))).await
    }

    async fn listen_changes(&self) -> Result<Option<Box<dyn ChangeListener>>> {
        self.listen().await
    }

    async fn take_lease(&self, name: &str, holder: &str, now: Timestamp, until: Timestamp) -> Result<String> {
        let state = (name.to_string(), holder.to_string(), now, until);
        self.write(state, always, |c, (n, h, now, until)| Box::pin(take_lease(c, n, h, *now, *until))).await
    }

    async fn give_up_lease(&self, name: &str, holder: &str) -> Result<()> {
        self.write((name.to_string(), holder.to_string()), always, |c, (n, h)| Box::pin(give_up_lease(c, n, h))).await
    }

    async fn replica_lag(&self) -> Result<Option<f64>> {
        Engine::replica_lag(self).await
    }
}
