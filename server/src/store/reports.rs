//! The report queue and the outbox.
//!
//! A report is a row (status Queued). Workers claim rows with a lease (`locked_until`, kept
//! short and extended by heartbeats): on PostgreSQL the claim uses `FOR UPDATE SKIP LOCKED`, so
//! several server processes share one queue; a report whose worker died (lease expired, or
//! released when a process of the same name starts) is claimed again. The final status and the
//! report's notifications ([`super::deliveries`]) are written in one transaction. Emails that
//! could not be sent are kept in `outbox`, so nothing is silently dropped.

use evo_billing_core::dto::ReportStatuses;
use sqlx::Row;

use super::days::now_unix;
use super::{deliveries, int, opt_text, Backend, Store, StoreError, StoreResult};
use crate::ids::new_id;
use crate::model::{NewDelivery, NewReport, ReportRecord};

/// The report queue.
pub struct Reports<'a>(pub(super) &'a Store);

const COLUMNS: &str = "id, account_id, owner_user_id, name, status, status_message, created_at, updated_at, job_id, email, webhook_url, server, params";

fn record_of(r: &sqlx::any::AnyRow) -> Result<ReportRecord, sqlx::Error> {
    let status: String = r.try_get("status")?;
    let params: String = r.try_get("params")?;
    Ok(ReportRecord {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        owner_user_id: r.try_get("owner_user_id")?,
        name: r.try_get("name")?,
        status: ReportStatuses::parse(&status).unwrap_or(ReportStatuses::Error),
        status_message: opt_text(r, "status_message")?,
        created_at: int(r, "created_at")?,
        updated_at: int(r, "updated_at")?,
        job_id: opt_text(r, "job_id")?,
        email: opt_text(r, "email")?,
        webhook_url: opt_text(r, "webhook_url")?,
        server: opt_text(r, "server")?,
        params: serde_json::from_str(&params).unwrap_or_default(),
    })
}

impl Reports<'_> {
    /// Queues a report.
    pub async fn enqueue(&self, r: &NewReport) -> StoreResult<ReportRecord> {
        let db = self.0;
        let id = new_id("rep_");
        let now = now_unix();
        sqlx::query(&db.sql(
            "INSERT INTO reports (id, account_id, owner_user_id, name, status, status_message, params, created_at, updated_at, job_id, email, webhook_url, attempts) \
             VALUES (?, ?, ?, ?, 'Queued', NULL, ?, ?, ?, NULL, ?, ?, 0)",
        ))
        .bind(&id)
        .bind(&r.account_id)
        .bind(&r.owner_user_id)
        .bind(&r.name)
        .bind(r.params.to_string())
        .bind(now)
        .bind(now)
        .bind(&r.email)
        .bind(&r.webhook_url)
        .execute(&db.pool)
        .await?;
        self.get(&id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("report {id} vanished after insert")))
    }

    pub async fn get(&self, id: &str) -> StoreResult<Option<ReportRecord>> {
        let db = self.0;
        let row = sqlx::query(&db.sql(&format!("SELECT {COLUMNS} FROM reports WHERE id = ?")))
            .bind(id)
            .fetch_optional(&db.pool)
            .await?;
        Ok(row.map(|r| record_of(&r)).transpose()?)
    }

    /// Reports of one owner (or all, for `None`), newest first.
    pub async fn list(&self, owner: Option<&str>) -> StoreResult<Vec<ReportRecord>> {
        let db = self.0;
        let rows = match owner {
            Some(o) => {
                sqlx::query(&db.sql(&format!(
                    "SELECT {COLUMNS} FROM reports WHERE owner_user_id = ? ORDER BY created_at DESC, id DESC LIMIT 500"
                )))
                .bind(o)
                .fetch_all(&db.pool)
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM reports ORDER BY created_at DESC, id DESC LIMIT 500"
                ))
                .fetch_all(&db.pool)
                .await?
            }
        };
        Ok(rows.iter().map(record_of).collect::<Result<_, _>>()?)
    }

    /// The stored file of a completed report: `csv` (text) or `xlsx` (bytes).
    pub async fn file(&self, id: &str, xlsx: bool) -> StoreResult<Option<Vec<u8>>> {
        let db = self.0;
        let col = if xlsx { "xlsx" } else { "csv" };
        let row = sqlx::query(&db.sql(&format!(
            "SELECT {col} AS f FROM reports WHERE id = ? AND status = 'Completed'"
        )))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
        Ok(match row {
            None => None,
            Some(r) if xlsx => r.try_get::<Option<Vec<u8>>, _>("f")?,
            Some(r) => r.try_get::<Option<String>, _>("f")?.map(String::into_bytes),
        })
    }

    /// Deletes a report and the notifications it has not sent yet.
    pub async fn delete(&self, id: &str) -> StoreResult<bool> {
        let db = self.0;
        let mut tx = db.pool.begin().await?;
        sqlx::query(&db.sql("DELETE FROM deliveries WHERE report_id = ? AND status = 'Pending'"))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let n = sqlx::query(&db.sql("DELETE FROM reports WHERE id = ?"))
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n > 0)
    }

    /// Claims the oldest queued report (or one whose lease expired) for `server`, for
    /// `lease_secs`.
    pub async fn claim(&self, server: &str, lease_secs: i64) -> StoreResult<Option<ReportRecord>> {
        let db = self.0;
        let now = now_unix();
        // Look before taking the write lock: an idle worker polling an empty queue must not queue
        // up behind (or hold up) the billable writer on SQLite's single write lock.
        let waiting = sqlx::query(&db.sql(
            "SELECT id FROM reports WHERE status = 'Queued' OR (status = 'Running' AND locked_until < ?) LIMIT 1",
        ))
        .bind(now)
        .fetch_optional(&db.pool)
        .await?;
        if waiting.is_none() {
            return Ok(None);
        }
        let pick = match db.backend {
            Backend::Sqlite => "SELECT id FROM reports WHERE status = 'Queued' OR (status = 'Running' AND locked_until < ?) ORDER BY created_at, id LIMIT 1",
            Backend::Postgres => "SELECT id FROM reports WHERE status = 'Queued' OR (status = 'Running' AND locked_until < ?) ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "UPDATE reports SET status = 'Running', server = ?, locked_until = ?, attempts = attempts + 1, updated_at = ?, job_id = ?, status_message = NULL \
             WHERE id = ({pick}) RETURNING {COLUMNS}"
        );
        let row = sqlx::query(&db.sql(&sql))
            .bind(server)
            .bind(now + lease_secs)
            .bind(now)
            .bind(new_id("job_"))
            .bind(now)
            .fetch_optional(&db.pool)
            .await?;
        Ok(row.map(|r| record_of(&r)).transpose()?)
    }

    /// Ends the run `job` claimed: its status, message and files, and its notifications as
    /// pending deliveries, in one transaction. A run whose lease was taken over meanwhile (the
    /// report is no longer Running under this job) changes nothing and answers false.
    pub async fn complete(
        &self,
        job: &ReportRecord,
        status: ReportStatuses,
        message: &str,
        files: Option<(String, Vec<u8>)>,
        deliveries: &[NewDelivery],
    ) -> StoreResult<bool> {
        let db = self.0;
        let (csv, xlsx) = files.unzip();
        let mut tx = db.pool.begin().await?;
        let n = sqlx::query(&db.sql(
            "UPDATE reports SET status = ?, status_message = ?, csv = ?, xlsx = ?, updated_at = ?, locked_until = NULL \
             WHERE id = ? AND job_id = ? AND status = 'Running'",
        ))
        .bind(status.as_str())
        .bind(message)
        .bind(csv)
        .bind(xlsx)
        .bind(now_unix())
        .bind(&job.id)
        .bind(&job.job_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        deliveries::insert(db, &mut tx, &job.id, &job.owner_user_id, deliveries).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Extends the lease of the run `job` holds; false if it no longer holds it.
    pub async fn heartbeat(&self, job: &ReportRecord, lease_secs: i64) -> StoreResult<bool> {
        let db = self.0;
        let n = sqlx::query(&db.sql(
            "UPDATE reports SET locked_until = ? WHERE id = ? AND job_id = ? AND status = 'Running'",
        ))
        .bind(now_unix() + lease_secs)
        .bind(&job.id)
        .bind(&job.job_id)
        .execute(&db.pool)
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    /// Gives back to the queue the reports `server` was running: called when a process of that
    /// name starts, so a predecessor that died holds nothing until its lease runs out.
    pub async fn release(&self, server: &str) -> StoreResult<u64> {
        let db = self.0;
        let n = sqlx::query(&db.sql(
            "UPDATE reports SET status = 'Queued', locked_until = NULL WHERE status = 'Running' AND server = ?",
        ))
        .bind(server)
        .execute(&db.pool)
        .await?
        .rows_affected();
        Ok(n)
    }

    /// How many reports of `owner` are queued or running.
    pub async fn active(&self, owner: &str) -> StoreResult<i64> {
        let db = self.0;
        let row = sqlx::query(&db.sql(
            "SELECT COUNT(*) AS n FROM reports WHERE owner_user_id = ? AND status IN ('Queued', 'Running')",
        ))
        .bind(owner)
        .fetch_one(&db.pool)
        .await?;
        Ok(int(&row, "n")?)
    }

    /// Whether the lease of a Running report has run out (its worker is gone).
    pub async fn lease_expired(&self, id: &str) -> StoreResult<bool> {
        let db = self.0;
        let row = sqlx::query(&db.sql("SELECT locked_until FROM reports WHERE id = ?"))
            .bind(id)
            .fetch_optional(&db.pool)
            .await?;
        Ok(match row {
            Some(r) => r
                .try_get::<Option<i64>, _>("locked_until")?
                .is_none_or(|until| until < now_unix()),
            None => true,
        })
    }

    /// Messages in the outbox (subject, recipient, status), newest first.
    pub async fn outbox_messages(&self) -> StoreResult<Vec<(String, String, String)>> {
        let db = self.0;
        let rows = sqlx::query(
            "SELECT recipient, subject, status FROM outbox ORDER BY created_at DESC, id DESC",
        )
        .fetch_all(&db.pool)
        .await?;
        let messages = rows
            .iter()
            .map(|r| -> Result<_, sqlx::Error> {
                Ok((
                    r.try_get("recipient")?,
                    r.try_get("subject")?,
                    r.try_get("status")?,
                ))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(messages)
    }

    /// Delivery notes of a report: (webhook, email).
    pub async fn deliveries(&self, id: &str) -> StoreResult<(Option<String>, Option<String>)> {
        let db = self.0;
        let row =
            sqlx::query(&db.sql("SELECT webhook_status, email_status FROM reports WHERE id = ?"))
                .bind(id)
                .fetch_one(&db.pool)
                .await?;
        Ok((
            opt_text(&row, "webhook_status")?,
            opt_text(&row, "email_status")?,
        ))
    }
}
