//! The delivery queue: a report's webhook and email as durable intentions.
//!
//! Rows are written in the same transaction that gives a report its final status
//! ([`super::reports::Reports::complete`]), so a crash can never leave a finished report whose
//! notifications are forgotten. A worker claims a due row with a lease (`locked_until_ms`,
//! `locked_by`), makes one attempt and records it ([`Deliveries::settle`]): delivered, failed for
//! good (the report's note says why; an email is also kept in `outbox`), or due again later. A
//! claim skips owners that already have a delivery in flight, so one slow receiver holds up only
//! its own owner's notifications. Times are Unix milliseconds.

use sqlx::Row;

use super::{int, opt_text, Backend, Store, StoreResult};
use crate::ids::new_id;
use crate::model::{DeliveryKind, DeliveryOutcome, DeliveryRecord, DeliveryState, NewDelivery};

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The delivery queue.
pub struct Deliveries<'a>(pub(super) &'a Store);

const COLUMNS: &str = "id, report_id, owner_user_id, kind, target, subject, body, attempts";

fn record_of(r: &sqlx::any::AnyRow) -> Result<DeliveryRecord, sqlx::Error> {
    let kind: String = r.try_get("kind")?;
    Ok(DeliveryRecord {
        id: r.try_get("id")?,
        report_id: r.try_get("report_id")?,
        owner_user_id: r.try_get("owner_user_id")?,
        kind: DeliveryKind::parse(&kind).unwrap_or(DeliveryKind::Webhook),
        target: r.try_get("target")?,
        subject: opt_text(r, "subject")?,
        body: r.try_get("body")?,
        attempts: u32::try_from(int(r, "attempts")?).unwrap_or(u32::MAX),
    })
}

/// Inserts a report's deliveries inside the caller's transaction.
pub(super) async fn insert(
    db: &Store,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    report_id: &str,
    owner_user_id: &str,
    deliveries: &[NewDelivery],
) -> StoreResult<()> {
    let now = now_ms();
    for d in deliveries {
        sqlx::query(&db.sql(
            "INSERT INTO deliveries (id, report_id, owner_user_id, kind, target, subject, body, status, attempts, next_attempt_ms, created_ms, updated_ms) \
             VALUES (?, ?, ?, ?, ?, ?, ?, 'Pending', 0, ?, ?, ?)",
        ))
        .bind(new_id("dlv_"))
        .bind(report_id)
        .bind(owner_user_id)
        .bind(d.kind.as_str())
        .bind(&d.target)
        .bind(&d.subject)
        .bind(&d.body)
        .bind(now)
        .bind(now)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// A pending row that is due, not leased, and whose owner has nothing in flight.
const DUE: &str = "SELECT d.id FROM deliveries d \
     WHERE d.status = 'Pending' AND d.next_attempt_ms <= ? \
       AND (d.locked_until_ms IS NULL OR d.locked_until_ms < ?) \
       AND NOT EXISTS (SELECT 1 FROM deliveries o WHERE o.owner_user_id = d.owner_user_id \
                       AND o.status = 'Pending' AND o.locked_until_ms >= ?) \
     ORDER BY d.next_attempt_ms, d.created_ms, d.id LIMIT 1";

impl Deliveries<'_> {
    /// Claims the most overdue delivery for `worker` for `lease_ms`.
    pub async fn claim(&self, worker: &str, lease_ms: i64) -> StoreResult<Option<DeliveryRecord>> {
        let db = self.0;
        let now = now_ms();
        // Look before taking SQLite's write lock (an idle worker polls).
        let waiting = sqlx::query(&db.sql(DUE))
            .bind(now)
            .bind(now)
            .bind(now)
            .fetch_optional(&db.pool)
            .await?;
        if waiting.is_none() {
            return Ok(None);
        }
        let pick = match db.backend {
            Backend::Sqlite => DUE.to_string(),
            Backend::Postgres => format!("{DUE} FOR UPDATE SKIP LOCKED"),
        };
        let sql = format!(
            "UPDATE deliveries SET locked_until_ms = ?, locked_by = ?, updated_ms = ? \
             WHERE id = ({pick}) RETURNING {COLUMNS}"
        );
        let row = sqlx::query(&db.sql(&sql))
            .bind(now + lease_ms)
            .bind(worker)
            .bind(now)
            .bind(now)
            .bind(now)
            .bind(now)
            .fetch_optional(&db.pool)
            .await?;
        Ok(row.map(|r| record_of(&r)).transpose()?)
    }

    /// Records one attempt of `d` (claimed by `worker`). A delivery whose lease was taken over
    /// meanwhile is left to its new holder; answers whether this attempt was recorded.
    pub async fn settle(
        &self,
        d: &DeliveryRecord,
        worker: &str,
        outcome: &DeliveryOutcome,
    ) -> StoreResult<bool> {
        let db = self.0;
        let now = now_ms();
        let mut tx = db.pool.begin().await?;
        let (status, next, result) = match outcome {
            DeliveryOutcome::Delivered { note } => ("Delivered", now, note),
            DeliveryOutcome::Retry { at_ms, result } => ("Pending", *at_ms, result),
            DeliveryOutcome::Failed { note } => ("Failed", now, note),
        };
        let n = sqlx::query(&db.sql(
            "UPDATE deliveries SET status = ?, attempts = attempts + 1, next_attempt_ms = ?, last_result = ?, \
             locked_until_ms = NULL, locked_by = NULL, updated_ms = ? \
             WHERE id = ? AND status = 'Pending' AND locked_by = ?",
        ))
        .bind(status)
        .bind(next)
        .bind(result)
        .bind(now)
        .bind(&d.id)
        .bind(worker)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        if let DeliveryOutcome::Delivered { note } | DeliveryOutcome::Failed { note } = outcome {
            let column = match d.kind {
                DeliveryKind::Webhook => "webhook_status",
                DeliveryKind::Email => "email_status",
            };
            sqlx::query(&db.sql(&format!("UPDATE reports SET {column} = ? WHERE id = ?")))
                .bind(note)
                .bind(&d.report_id)
                .execute(&mut *tx)
                .await?;
        }
        if let (DeliveryOutcome::Failed { note }, DeliveryKind::Email) = (outcome, d.kind) {
            sqlx::query(&db.sql(
                "INSERT INTO outbox (id, created_at, kind, recipient, subject, body, status) VALUES (?, ?, 'email', ?, ?, ?, ?)",
            ))
            .bind(new_id("msg_"))
            .bind(now / 1000)
            .bind(&d.target)
            .bind(d.subject.as_deref().unwrap_or(""))
            .bind(&d.body)
            .bind(note)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Frees the leases `worker` held: called at start, when a process of that name can hold
    /// none (its predecessor died mid-attempt).
    pub async fn release(&self, worker: &str) -> StoreResult<u64> {
        let db = self.0;
        let n = sqlx::query(&db.sql(
            "UPDATE deliveries SET locked_until_ms = NULL, locked_by = NULL \
             WHERE status = 'Pending' AND locked_by = ?",
        ))
        .bind(worker)
        .execute(&db.pool)
        .await?
        .rows_affected();
        Ok(n)
    }

    /// When the next pending delivery falls due (Unix ms), if any.
    pub async fn next_due(&self) -> StoreResult<Option<i64>> {
        let db = self.0;
        let row = sqlx::query(
            "SELECT MIN(next_attempt_ms) AS due FROM deliveries WHERE status = 'Pending'",
        )
        .fetch_one(&db.pool)
        .await?;
        Ok(row.try_get::<Option<i64>, _>("due")?)
    }

    /// Deliveries still pending (any owner).
    pub async fn pending(&self) -> StoreResult<i64> {
        let db = self.0;
        let row = sqlx::query("SELECT COUNT(*) AS n FROM deliveries WHERE status = 'Pending'")
            .fetch_one(&db.pool)
            .await?;
        Ok(int(&row, "n")?)
    }

    /// A report's deliveries, oldest first.
    pub async fn of_report(&self, report_id: &str) -> StoreResult<Vec<DeliveryState>> {
        let db = self.0;
        let rows = sqlx::query(&db.sql(
            "SELECT id, kind, target, status, attempts, last_result FROM deliveries \
             WHERE report_id = ? ORDER BY created_ms, kind",
        ))
        .bind(report_id)
        .fetch_all(&db.pool)
        .await?;
        let states = rows
            .iter()
            .map(|r| -> Result<_, sqlx::Error> {
                let kind: String = r.try_get("kind")?;
                Ok(DeliveryState {
                    id: r.try_get("id")?,
                    kind: DeliveryKind::parse(&kind).unwrap_or(DeliveryKind::Webhook),
                    target: r.try_get("target")?,
                    status: r.try_get("status")?,
                    attempts: u32::try_from(int(r, "attempts")?).unwrap_or(u32::MAX),
                    last_result: opt_text(r, "last_result")?,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(states)
    }
}
