//! The cluster context's SQL: committed changes read back from the audit log (the outbox every
//! process follows), and leases on background work (one row per piece of work, with its holder
//! and expiry).

use super::{Conn, Engine, FromRow, Row, Value, all, always, params, scalar};
use crate::{Change, ChangeListener, ClusterStore, LogCursor, Result, StreamHead};
use async_trait::async_trait;
use cuakhau_core::Timestamp;

impl FromRow for Change {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(Change {
            seq: r.get("seq")?,
            stream: r.get("stream")?,
            action: r.get("action")?,
            entity: r.get("entity")?,
            gate_pair: r.get("gate_pair_id")?,
            actor: r.get("actor")?,
        })
    }
}

/// Each stream that moved past the cursor, read up to its head as it was read (a row someone wrote
/// past a head is never delivered, nor can it make the follower skip what comes after): one query
/// for the heads, one for the entries of every stream that moved.
pub async fn changes_after<C: Conn>(c: &mut C, after: &LogCursor, limit: u32) -> Result<Vec<Change>> {
    let moved: Vec<(String, i64, i64)> = all::<StreamHead, _>(c, "SELECT stream, seq, size, hash FROM audit_heads", &[])
        .await?
        .into_iter()
        .filter_map(|h| {
            let from = after.of(&h.stream);
            (h.seq > from).then_some((h.stream, from, h.seq))
        })
        .collect();
    if moved.is_empty() {
        return Ok(Vec::new());
    }
    let mut p = vec![Value::from(i64::from(limit))];
    let mut ranges = Vec::new();
    for (stream, from, to) in moved {
        let n = p.len();
        ranges.push(format!("(stream = ${} AND seq > ${} AND seq <= ${})", n + 1, n + 2, n + 3));
        p.extend([Value::from(stream), Value::from(from), Value::from(to)]);
    }
    let sql = format!(
        "SELECT seq, stream, action, entity, gate_pair_id, actor FROM audit_log WHERE {} ORDER BY seq LIMIT $1",
        ranges.join(" OR ")
    );
    all(c, &sql, &p).await
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
    async fn changes_after(&self, after: &LogCursor, limit: u32) -> Result<Vec<Change>> {
        self.read((after.clone(), limit), |c, (after, limit)| Box::pin(changes_after(c, after, *limit))).await
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
