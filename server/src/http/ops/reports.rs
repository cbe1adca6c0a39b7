//! BillingReport (`POST /reports/billing`) and the routes around it: `GET /reports`,
//! `GET /reports/{id}`, `DELETE /reports/{id}`, `GET /reports/{id}/download.csv|.xlsx`.
//! SQL: [`crate::store::reports`]; the worker: [`crate::reports`].

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use evo_billing_core::dto::{BillingReport, ReportInfo, ReportStatuses, Role};
use evo_billing_core::validation::Validate;

use crate::auth::Principal;
use crate::http::call::{Bind, Caller, PathParams};
use crate::http::error::{ApiError, ApiResult};
use crate::http::reply::{NoContent, Reply};
use crate::model::ReportRecord;
use crate::notify::webhook::is_forbidden_ip;
use crate::reports;
use crate::state::Ctx;

/// Queues a report; answers at once with its ReportInfo (status Queued).
pub async fn billing_report(
    State(ctx): State<Ctx>,
    Caller(p): Caller,
    Bind(req): Bind<BillingReport>,
) -> ApiResult<Reply<ReportInfo>> {
    let q = req.validate()?;
    p.require_role(&[Role::SystemAdministrator, Role::Manager, Role::Customer])?;
    let account = p.account(&ctx.db, &q.account_id).await?;
    if let Some(url) = &q.webhook_url {
        check_webhook_target(&ctx, url)?;
    }
    let record = ctx
        .db
        .reports()
        .enqueue(&reports::new_report(&p, &account.name, &q))
        .await?;
    ctx.reports.wake.notify_one();
    Ok(Reply(reports::info(&record, &ctx.public_url)))
}

/// Refuses at once a webhook aimed at a literal private address (the worker checks resolved
/// names again before it connects).
fn check_webhook_target(ctx: &Ctx, url: &str) -> ApiResult<()> {
    if ctx.reports.webhooks.config().allow_private {
        return Ok(());
    }
    let host = evo_billing_core::validation::url_host(url).unwrap_or_default();
    let forbidden = host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(is_forbidden_ip);
    if forbidden {
        return Err(ApiError::bad_field(
            "InvalidUrl",
            "WebhookUrl",
            "'Webhook Url' points to a private, loopback or link-local address, which this server does not call.",
        ));
    }
    Ok(())
}

/// The report, if the caller may see it (its owner, or an administrator); otherwise 404.
async fn visible_report(ctx: &Ctx, p: &Principal, id: &str) -> ApiResult<ReportRecord> {
    // Report ids are short and printable; anything else cannot be one (and a NUL would be an
    // error in PostgreSQL's text type, not a 404).
    if id.len() > 64 || id.chars().any(char::is_control) {
        let shown: String = id.chars().filter(|c| !c.is_control()).take(60).collect();
        return Err(ApiError::NotFound(format!("There is no report '{shown}'.")));
    }
    match ctx.db.reports().get(id).await? {
        Some(r) if p.role == Role::SystemAdministrator || r.owner_user_id == p.user_id => Ok(r),
        _ => Err(ApiError::NotFound(format!("There is no report '{id}'."))),
    }
}

/// The caller's reports, newest first (every report for an administrator).
pub async fn list_reports(
    State(ctx): State<Ctx>,
    Caller(p): Caller,
) -> ApiResult<Reply<Vec<ReportInfo>>> {
    let owner = (p.role != Role::SystemAdministrator).then_some(p.user_id.as_str());
    let records = ctx.db.reports().list(owner).await?;
    Ok(Reply(
        records
            .iter()
            .map(|r| reports::info(r, &ctx.public_url))
            .collect(),
    ))
}

pub async fn get_report(
    State(ctx): State<Ctx>,
    Caller(p): Caller,
    params: PathParams,
) -> ApiResult<Reply<ReportInfo>> {
    let r = visible_report(&ctx, &p, params.get("id")).await?;
    Ok(Reply(reports::info(&r, &ctx.public_url)))
}

/// Deletes a report; 409 while it runs.
pub async fn delete_report(
    State(ctx): State<Ctx>,
    Caller(p): Caller,
    params: PathParams,
) -> ApiResult<NoContent> {
    let r = visible_report(&ctx, &p, params.get("id")).await?;
    if r.status == ReportStatuses::Running {
        return Err(ApiError::Conflict(
            "The report is running; delete it once it has finished.".into(),
        ));
    }
    ctx.db.reports().delete(&r.id).await?;
    Ok(NoContent)
}

/// `GET /reports/{id}/download.csv` (or `.xlsx`): the finished report's file.
pub async fn download_report(
    State(ctx): State<Ctx>,
    Caller(p): Caller,
    params: PathParams,
) -> ApiResult<Response> {
    let xlsx = match params.get("file").to_ascii_lowercase().as_str() {
        "download.csv" | "download" => false,
        "download.xlsx" => true,
        _ => {
            return Err(ApiError::NotFound(
                "Reports download as download.csv or download.xlsx.".into(),
            ))
        }
    };
    let r = visible_report(&ctx, &p, params.get("id")).await?;
    let bytes = ctx.db.reports().file(&r.id, xlsx).await?.ok_or_else(|| {
        ApiError::NotFound(format!(
            "Report '{}' has no file yet: its status is {}.",
            r.id,
            r.status.as_str()
        ))
    })?;
    let (mime, ext) = if xlsx {
        (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        )
    } else {
        ("text/csv; charset=utf-8", "csv")
    };
    let disposition = format!("attachment; filename=\"{}.{ext}\"", r.id);
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}
