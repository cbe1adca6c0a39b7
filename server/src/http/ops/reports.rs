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
use crate::notify::webhook::forbidden_literal;
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
    if ctx.db.reports().active(&p.user_id).await? >= reports::MAX_ACTIVE_PER_OWNER {
        return Err(ApiError::TooManyRequests {
            message: format!(
                "You already have {} reports queued or running; wait for one to finish.",
                reports::MAX_ACTIVE_PER_OWNER
            ),
            retry_after: 5,
        });
    }
    let record = ctx
        .db
        .reports()
        .enqueue(&reports::new_report(&p, &account.name, &q))
        .await?;
    ctx.reports.wake.notify_one();
    Ok(Reply(reports::info(&record, &ctx.public_url)))
}

/// Refuses at once a webhook aimed at a private address however it is spelled (the worker
/// checks resolved names again before it connects).
fn check_webhook_target(ctx: &Ctx, url: &str) -> ApiResult<()> {
    if ctx.reports.webhooks.config().allow_private {
        return Ok(());
    }
    if let Some(address) = forbidden_literal(url) {
        return Err(ApiError::bad_field(
            "InvalidUrl",
            "WebhookUrl",
            format!("'Webhook Url' points to {address}, a private, loopback or link-local address, which this server does not call."),
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

/// Deletes a report (and the notifications it has not sent); 409 while a live worker runs it.
pub async fn delete_report(
    State(ctx): State<Ctx>,
    Caller(p): Caller,
    params: PathParams,
) -> ApiResult<NoContent> {
    let r = visible_report(&ctx, &p, params.get("id")).await?;
    if r.status == ReportStatuses::Running && !ctx.db.reports().lease_expired(&r.id).await? {
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
