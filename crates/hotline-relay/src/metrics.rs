//! Prometheus metrics: requests by operation and outcome, their latency,
//! open streams, pushed envelopes and store failures.
//!
//! One recorder serves the process (the `metrics` facade is global), so
//! several servers in one process (tests) share it.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Requests handled, labelled `op` and `outcome` (`ok` or the refusal).
pub(crate) const REQUESTS: &str = "hotline_requests_total";
/// Seconds from a request's arrival to its answer, labelled `op`.
pub(crate) const REQUEST_SECONDS: &str = "hotline_request_seconds";
/// Open WebSocket streams.
pub(crate) const STREAMS: &str = "hotline_streams";
/// Envelopes pushed on streams.
pub(crate) const PUSHED: &str = "hotline_pushed_envelopes_total";
/// Requests refused before the relay saw them, labelled `reason`.
pub(crate) const REJECTED: &str = "hotline_rejected_total";
/// Envelopes deleted unfetched after their time to live.
pub(crate) const EXPIRED: &str = "hotline_expired_envelopes_total";

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process's recorder, installed on first use; `None` if another
/// recorder was installed first by the embedding program.
pub(crate) fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[
                    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1,
                    0.25, 0.5, 1.0, 2.5,
                ])
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            describe();
            Some(handle)
        })
        .as_ref()
}

fn describe() {
    metrics::describe_counter!(REQUESTS, "Requests handled, by operation and outcome");
    metrics::describe_histogram!(REQUEST_SECONDS, "Seconds to answer a request, by operation");
    metrics::describe_gauge!(STREAMS, "Open WebSocket streams");
    metrics::describe_counter!(PUSHED, "Envelopes pushed on streams");
    metrics::describe_counter!(REJECTED, "Requests refused before the relay saw them");
    metrics::describe_counter!(EXPIRED, "Envelopes deleted unfetched");
}
