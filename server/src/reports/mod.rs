//! BillingReport: the worker that turns queued reports into files and notifications.
//!
//! The queue lives in the database ([`crate::store::reports`]), so queued and interrupted reports
//! survive a restart and several server processes can share it. The worker claims a report,
//! builds its rows from the roll-ups, writes the CSV and XLSX ([`files`]) into the row and marks
//! it Completed (or Error with a message), then POSTs the ReportInfo and the data to the webhook
//! and emails the notification ([`crate::notify`]); without SMTP the email goes to the `outbox`
//! table and the log, so nothing is silently dropped.

pub mod files;

use std::sync::Arc;
use std::time::Duration;

use evo_billing_core::date_range::{DateError, DateRange};
use evo_billing_core::dto::{ReportInfo, ReportStatuses};
use evo_billing_core::money::Micros;
use evo_billing_core::validation::ReportQuery;
use serde_json::json;
use tokio::sync::Notify;

use crate::auth::Principal;
use crate::model::{NewReport, ReportRecord};
use crate::notify::mailer::{self, Email, SmtpConfig};
use crate::notify::webhook::WebhookSender;
use crate::store::reports::DeliveryColumn;
use crate::store::{Store, StoreError};
use files::{ReportData, ReportRow};

/// How long a claim holds a report before another worker may take it over.
pub const LEASE_SECS: i64 = 300;

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

/// Why a report could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("account {0} no longer exists")]
    AccountGone(String),
    #[error("the stored range is not valid: {0}")]
    Range(#[from] DateError),
    #[error("the XLSX file could not be written: {0}")]
    Xlsx(String),
}

fn iso(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// A report as the API shows it.
pub fn info(r: &ReportRecord, public_url: &str) -> ReportInfo {
    ReportInfo {
        id: Some(r.id.clone()),
        name: Some(r.name.clone()),
        status: r.status,
        status_message: r.status_message.clone(),
        date_created: Some(iso(r.created_at)),
        date_updated: Some(iso(r.updated_at)),
        download_link: (r.status == ReportStatuses::Completed)
            .then(|| format!("{public_url}/reports/{}/download.csv", r.id)),
        job_id: r.job_id.clone(),
        email_address_to_notify: r.email.clone(),
        server: r.server.clone(),
    }
}

/// The queue row of a checked BillingReport for `owner`; a Customer's report is limited to its
/// subtree.
pub fn new_report(owner: &Principal, account_name: &str, q: &ReportQuery) -> NewReport {
    NewReport {
        account_id: q.account_id.clone(),
        owner_user_id: owner.user_id.clone(),
        name: format!(
            "Billing {} {}..{}",
            account_name,
            q.range.start_text(),
            q.range.end_text()
        ),
        params: json!({
            "startDate": q.range.start_text(),
            "endDate": q.range.end_text(),
            "includeCustomerIds": q.include_customer_ids,
            "subtree": owner.subtree(),
        }),
        email: q.email_address_to_notify.clone(),
        webhook_url: q.webhook_url.clone(),
    }
}

/// Builds the report's data from the roll-ups.
async fn build(db: &Store, job: &ReportRecord) -> Result<ReportData, ReportError> {
    let account = db
        .accounts()
        .get(&job.account_id)
        .await?
        .ok_or_else(|| ReportError::AccountGone(job.account_id.clone()))?;
    let p = &job.params;
    let text = |k: &str| p.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
    let range = DateRange::parse(&text("startDate"), &text("endDate"))?;
    let subtree = p
        .get("subtree")
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let include_ids = p
        .get("includeCustomerIds")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let billing = db
        .reads()
        .billing(&account.id, range, None, subtree.as_deref())
        .await?;
    let customers = db
        .accounts()
        .customers(&account.id, subtree.as_deref())
        .await?;
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
pub async fn run_job(db: &Store, settings: &ReportSettings, job: ReportRecord) {
    let outcome = match build(db, &job).await {
        Ok(data) => match files::to_xlsx(&data) {
            Ok(xlsx) => Ok((data, xlsx)),
            Err(e) => Err(ReportError::Xlsx(e.to_string())),
        },
        Err(e) => Err(e),
    };
    let queue = db.reports();
    let data = match outcome {
        Ok((data, xlsx)) => {
            let csv = files::to_csv(&data);
            let message = format!("{} customers", data.rows.len());
            if let Err(e) = queue
                .finish(
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
            let _ = queue
                .finish(&job.id, ReportStatuses::Error, &e.to_string(), None, None)
                .await;
            None
        }
    };
    let Ok(Some(record)) = queue.get(&job.id).await else {
        return;
    };
    let info = info(&record, &settings.public_url);
    if let Some(url) = &record.webhook_url {
        let payload = json!({
            "report": info,
            "data": data.as_ref().map(files::to_json),
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
        let _ = queue
            .note_delivery(&record.id, DeliveryColumn::Webhook, &note)
            .await;
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
            let _ = queue.outbox(to, &subject, &text, &status).await;
        }
        let _ = queue
            .note_delivery(&record.id, DeliveryColumn::Email, &status)
            .await;
    }
}

/// The worker loop: claims and runs reports until the process ends.
pub async fn worker(db: Store, settings: Arc<ReportSettings>) {
    loop {
        match db.reports().claim(&settings.server_name, LEASE_SECS).await {
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
