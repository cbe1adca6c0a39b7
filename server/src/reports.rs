//! BillingReport: a queue in the database and a worker.
//!
//! A report is a row (status Queued). Workers claim rows with a lease (`locked_until`): on
//! PostgreSQL the claim uses `FOR UPDATE SKIP LOCKED`, so several server processes share one
//! queue; a report whose worker died (lease expired) is claimed again, so queued and interrupted
//! reports survive a restart. The worker writes the CSV and XLSX into the row and marks it
//! Completed (or Error with a message), then POSTs the ReportInfo and the data to the webhook and
//! emails the notification; without SMTP the email goes to the `outbox` table and the log, so
//! nothing is silently dropped.

use std::sync::Arc;
use std::time::Duration;

use evo_billing_core::date_range::DateRange;
use evo_billing_core::dto::{ReportInfo, ReportStatuses};
use evo_billing_core::money::Micros;
use evo_billing_core::validation::ReportQuery;
use serde_json::json;
use sqlx::Row;
use tokio::sync::Notify;

use crate::auth::{new_id, Principal};
use crate::db::{int, now_unix, opt_text, Backend, Db};
use crate::mailer::{self, Email, SmtpConfig};
use crate::report_file::{self, ReportData, ReportRow};
use crate::webhook::WebhookSender;

/// How long a claim holds a report before another worker may take it over.
pub const LEASE_SECS: i64 = 300;

/// A report row, as the API shows it.
#[derive(Debug, Clone)]
pub struct ReportRecord {
    pub id: String,
    pub account_id: String,
    pub owner_user_id: String,
    pub name: String,
    pub status: ReportStatuses,
    pub status_message: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub job_id: Option<String>,
    pub email: Option<String>,
    pub webhook_url: Option<String>,
    pub server: Option<String>,
    pub params: serde_json::Value,
}

/// What the worker needs besides the database.
pub struct ReportSettings {
    /// This process's name in `ReportInfo.server`.
    pub server_name: String,
    /// Absolute base for download links (`http://127.0.0.1:8080`).
    pub public_url: String,
    pub smtp: Option<SmtpConfig>,
    pub webhooks: WebhookSender,
    /// Wakes the worker when a report is queued.
    pub wake: Arc<Notify>,
}

fn iso(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

impl ReportRecord {
    pub fn info(&self, public_url: &str) -> ReportInfo {
        ReportInfo {
            id: Some(self.id.clone()),
            name: Some(self.name.clone()),
            status: self.status,
            status_message: self.status_message.clone(),
            date_created: Some(iso(self.created_at)),
            date_updated: Some(iso(self.updated_at)),
            download_link: (self.status == ReportStatuses::Completed)
                .then(|| format!("{public_url}/reports/{}/download.csv", self.id)),
            job_id: self.job_id.clone(),
            email_address_to_notify: self.email.clone(),
            server: self.server.clone(),
        }
    }
}

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

impl Db {
    /// Queues a report for `owner`; a Customer's report is limited to its subtree.
    pub async fn enqueue_report(
        &self,
        owner: &Principal,
        account_name: &str,
        q: &ReportQuery,
    ) -> Result<ReportRecord, sqlx::Error> {
        let id = new_id("rep_");
        let now = now_unix();
        let name = format!(
            "Billing {} {}..{}",
            account_name,
            q.range.start_text(),
            q.range.end_text()
        );
        let params = json!({
            "startDate": q.range.start_text(),
            "endDate": q.range.end_text(),
            "includeCustomerIds": q.include_customer_ids,
            "subtree": owner.subtree(),
        });
        sqlx::query(&self.sql(
            "INSERT INTO reports (id, account_id, owner_user_id, name, status, status_message, params, created_at, updated_at, job_id, email, webhook_url, attempts) \
             VALUES (?, ?, ?, ?, 'Queued', NULL, ?, ?, ?, NULL, ?, ?, 0)",
        ))
        .bind(&id)
        .bind(&q.account_id)
        .bind(&owner.user_id)
        .bind(&name)
        .bind(params.to_string())
        .bind(now)
        .bind(now)
        .bind(&q.email_address_to_notify)
        .bind(&q.webhook_url)
        .execute(&self.pool)
        .await?;
        self.report(&id)
            .await?
            .ok_or_else(|| sqlx::Error::RowNotFound)
    }

    pub async fn report(&self, id: &str) -> Result<Option<ReportRecord>, sqlx::Error> {
        let row = sqlx::query(&self.sql(&format!("SELECT {COLUMNS} FROM reports WHERE id = ?")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| record_of(&r)).transpose()
    }

    /// Reports of one owner (or all, for `None`), newest first.
    pub async fn reports(&self, owner: Option<&str>) -> Result<Vec<ReportRecord>, sqlx::Error> {
        let rows = match owner {
            Some(o) => {
                sqlx::query(&self.sql(&format!(
                    "SELECT {COLUMNS} FROM reports WHERE owner_user_id = ? ORDER BY created_at DESC, id DESC LIMIT 500"
                )))
                .bind(o)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM reports ORDER BY created_at DESC, id DESC LIMIT 500"
                ))
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter().map(record_of).collect()
    }

    /// The stored file of a completed report: `csv` (text) or `xlsx` (bytes).
    pub async fn report_file(&self, id: &str, xlsx: bool) -> Result<Option<Vec<u8>>, sqlx::Error> {
        let col = if xlsx { "xlsx" } else { "csv" };
        let row = sqlx::query(&self.sql(&format!(
            "SELECT {col} AS f FROM reports WHERE id = ? AND status = 'Completed'"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            None => None,
            Some(r) if xlsx => r.try_get::<Option<Vec<u8>>, _>("f")?,
            Some(r) => r.try_get::<Option<String>, _>("f")?.map(String::into_bytes),
        })
    }

    pub async fn delete_report(&self, id: &str) -> Result<bool, sqlx::Error> {
        let n = sqlx::query(&self.sql("DELETE FROM reports WHERE id = ?"))
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    /// Claims the oldest queued report (or one whose lease expired) for `server`.
    pub async fn claim_report(&self, server: &str) -> Result<Option<ReportRecord>, sqlx::Error> {
        let now = now_unix();
        // Look before taking the write lock: an idle worker polling an empty queue must not queue
        // up behind (or hold up) the billable writer on SQLite's single write lock.
        let waiting = sqlx::query(&self.sql(
            "SELECT id FROM reports WHERE status = 'Queued' OR (status = 'Running' AND locked_until < ?) LIMIT 1",
        ))
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        if waiting.is_none() {
            return Ok(None);
        }
        let pick = match self.backend {
            Backend::Sqlite => "SELECT id FROM reports WHERE status = 'Queued' OR (status = 'Running' AND locked_until < ?) ORDER BY created_at, id LIMIT 1",
            Backend::Postgres => "SELECT id FROM reports WHERE status = 'Queued' OR (status = 'Running' AND locked_until < ?) ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "UPDATE reports SET status = 'Running', server = ?, locked_until = ?, attempts = attempts + 1, updated_at = ?, job_id = ?, status_message = NULL \
             WHERE id = ({pick}) RETURNING {COLUMNS}"
        );
        let row = sqlx::query(&self.sql(&sql))
            .bind(server)
            .bind(now + LEASE_SECS)
            .bind(now)
            .bind(new_id("job_"))
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| record_of(&r)).transpose()
    }

    async fn finish_report(
        &self,
        id: &str,
        status: ReportStatuses,
        message: &str,
        csv: Option<String>,
        xlsx: Option<Vec<u8>>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(&self.sql(
            "UPDATE reports SET status = ?, status_message = ?, csv = ?, xlsx = ?, updated_at = ?, locked_until = NULL WHERE id = ?",
        ))
        .bind(status.as_str())
        .bind(message)
        .bind(csv)
        .bind(xlsx)
        .bind(now_unix())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn note_delivery(&self, id: &str, column: &str, note: &str) -> Result<(), sqlx::Error> {
        sqlx::query(&self.sql(&format!("UPDATE reports SET {column} = ? WHERE id = ?")))
            .bind(note)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Keeps a message that could not be sent.
    pub async fn outbox(
        &self,
        recipient: &str,
        subject: &str,
        body: &str,
        status: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(&self.sql(
            "INSERT INTO outbox (id, created_at, kind, recipient, subject, body, status) VALUES (?, ?, 'email', ?, ?, ?, ?)",
        ))
        .bind(new_id("msg_"))
        .bind(now_unix())
        .bind(recipient)
        .bind(subject)
        .bind(body)
        .bind(status)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Messages in the outbox (subject, recipient, status), newest first.
    pub async fn outbox_messages(&self) -> Result<Vec<(String, String, String)>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT recipient, subject, status FROM outbox ORDER BY created_at DESC, id DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("recipient")?,
                    r.try_get("subject")?,
                    r.try_get("status")?,
                ))
            })
            .collect()
    }

    /// Delivery notes of a report: (webhook, email).
    pub async fn report_deliveries(
        &self,
        id: &str,
    ) -> Result<(Option<String>, Option<String>), sqlx::Error> {
        let row =
            sqlx::query(&self.sql("SELECT webhook_status, email_status FROM reports WHERE id = ?"))
                .bind(id)
                .fetch_one(&self.pool)
                .await?;
        Ok((
            opt_text(&row, "webhook_status")?,
            opt_text(&row, "email_status")?,
        ))
    }
}

/// Builds the report's data from the roll-ups.
async fn build(db: &Db, job: &ReportRecord) -> Result<ReportData, String> {
    let account = db
        .account(&job.account_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("account {} no longer exists", job.account_id))?;
    let p = &job.params;
    let text = |k: &str| p.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
    let range =
        DateRange::parse(&text("startDate"), &text("endDate")).map_err(|e| e.to_string())?;
    let subtree = p
        .get("subtree")
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let include_ids = p
        .get("includeCustomerIds")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let billing = db
        .billing(&account.id, range, None, subtree.as_deref())
        .await
        .map_err(|e| e.to_string())?;
    let customers = db
        .customers(&account.id, subtree.as_deref())
        .await
        .map_err(|e| e.to_string())?;
    let rows = billing
        .into_iter()
        .map(|b| {
            let c = customers.iter().find(|c| c.id == b.customer_id);
            ReportRow {
                customer_name: c.map_or_else(|| b.customer_id.clone(), |c| c.name.clone()),
                breadcrumb: c.map(|c| c.breadcrumb.clone()).unwrap_or_default(),
                customer_id: b.customer_id,
                billed_calls: b.billed_calls,
                international_calls: b.international_calls,
                international_costs: Micros(b.international_micros),
                recorded_calls: b.recorded_calls,
                has_call_recording: b.recorded_calls > 0,
            }
        })
        .collect();
    Ok(ReportData {
        account_id: account.id.clone(),
        account_name: account.name.clone(),
        start_date: range.start_text(),
        end_date: range.end_text(),
        currency: account.currency.code().to_string(),
        currency_decimals: account.currency.decimals(),
        include_customer_ids: include_ids,
        rows,
    })
}

/// Runs one claimed report to its end, then notifies.
pub async fn run_job(db: &Db, settings: &ReportSettings, job: ReportRecord) {
    let outcome = match build(db, &job).await {
        Ok(data) => match report_file::to_xlsx(&data) {
            Ok(xlsx) => Ok((data, xlsx)),
            Err(e) => Err(format!("the XLSX file could not be written: {e}")),
        },
        Err(e) => Err(e),
    };
    let data = match outcome {
        Ok((data, xlsx)) => {
            let csv = report_file::to_csv(&data);
            let message = format!("{} customers", data.rows.len());
            if let Err(e) = db
                .finish_report(
                    &job.id,
                    ReportStatuses::Completed,
                    &message,
                    Some(csv),
                    Some(xlsx),
                )
                .await
            {
                tracing::error!(report = %job.id, error = %e, "cannot store the report");
                return;
            }
            Some(data)
        }
        Err(e) => {
            tracing::warn!(report = %job.id, error = %e, "report failed");
            let _ = db
                .finish_report(&job.id, ReportStatuses::Error, &e, None, None)
                .await;
            None
        }
    };
    let Ok(Some(record)) = db.report(&job.id).await else {
        return;
    };
    let info = record.info(&settings.public_url);
    if let Some(url) = &record.webhook_url {
        let payload = json!({
            "report": info,
            "data": data.as_ref().map(report_file::to_json),
        });
        let note = match settings.webhooks.deliver(url, &payload).await {
            Ok(d) => format!(
                "delivered: HTTP {} after {} attempt(s)",
                d.status, d.attempts
            ),
            Err(e) => {
                tracing::warn!(report = %record.id, error = %e, "webhook not delivered");
                format!("not delivered: {e}")
            }
        };
        let _ = db.note_delivery(&record.id, "webhook_status", &note).await;
    }
    if let Some(to) = &record.email {
        let account_name = data.as_ref().map_or("", |d| d.account_name.as_str());
        let range = data
            .as_ref()
            .map(|d| format!("{}..{}", d.start_date, d.end_date))
            .unwrap_or_default();
        let (subject, text) =
            mailer::report_email(&info, account_name, &range, info.download_link.as_deref());
        let status = match &settings.smtp {
            Some(cfg) => match mailer::send(
                cfg,
                &Email {
                    to: to.clone(),
                    subject: subject.clone(),
                    text: text.clone(),
                },
            )
            .await
            {
                Ok(()) => "sent".to_string(),
                Err(e) => format!("SMTP failed, kept in outbox: {e}"),
            },
            None => "kept in outbox: no SMTP server configured (--smtp-url)".to_string(),
        };
        if status != "sent" {
            tracing::warn!(report = %record.id, to = %to, subject = %subject, "{status}");
            let _ = db.outbox(to, &subject, &text, &status).await;
        }
        let _ = db.note_delivery(&record.id, "email_status", &status).await;
    }
}

/// The worker loop: claims and runs reports until the process ends.
pub async fn worker(db: Db, settings: Arc<ReportSettings>) {
    loop {
        match db.claim_report(&settings.server_name).await {
            Ok(Some(job)) => {
                tracing::info!(report = %job.id, "running report");
                run_job(&db, &settings, job).await;
                continue;
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "cannot claim a report"),
        }
        tokio::select! {
            _ = settings.wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
    }
}
