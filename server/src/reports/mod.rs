//! BillingReport: the worker that turns queued reports into files and notifications.
//!
//! The queue lives in the database ([`crate::store::reports`]), so queued and interrupted reports
//! survive a restart and several server processes can share it. The worker claims a report with
//! a short lease it renews while it works, builds its rows from the roll-ups, and stores in one
//! transaction the CSV and XLSX ([`files`]), the final status (Completed, or Error with a
//! message) and its notifications as pending deliveries. The delivery worker ([`deliver`]) sends
//! those apart from report building: the webhook (ReportInfo and data, signed, with an
//! idempotency id) and the email ([`crate::notify`]); an email that cannot be sent ends in the
//! `outbox` table and the log, so nothing is silently dropped.

pub mod deliver;
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
use crate::model::{DeliveryKind, NewDelivery, NewReport, ReportRecord};
use crate::notify::mailer::{self, SmtpConfig};
use crate::notify::webhook::WebhookSender;
use crate::store::{Store, StoreError};
use files::{ReportData, ReportRow};

/// How long a claim holds a report before another worker may take it over; the running
/// worker renews it every [`HEARTBEAT_SECS`].
pub const LEASE_SECS: i64 = 30;
/// How often a running report's lease is renewed.
pub const HEARTBEAT_SECS: u64 = 10;
/// Reports one user may have queued or running at once; more get 429.
pub const MAX_ACTIVE_PER_OWNER: i64 = 10;

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
    /// Wakes the delivery worker when notifications are written.
    pub deliveries_wake: Arc<Notify>,
}

impl ReportSettings {
    pub fn new(
        server_name: String,
        public_url: String,
        smtp: Option<SmtpConfig>,
        webhooks: WebhookSender,
    ) -> ReportSettings {
        ReportSettings {
            server_name,
            public_url,
            smtp,
            webhooks,
            wake: Arc::new(Notify::new()),
            deliveries_wake: Arc::new(Notify::new()),
        }
    }
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

/// Runs one claimed report to its end: builds it while keeping its lease alive, then stores
/// the final status, the files and the pending notifications in one transaction and wakes the
/// delivery worker.
pub async fn run_job(db: &Store, settings: &ReportSettings, job: ReportRecord) {
    let queue = db.reports();
    let built = {
        let work = build(db, &job);
        tokio::pin!(work);
        let mut beat = tokio::time::interval(Duration::from_secs(HEARTBEAT_SECS));
        beat.tick().await;
        loop {
            tokio::select! {
                done = &mut work => break done,
                _ = beat.tick() => match queue.heartbeat(&job, LEASE_SECS).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(report = %job.id, "lease taken over; this run stops");
                        return;
                    }
                    Err(e) => tracing::warn!(report = %job.id, error = %e, "heartbeat failed"),
                },
            }
        }
    };
    let outcome = built.and_then(|data| match files::to_xlsx(&data) {
        Ok(xlsx) => Ok((data, xlsx)),
        Err(e) => Err(ReportError::Xlsx(e.to_string())),
    });
    let (status, message, data, files) = match outcome {
        Ok((data, xlsx)) => {
            let csv = files::to_csv(&data);
            let message = format!("{} customers", data.rows.len());
            (
                ReportStatuses::Completed,
                message,
                Some(data),
                Some((csv, xlsx)),
            )
        }
        Err(e) => {
            tracing::warn!(report = %job.id, error = %e, "report failed");
            (ReportStatuses::Error, e.to_string(), None, None)
        }
    };
    // The report as it will read once stored (for the notifications' bodies).
    let mut done = job.clone();
    done.status = status;
    done.status_message = Some(message.clone());
    done.updated_at = chrono::Utc::now().timestamp();
    let notes = notifications(settings, &done, data.as_ref());
    match queue.complete(&job, status, &message, files, &notes).await {
        Ok(true) => settings.deliveries_wake.notify_one(),
        Ok(false) => tracing::warn!(report = %job.id, "lease taken over; result dropped"),
        Err(e) => tracing::error!(report = %job.id, error = %e, "cannot store the report"),
    }
}

/// The webhook and email a finished report sends, as delivery rows.
fn notifications(
    settings: &ReportSettings,
    record: &ReportRecord,
    data: Option<&ReportData>,
) -> Vec<NewDelivery> {
    let info = info(record, &settings.public_url);
    let mut out = Vec::new();
    if let Some(url) = &record.webhook_url {
        let payload = json!({
            "report": info,
            "data": data.map(files::to_json),
        });
        out.push(NewDelivery {
            kind: DeliveryKind::Webhook,
            target: url.clone(),
            subject: None,
            body: payload.to_string(),
        });
    }
    if let Some(to) = &record.email {
        let account_name = data.map_or("", |d| d.account_name.as_str());
        let range = data
            .map(|d| format!("{}..{}", d.start_date, d.end_date))
            .unwrap_or_default();
        let (subject, text) =
            mailer::report_email(&info, account_name, &range, info.download_link.as_deref());
        out.push(NewDelivery {
            kind: DeliveryKind::Email,
            target: to.clone(),
            subject: Some(subject),
            body: text,
        });
    }
    out
}

/// The report worker: first takes back what a predecessor of the same name left Running or
/// in flight, then claims and runs reports until the process ends.
pub async fn worker(db: Store, settings: Arc<ReportSettings>) {
    match db.reports().release(&settings.server_name).await {
        Ok(0) => {}
        Ok(n) => {
            tracing::info!(reports = n, server = %settings.server_name, "took back reports a previous process left running")
        }
        Err(e) => tracing::error!(error = %e, "cannot take back running reports"),
    }
    if let Err(e) = db.deliveries().release(&settings.server_name).await {
        tracing::error!(error = %e, "cannot take back deliveries in flight");
    }
    tokio::spawn(deliver::worker(db.clone(), settings.clone()));
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
