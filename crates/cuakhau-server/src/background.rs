//! Work the server does on its own: dispatch rounds at every gate pair with lanes, and delivery
//! of drivers' notifications to the configured webhook with retries.
//!
//! Both are plain async functions of the state (tests call them directly); [`run`] loops them
//! until shutdown. Nothing here reads the clock except through `AppState::clock`.

use crate::AppState;
use cuakhau_core::{Direction, Lang, Timestamp};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// One dispatch round at every gate pair and direction that has exit-side lanes. Returns the
/// number of trucks called.
pub async fn dispatch_all(st: &AppState) -> usize {
    let Ok(data) = st.reference().await else { return 0 };
    let mut called = 0;
    for gp in &data.gate_pairs {
        for d in [Direction::Export, Direction::Import] {
            if !data.lanes.iter().any(|l| l.gate_pair == gp.id && l.direction == d && l.side == d.exit_side() && l.active) {
                continue;
            }
            match crate::routes::gate::run_round(st, Lang::En, &gp.id, d, "dispatcher").await {
                Ok(out) => called += out.called.len(),
                Err(e) => tracing::warn!(gate_pair = gp.id.as_str(), status = %e.status, "dispatch round failed"),
            }
        }
    }
    called
}

/// Retry delay after `attempts` failures: 30 s doubling, at most an hour.
pub fn backoff_s(attempts: u32) -> i64 {
    (30i64 << attempts.min(7)).min(3600)
}

/// POSTs every due notification to the webhook. Returns (delivered, failed).
pub async fn deliver_due(st: &AppState) -> (usize, usize) {
    let Some(url) = st.config.webhook_url.clone() else { return (0, 0) };
    let now = st.clock.now();
    let Ok(due) = st.store.due_notifications(now, 100).await else { return (0, 0) };
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let (mut ok, mut failed) = (0, 0);
    for n in due {
        let req = hyper::Request::post(url.as_str())
            .header("content-type", "application/json")
            .header("x-cuakhau-event", n.kind.as_str())
            .header("idempotency-key", format!("notification-{}", n.id))
            .body(Full::new(Bytes::from(n.payload.clone())));
        let result = match req {
            Ok(req) => match tokio::time::timeout(Duration::from_secs(10), client.request(req)).await {
                Ok(Ok(res)) if res.status().is_success() => {
                    let _ = res.into_body().collect().await;
                    Ok(())
                }
                Ok(Ok(res)) => Err(format!("gateway answered {}", res.status())),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err("gateway timed out".into()),
            },
            Err(e) => Err(e.to_string()),
        };
        let at = st.clock.now();
        let (delivered, error, next) = match &result {
            Ok(()) => (true, None, at),
            Err(e) => (false, Some(e.as_str()), Timestamp(at.as_micros()).plus_seconds(backoff_s(n.attempts))),
        };
        if let Err(e) = st.store.notification_attempt(n.id, delivered, error, next, at).await {
            tracing::error!(error = %e, "recording a notification attempt failed");
        }
        if delivered { ok += 1 } else { failed += 1 }
    }
    (ok, failed)
}

/// Runs dispatch and delivery every `every` until `shutdown` resolves.
pub async fn run(st: AppState, every: Duration, shutdown: impl std::future::Future<Output = ()>) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            _ = tick.tick() => {
                dispatch_all(&st).await;
                deliver_due(&st).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!((super::backoff_s(0), super::backoff_s(1), super::backoff_s(6), super::backoff_s(20)), (30, 60, 1920, 3600));
    }
}
