//! Prometheus metrics: requests by method, route and status, and their latency; which instance
//! this process is (`cuakhau_instance_info`, several processes on one database) and the rounds of
//! background work it ran (`cuakhau_background_rounds_total`, by work: `dispatch`, `webhooks`,
//! `checkpoints`); with a read replica, how far it is behind the primary
//! (`cuakhau_replica_lag_seconds`, read when scraped).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct InstanceLabels {
    pub instance: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WorkLabels {
    pub work: String,
}

#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub latency: Family<RouteLabels, Histogram>,
    pub rounds: Family<WorkLabels, Counter>,
    instance: String,
    replica_lag: Family<InstanceLabels, Gauge<f64, AtomicU64>>,
    replica_fallbacks: Family<InstanceLabels, Counter>,
}

impl Metrics {
    pub fn new(instance: &str) -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| Histogram::new(exponential_buckets(0.0005, 2.0, 16)));
        registry.register("cuakhau_http_requests", "HTTP requests by method, route and status", requests.clone());
        registry.register("cuakhau_http_request_duration_seconds", "HTTP request latency", latency.clone());
        let info = Family::<InstanceLabels, Gauge>::default();
        info.get_or_create(&InstanceLabels { instance: instance.to_string() }).set(1);
        registry.register("cuakhau_instance_info", "This process's instance name (--instance); always 1", info);
        let rounds = Family::<WorkLabels, Counter>::default();
        registry.register("cuakhau_background_rounds", "Rounds of background work this process ran, by work", rounds.clone());
        let replica_lag = Family::<InstanceLabels, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "cuakhau_replica_lag_seconds",
            "Seconds the read replica (--read-database) is behind the primary, when this process has one",
            replica_lag.clone(),
        );
        let replica_fallbacks = Family::<InstanceLabels, Counter>::default();
        registry.register(
            "cuakhau_replica_fallbacks",
            "Public reads (boards, drivers' pages) answered by the primary because the read replica did not answer",
            replica_fallbacks.clone(),
        );
        Metrics { registry, requests, latency, rounds, instance: instance.to_string(), replica_lag, replica_fallbacks }
    }

    /// The app's count of public reads that fell back to the primary (read when scraped).
    pub fn set_replica_fallbacks(&self, total: u64) {
        let c = self.replica_fallbacks.get_or_create(&InstanceLabels { instance: self.instance.clone() });
        c.inc_by(total.saturating_sub(c.get()));
    }

    /// The read replica's lag as last measured (nothing shown while the process reads its primary).
    pub fn set_replica_lag(&self, seconds: f64) {
        self.replica_lag.get_or_create(&InstanceLabels { instance: self.instance.clone() }).set(seconds);
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String");
        out
    }
}
