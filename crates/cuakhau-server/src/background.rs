//! Work the server does on its own: dispatch rounds at every gate pair with lanes, and delivery
//! of drivers' notifications to the configured webhook with retries. With several processes on
//! one database each piece of work runs where its lease is held (`cuakhau_app::leases`): a gate
//! pair's rounds in one process, the delivery in one; [`run`] renews the leases between rounds.
//!
//! Both are plain async functions of the state (tests call them directly); [`run`] loops them
//! until shutdown. The rounds and the outbox are the app's use cases; what is HTTP here is the
//! POST to the gateway.

use crate::AppState;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// One dispatch round at every gate pair and direction that has exit-side lanes. Returns the
/// number of trucks called.
pub async fn dispatch_all(st: &AppState) -> usize {
    let called = st.app.gate().dispatch_all().await;
    // Counted where rounds ran: in the process holding at least one gate pair's lease.
    if st.app.held_leases().is_none_or(|w| w.iter().any(|w| w.starts_with("dispatch/"))) {
        st.background_round("dispatch");
    }
    called
}

/// POSTs every due notification to the webhook. Returns (delivered, failed).
pub async fn deliver_due(st: &AppState) -> (usize, usize) {
    let Some(url) = st.app.config().webhook_url.clone() else { return (0, 0) };
    if !st.app.hold(cuakhau_app::leases::WEBHOOKS).await {
        return (0, 0);
    }
    st.background_round("webhooks");
    let gate = st.app.gate();
    let Ok(due) = gate.due_notifications(100).await else { return (0, 0) };
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
        if let Err(e) = gate.notification_attempt(&n, result.as_ref().map(|_| ()).map_err(String::as_str)).await {
            tracing::error!(error = %e, "recording a notification attempt failed");
        }
        if result.is_ok() { ok += 1 } else { failed += 1 }
    }
    (ok, failed)
}

/// Runs dispatch and delivery every `every` until `shutdown` resolves, renewing the leases held
/// three times per lease TTL in between.
pub async fn run(st: AppState, every: Duration, shutdown: impl std::future::Future<Output = ()>) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut renew = tokio::time::interval(Duration::from_secs(st.app.config().lease_ttl_s.max(1) as u64) / 3);
    renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            _ = tick.tick() => {
                dispatch_all(&st).await;
                deliver_due(&st).await;
            }
            _ = renew.tick() => st.app.renew_leases().await,
        }
    }
}
