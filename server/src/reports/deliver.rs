//! The delivery worker: sends the notifications finished reports left in the delivery queue
//! ([`crate::store::deliveries`]), apart from report building, so a slow receiver never holds up
//! a report.
//!
//! At most [`MAX_IN_FLIGHT`] attempts run at once and at most one per report owner (the claim
//! skips owners with one in flight), so one owner's slow or throttling receiver delays only that
//! owner. Each attempt is recorded before the next is scheduled: a webhook that answers 429 or
//! 5xx, or cannot be reached, is tried again after its `Retry-After` (capped) or the doubled
//! backoff, up to the sender's `max_attempts`; an email likewise, and one that is never sent is
//! kept in the outbox. Every attempt of a webhook carries the same `X-Evo-Delivery-Id`, so a
//! receiver can drop repeats: a crash between sending and recording means one more attempt, never
//! none.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;

use super::ReportSettings;
use crate::model::{DeliveryKind, DeliveryOutcome, DeliveryRecord};
use crate::notify::mailer::{self, Email};
use crate::notify::webhook::{Attempt, WebhookError, MAX_RETRY_AFTER};
use crate::store::deliveries::now_ms;
use crate::store::Store;

/// Attempts in flight at once, over all owners.
pub const MAX_IN_FLIGHT: usize = 8;
/// How long a claim holds a delivery: longer than one attempt can take (name resolution and the
/// request are each bounded by the webhook timeout, SMTP by its own).
pub const LEASE_MS: i64 = 90_000;
/// The longest the worker sleeps before looking at the queue again.
const POLL: Duration = Duration::from_secs(2);

/// Makes one attempt of `d` and decides what comes next.
pub async fn attempt(settings: &ReportSettings, d: &DeliveryRecord) -> DeliveryOutcome {
    let number = d.attempts.saturating_add(1);
    let max = settings.webhooks.config().max_attempts.max(1);
    let retry = |result: String, after: Option<Duration>| {
        let wait = after
            .map(|a| a.min(MAX_RETRY_AFTER))
            .unwrap_or_default()
            .max(settings.webhooks.backoff(number));
        DeliveryOutcome::Retry {
            at_ms: now_ms() + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2),
            result,
        }
    };
    match d.kind {
        DeliveryKind::Webhook => {
            match settings
                .webhooks
                .attempt(&d.target, d.body.as_bytes(), number, Some(&d.id))
                .await
            {
                Attempt::Delivered { status } => DeliveryOutcome::Delivered {
                    note: format!("delivered: HTTP {status} after {number} attempt(s)"),
                },
                Attempt::Final(e) => DeliveryOutcome::Failed {
                    note: format!("not delivered: {e}"),
                },
                Attempt::Retry { last, .. } if number >= max => DeliveryOutcome::Failed {
                    note: format!(
                        "not delivered: {}",
                        WebhookError::Failed {
                            attempts: number,
                            last
                        }
                    ),
                },
                Attempt::Retry { last, after } => retry(last, after),
            }
        }
        DeliveryKind::Email => {
            let Some(cfg) = &settings.smtp else {
                return DeliveryOutcome::Failed {
                    note: "kept in outbox: no SMTP server configured (--smtp-url)".into(),
                };
            };
            let email = Email {
                to: d.target.clone(),
                subject: d.subject.clone().unwrap_or_default(),
                text: d.body.clone(),
            };
            match mailer::send(cfg, &email).await {
                Ok(()) => DeliveryOutcome::Delivered {
                    note: "sent".into(),
                },
                Err(e) if number >= max => DeliveryOutcome::Failed {
                    note: format!("SMTP failed, kept in outbox: {e}"),
                },
                Err(e) => retry(format!("SMTP failed: {e}"), None),
            }
        }
    }
}

/// Attempts `d` and records the outcome.
pub async fn deliver_one(db: &Store, settings: &ReportSettings, d: DeliveryRecord) {
    let outcome = attempt(settings, &d).await;
    match &outcome {
        DeliveryOutcome::Delivered { note } => {
            tracing::info!(delivery = %d.id, report = %d.report_id, kind = d.kind.as_str(), "{note}")
        }
        DeliveryOutcome::Failed { note } => {
            tracing::warn!(delivery = %d.id, report = %d.report_id, kind = d.kind.as_str(), target = %d.target, subject = d.subject.as_deref().unwrap_or(""), "{note}")
        }
        DeliveryOutcome::Retry { result, .. } => {
            tracing::info!(delivery = %d.id, report = %d.report_id, kind = d.kind.as_str(), "will retry: {result}")
        }
    }
    match db
        .deliveries()
        .settle(&d, &settings.server_name, &outcome)
        .await
    {
        Ok(true) => {}
        Ok(false) => tracing::warn!(delivery = %d.id, "lease taken over; attempt not recorded"),
        // Unrecorded: the lease runs out and the attempt is made again (at least once).
        Err(e) => tracing::error!(delivery = %d.id, error = %e, "cannot record the attempt"),
    }
}

/// The worker loop: keeps up to [`MAX_IN_FLIGHT`] attempts running until the process ends.
pub async fn worker(db: Store, settings: Arc<ReportSettings>) {
    let mut running = JoinSet::new();
    loop {
        while running.len() < MAX_IN_FLIGHT {
            match db.deliveries().claim(&settings.server_name, LEASE_MS).await {
                Ok(Some(d)) => {
                    let (db, settings) = (db.clone(), settings.clone());
                    running.spawn(async move { deliver_one(&db, &settings, d).await });
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::error!(error = %e, "cannot claim a delivery");
                    break;
                }
            }
        }
        let wait = match db.deliveries().next_due().await {
            Ok(Some(due)) => Duration::from_millis(u64::try_from(due - now_ms()).unwrap_or(0)),
            _ => POLL,
        }
        .clamp(Duration::from_millis(10), POLL);
        tokio::select! {
            Some(_) = running.join_next(), if !running.is_empty() => {}
            _ = settings.deliveries_wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// Delivers until nothing is pending or `deadline` passes, waiting for retries that are due
/// later: for tests and tools that run reports without the worker. Answers what is still
/// pending.
pub async fn drain(db: &Store, settings: &ReportSettings, deadline: Duration) -> i64 {
    let until = tokio::time::Instant::now() + deadline;
    loop {
        while let Ok(Some(d)) = db.deliveries().claim(&settings.server_name, LEASE_MS).await {
            deliver_one(db, settings, d).await;
        }
        let pending = db.deliveries().pending().await.unwrap_or(0);
        if pending == 0 || tokio::time::Instant::now() >= until {
            return pending;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
