//! Webhook events: their signature, and the worker that delivers the
//! durable queue at least once.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{KeyInit, Mac};
use sha2::Sha256;
use tokio::sync::{Notify, watch};

use crate::config::{Limits, WebhookEndpoint};
use crate::store::Store;

type HmacSha256 = hmac::Hmac<Sha256>;

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "X-Hotline-Signature";
/// The header carrying the event's id (also in the body).
pub const EVENT_ID_HEADER: &str = "X-Hotline-Event-Id";
/// How far a receiver should accept a signature's timestamp from its own
/// clock, in seconds (what [`verify`] uses).
pub const TOLERANCE_SECS: u64 = 300;

/// The value of [`SIGNATURE_HEADER`] for `body` sent at `timestamp`:
/// `t=<timestamp>,v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
///
/// ```
/// let header = hotline_gateway::webhook::sign(b"whsec", 1_700_000_000, b"{}");
/// assert!(header.starts_with("t=1700000000,v1="));
/// assert!(hotline_gateway::webhook::verify(b"whsec", &header, b"{}", 1_700_000_010).is_ok());
/// assert!(hotline_gateway::webhook::verify(b"other", &header, b"{}", 1_700_000_010).is_err());
/// ```
pub fn sign(secret: &[u8], timestamp: u64, body: &[u8]) -> String {
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac(secret, timestamp, body))
    )
}

fn mac(secret: &[u8], timestamp: u64, body: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length.
    let mut m = <HmacSha256 as KeyInit>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    m.update(timestamp.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m.finalize().into_bytes().to_vec()
}

/// Why a signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The header is not `t=<unix>,v1=<hex>`.
    #[error("malformed signature header")]
    Malformed,
    /// The timestamp is more than [`TOLERANCE_SECS`] from `now`.
    #[error("signature timestamp outside the tolerance")]
    Stale,
    /// No `v1` value matches.
    #[error("signature mismatch")]
    Mismatch,
}

/// Checks a [`SIGNATURE_HEADER`] value, as a receiver does (in constant
/// time, by the HMAC crate's own comparison).
pub fn verify(secret: &[u8], header: &str, body: &[u8], now: u64) -> Result<(), VerifyError> {
    let mut t = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = Some(v.parse::<u64>().map_err(|_| VerifyError::Malformed)?),
            Some(("v1", v)) => sigs.push(hex::decode(v).map_err(|_| VerifyError::Malformed)?),
            _ => {}
        }
    }
    let t = t.ok_or(VerifyError::Malformed)?;
    if sigs.is_empty() {
        return Err(VerifyError::Malformed);
    }
    if t.abs_diff(now) > TOLERANCE_SECS {
        return Err(VerifyError::Stale);
    }
    for sig in sigs {
        let mut m =
            <HmacSha256 as KeyInit>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
        m.update(t.to_string().as_bytes());
        m.update(b".");
        m.update(body);
        if m.verify_slice(&sig).is_ok() {
            return Ok(());
        }
    }
    Err(VerifyError::Mismatch)
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The wait before attempt `attempts + 1`: `base * 2^attempts`, at most
/// `max`, with up to a quarter of jitter.
pub(crate) fn backoff(limits: &Limits, attempts: u32) -> Duration {
    let base = limits.webhook_backoff;
    let wait = base
        .checked_mul(1u32.checked_shl(attempts.min(30)).unwrap_or(u32::MAX))
        .unwrap_or(limits.webhook_backoff_max)
        .min(limits.webhook_backoff_max);
    let quarter = u64::try_from(wait.as_millis() / 4).unwrap_or(0);
    let jitter = if quarter > 0 {
        use rand::RngExt as _;
        rand::rng().random_range(0..quarter)
    } else {
        0
    };
    wait + Duration::from_millis(jitter)
}

/// Delivers the queue until `stop` turns true: each due delivery is POSTed
/// with a fresh signature; a 2xx removes it, anything else (or no answer in
/// time) schedules it again with exponential backoff.
pub(crate) async fn run(
    store: Store,
    endpoints: Vec<WebhookEndpoint>,
    limits: Limits,
    wake: std::sync::Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let secrets: HashMap<String, Vec<u8>> = endpoints
        .into_iter()
        .map(|e| (e.url, e.secret.into_bytes()))
        .collect();
    let http = match reqwest::Client::builder()
        .timeout(limits.webhook_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhook client");
            return;
        }
    };
    loop {
        if *stop.borrow() {
            return;
        }
        let due = match store.due_webhooks(now_ms(), 32) {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "webhook queue unreadable");
                Vec::new()
            }
        };
        if due.is_empty() {
            let wait = match store.next_webhook_due() {
                Ok(Some(at)) => Duration::from_millis(at.saturating_sub(now_ms()).clamp(1, 1000)),
                _ => Duration::from_secs(1),
            };
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => {}
            }
            continue;
        }
        // The batch in parallel: one slow receiver does not hold the others
        // back longer than one timeout.
        let mut batch = tokio::task::JoinSet::new();
        for w in due {
            let Some(secret) = secrets.get(&w.endpoint).cloned() else {
                // The endpoint was removed from the configuration.
                tracing::warn!(endpoint = %w.endpoint, event = %w.event_id, "dropping an event for an endpoint no longer configured");
                let _ = store.webhook_delivered(w.id);
                continue;
            };
            let http = http.clone();
            let store = store.clone();
            batch.spawn(async move {
                let t = now_ms() / 1000;
                let signature = sign(&secret, t, &w.body);
                let sent = http
                    .post(&w.endpoint)
                    .header("Content-Type", "application/json")
                    .header(SIGNATURE_HEADER, signature)
                    .header(EVENT_ID_HEADER, &w.event_id)
                    .body(w.body.clone())
                    .send()
                    .await;
                let outcome = match sent {
                    Ok(r) if r.status().is_success() => Ok(()),
                    Ok(r) => Err(format!("HTTP {}", r.status().as_u16())),
                    Err(e) => Err(e.to_string()),
                };
                let written = match outcome {
                    Ok(()) => store.webhook_delivered(w.id),
                    Err(error) => {
                        let next = now_ms()
                            + u64::try_from(backoff(&limits, w.attempts).as_millis())
                                .unwrap_or(u64::MAX / 2);
                        tracing::info!(event = %w.event_id, endpoint = %w.endpoint, attempts = w.attempts + 1, %error, "webhook delivery failed; retrying later");
                        store.webhook_failed(w.id, next, &error)
                    }
                };
                if let Err(e) = written {
                    tracing::error!(error = %e, "webhook queue write failed");
                }
            });
        }
        tokio::select! {
            _ = async { while batch.join_next().await.is_some() {} } => {}
            // Stopping: attempts in flight are abandoned; they stay queued.
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}
