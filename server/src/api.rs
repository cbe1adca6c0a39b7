//! The operations. Each handler: who is calling (401 first), bind the request (case-insensitive,
//! any format), validate with core (400 with field errors), check scope (403/404), then answer in
//! the negotiated format. No rule about requests is written here: they live in core.

use axum::extract::State;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use evo_billing_core::dto::{
    Authenticate, AuthenticateResponse, BillingInfo, BillingReport, GetBilling, ListUsageRecords,
    NewBillable, NewBillableResult, ReportInfo, Role, UserInfo,
};
use evo_billing_core::validation::Validate;

use crate::app::{Call, Ctx};
use crate::auth::{Principal, SESSION_COOKIE};
use crate::binding::{bind, bind_list};
use crate::error::{ApiError, ApiResult};
use crate::format;
use crate::ledger::ResolvedBillable;
use crate::queries::{billing_info, usage_records};

fn method_not_allowed(call: &Call, allowed: &[Method]) -> Option<Response> {
    if allowed.contains(&call.method) {
        None
    } else {
        Some(call.error(&ApiError::MethodNotAllowed))
    }
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

// ---------------------------------------------------------------- NewBillable

pub async fn new_billable_route(State(ctx): State<Ctx>, call: Call) -> Response {
    if let Some(r) = method_not_allowed(&call, &[Method::POST]) {
        return r;
    }
    new_billable(&ctx, &call).await
}

async fn new_billable(ctx: &Ctx, call: &Call) -> Response {
    let result: ApiResult<bool> = async {
        let p = call.principal()?;
        let req: NewBillable = bind(&call.raw())?;
        let resolved = resolve_billable(ctx, p, &req).await?;
        let flags = ctx
            .billables
            .record(vec![resolved])
            .await
            .map_err(ApiError::Internal)?;
        Ok(flags.first().copied().unwrap_or(false))
    }
    .await;
    match result {
        Ok(_) => no_content(),
        Err(e) => call.error(&e),
    }
}

/// Validates a NewBillable and finds its account and customer: from the session, or given; a
/// given account or customer that contradicts the session is a 400.
async fn resolve_billable(
    ctx: &Ctx,
    p: &Principal,
    req: &NewBillable,
) -> ApiResult<ResolvedBillable> {
    let v = req.validate()?;
    let (account_id, customer_id) = match &v.session_id {
        Some(sid) => {
            let s = ctx.db.call_session(sid).await?.ok_or_else(|| {
                ApiError::NotFound(format!("There is no call session '{sid}' (SessionId)."))
            })?;
            // The session's account first: a caller must not learn about other accounts' sessions.
            p.account(&ctx.db, &s.account_id).await?;
            if let Some(a) = v.account_id.as_ref().filter(|a| **a != s.account_id) {
                return Err(ApiError::bad_field(
                    "Conflict",
                    "AccountId",
                    format!(
                        "'Account Id' {a} contradicts the session's account {}.",
                        s.account_id
                    ),
                ));
            }
            if let Some(c) = v.customer_id.as_ref().filter(|c| **c != s.customer_id) {
                return Err(ApiError::bad_field(
                    "Conflict",
                    "CustomerId",
                    format!(
                        "'Customer Id' {c} contradicts the session's customer {}.",
                        s.customer_id
                    ),
                ));
            }
            if s.call_sid != v.call_sid {
                return Err(ApiError::bad_field(
                    "Conflict",
                    "CallSid",
                    format!(
                        "'Call Sid' {} is not the session's call {}.",
                        v.call_sid, s.call_sid
                    ),
                ));
            }
            (s.account_id, s.customer_id)
        }
        None => match (&v.account_id, &v.customer_id) {
            (Some(a), Some(c)) => (a.clone(), c.clone()),
            _ => {
                return Err(ApiError::Internal(
                    "validated billable without target".into(),
                ))
            }
        },
    };
    p.account(&ctx.db, &account_id).await?;
    p.customer(&ctx.db, &account_id, &customer_id).await?;
    Ok(ResolvedBillable {
        account_id,
        customer_id,
        call_sid: v.call_sid,
        session_id: v.session_id,
    })
}

/// ServiceStack's auto-batched `POST /api/NewBillable[]`: one result per item; a bad item does
/// not sink the others; all good items are committed together.
async fn new_billables(ctx: &Ctx, call: &Call) -> Response {
    let result: ApiResult<Vec<NewBillableResult>> = async {
        let p = call.principal()?;
        let items = bind_list::<NewBillable>(&call.raw())?;
        let mut results: Vec<NewBillableResult> = Vec::with_capacity(items.len());
        let mut good: Vec<(usize, ResolvedBillable)> = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            let call_sid = item.as_ref().ok().and_then(|r| r.call_sid.clone());
            let resolved = match item {
                Ok(req) => resolve_billable(ctx, p, &req).await,
                Err(e) => Err(e),
            };
            match resolved {
                Ok(r) => {
                    good.push((i, r));
                    results.push(NewBillableResult {
                        call_sid,
                        ..Default::default()
                    });
                }
                Err(e) => results.push(NewBillableResult {
                    call_sid,
                    duplicate: false,
                    response_status: Some(e.response_status()),
                }),
            }
        }
        let flags = ctx
            .billables
            .record(good.iter().map(|(_, r)| r.clone()).collect())
            .await
            .map_err(ApiError::Internal)?;
        for ((i, _), new) in good.iter().zip(flags) {
            results[*i].duplicate = !new;
        }
        Ok(results)
    }
    .await;
    call.reply(result, &format::BILLABLE_RESULTS)
}

// ---------------------------------------------------------------- GetBilling

pub async fn get_billing_route(State(ctx): State<Ctx>, call: Call) -> Response {
    if let Some(r) = method_not_allowed(&call, &[Method::GET, Method::HEAD]) {
        return r;
    }
    get_billing(&ctx, &call).await
}

async fn get_billing(ctx: &Ctx, call: &Call) -> Response {
    let result: ApiResult<BillingInfo> = async {
        let p = call.principal()?;
        let req: GetBilling = bind(&call.raw())?;
        let q = req.validate()?;
        let account = p.account(&ctx.db, &q.account_id).await?;
        if let Some(c) = &q.customer_id {
            p.customer(&ctx.db, &account.id, c).await?;
        }
        let rows = ctx
            .db
            .billing(&account.id, q.range, q.customer_id.as_deref(), p.subtree())
            .await?;
        Ok(billing_info(&account, &rows))
    }
    .await;
    call.reply(result, &format::BILLING_INFO)
}

// ---------------------------------------------------------------- ListUsageRecords

pub async fn list_usage_route(State(ctx): State<Ctx>, call: Call) -> Response {
    if let Some(r) = method_not_allowed(&call, &[Method::GET, Method::HEAD]) {
        return r;
    }
    list_usage(&ctx, &call).await
}

async fn list_usage(ctx: &Ctx, call: &Call) -> Response {
    let result: ApiResult<Vec<evo_billing_core::dto::UsageRecordInfo>> = async {
        let p = call.principal()?;
        p.require_role(&[Role::SystemAdministrator, Role::Manager])?;
        let req: ListUsageRecords = bind(&call.raw())?;
        let q = req.validate()?;
        let account = p.account(&ctx.db, &q.account_id).await?;
        let days = ctx.db.usage_days(&account.id, q.range).await?;
        Ok(usage_records(&account, q.range, q.granularity, &days))
    }
    .await;
    call.reply(result, &format::USAGE_RECORDS)
}

// ---------------------------------------------------------------- BillingReport and /reports

pub async fn billing_report(State(ctx): State<Ctx>, call: Call) -> Response {
    let result: ApiResult<ReportInfo> = async {
        let p = call.principal()?;
        p.require_role(&[Role::SystemAdministrator, Role::Manager, Role::Customer])?;
        let req: BillingReport = bind(&call.raw())?;
        let q = req.validate()?;
        let account = p.account(&ctx.db, &q.account_id).await?;
        if let Some(url) = &q.webhook_url {
            check_webhook_target(&ctx, url)?;
        }
        let record = ctx.db.enqueue_report(p, &account.name, &q).await?;
        ctx.reports.wake.notify_one();
        Ok(record.info(&ctx.config.public_url))
    }
    .await;
    call.reply(result, &format::REPORT_INFO)
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
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(crate::webhook::is_forbidden_ip);
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
async fn visible_report(
    ctx: &Ctx,
    p: &Principal,
    id: &str,
) -> ApiResult<crate::reports::ReportRecord> {
    // Report ids are short and printable; anything else cannot be one (and a NUL would be an
    // error in PostgreSQL's text type, not a 404).
    if id.len() > 64 || id.chars().any(char::is_control) {
        let shown: String = id.chars().filter(|c| !c.is_control()).take(60).collect();
        return Err(ApiError::NotFound(format!("There is no report '{shown}'.")));
    }
    let r = ctx.db.report(id).await?;
    match r {
        Some(r) if p.role == Role::SystemAdministrator || r.owner_user_id == p.user_id => Ok(r),
        _ => Err(ApiError::NotFound(format!("There is no report '{id}'."))),
    }
}

pub async fn list_reports(State(ctx): State<Ctx>, call: Call) -> Response {
    if let Some(r) = method_not_allowed(&call, &[Method::GET, Method::HEAD]) {
        return r;
    }
    let result: ApiResult<Vec<ReportInfo>> = async {
        let p = call.principal()?;
        let owner = (p.role != Role::SystemAdministrator).then_some(p.user_id.as_str());
        let records = ctx.db.reports(owner).await?;
        Ok(records
            .iter()
            .map(|r| r.info(&ctx.config.public_url))
            .collect())
    }
    .await;
    call.reply(result, &format::REPORT_LIST)
}

pub async fn report_by_id(State(ctx): State<Ctx>, call: Call) -> Response {
    let id = call.param.clone().unwrap_or_default();
    match call.method {
        Method::GET | Method::HEAD => {
            let result: ApiResult<ReportInfo> = async {
                let p = call.principal()?;
                Ok(visible_report(&ctx, p, &id)
                    .await?
                    .info(&ctx.config.public_url))
            }
            .await;
            call.reply(result, &format::REPORT_INFO)
        }
        Method::DELETE => {
            let result: ApiResult<()> = async {
                let p = call.principal()?;
                let r = visible_report(&ctx, p, &id).await?;
                if r.status == evo_billing_core::dto::ReportStatuses::Running {
                    return Err(ApiError::Conflict(
                        "The report is running; delete it once it has finished.".into(),
                    ));
                }
                ctx.db.delete_report(&id).await?;
                Ok(())
            }
            .await;
            match result {
                Ok(()) => no_content(),
                Err(e) => call.error(&e),
            }
        }
        _ => call.error(&ApiError::MethodNotAllowed),
    }
}

/// `GET /reports/{id}/download.csv` (or `.xlsx`): the finished report's file.
pub async fn download_report(State(ctx): State<Ctx>, call: Call) -> Response {
    if let Some(r) = method_not_allowed(&call, &[Method::GET, Method::HEAD]) {
        return r;
    }
    let result: ApiResult<Response> = async {
        let p = call.principal()?;
        let id = call.param.clone().unwrap_or_default();
        let file = call.param2.clone().unwrap_or_default().to_ascii_lowercase();
        let xlsx = match file.as_str() {
            "download.csv" | "download" => false,
            "download.xlsx" => true,
            _ => {
                return Err(ApiError::NotFound(
                    "Reports download as download.csv or download.xlsx.".into(),
                ))
            }
        };
        let r = visible_report(&ctx, p, &id).await?;
        let bytes = ctx.db.report_file(&r.id, xlsx).await?.ok_or_else(|| {
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
    .await;
    match result {
        Ok(resp) => resp,
        Err(e) => call.error(&e),
    }
}

// ---------------------------------------------------------------- /api/{op}, /json/reply/{op}

/// ServiceStack's pre-defined routes: any verb, operation names case-insensitive.
pub async fn operation(State(ctx): State<Ctx>, call: Call) -> Response {
    let op = call.param.clone().unwrap_or_default().to_ascii_lowercase();
    match op.as_str() {
        "newbillable" => new_billable(&ctx, &call).await,
        "newbillable[]" => new_billables(&ctx, &call).await,
        "getbilling" => get_billing(&ctx, &call).await,
        "listusagerecords" => list_usage(&ctx, &call).await,
        "billingreport" => billing_report(State(ctx), call).await,
        "authenticate" => authenticate(State(ctx), call).await,
        _ => call.error(&ApiError::NotFound(format!(
            "There is no operation '{}'. Operations: NewBillable, GetBilling, BillingReport, ListUsageRecords, Authenticate.",
            call.param.as_deref().unwrap_or("").chars().take(60).collect::<String>()
        ))),
    }
}

// ---------------------------------------------------------------- auth

/// `/auth`: GET is the status, POST signs in (`provider: credentials`), DELETE signs out.
pub async fn auth_root(State(ctx): State<Ctx>, call: Call) -> Response {
    match call.method {
        Method::GET | Method::HEAD => auth_status(State(ctx), call).await,
        Method::DELETE => logout(State(ctx), call).await,
        _ => authenticate(State(ctx), call).await,
    }
}

pub async fn authenticate(State(ctx): State<Ctx>, call: Call) -> Response {
    if let Some(r) = method_not_allowed(&call, &[Method::POST]) {
        return r;
    }
    let result: ApiResult<(AuthenticateResponse, String, i64)> = async {
        let req: Authenticate = bind(&call.raw())?;
        let creds = req.validate()?;
        let user_key = creds.user_name.to_ascii_lowercase();
        if !ctx.signin_by_ip.allow(&call.client) || !ctx.signin_by_user.allow(&user_key) {
            return Err(ApiError::TooManyRequests(
                "Too many sign-in attempts; wait a minute and try again.".into(),
            ));
        }
        let user = crate::auth::sign_in(&ctx.db, &creds.user_name, &creds.password).await?;
        let (token, expires) = ctx.db.create_session(&user.id, creds.remember_me).await?;
        let p = ctx
            .db
            .principal(&user.id, None)
            .await?
            .ok_or_else(|| ApiError::Unauthorized("Invalid Username or Password".into()))?;
        Ok((
            AuthenticateResponse {
                user_id: Some(user.id.clone()),
                session_id: Some(token.clone()),
                user_name: Some(user.email.clone()),
                display_name: Some(user.display_name.clone()),
                bearer_token: Some(token.clone()),
                roles: vec![p.role.as_str().to_string()],
                permissions: Vec::new(),
                response_status: None,
            },
            token,
            expires,
        ))
    }
    .await;
    match result {
        Ok((body, token, expires)) => {
            let mut resp = call.ok(StatusCode::OK, &body, &format::AUTH_RESPONSE);
            let max_age = (expires - crate::db::now_unix()).max(0);
            let cookie = format!(
                "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
                if ctx.config.secure_cookies {
                    "; Secure"
                } else {
                    ""
                }
            );
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
            resp
        }
        Err(e) => call.error(&e),
    }
}

pub async fn auth_status(State(ctx): State<Ctx>, call: Call) -> Response {
    let result: ApiResult<UserInfo> = async {
        let Some(p) = &call.principal else {
            return Ok(UserInfo::default());
        };
        let mut names = Vec::new();
        let ids = if p.role == Role::SystemAdministrator {
            ctx.db.accounts().await?.into_iter().map(|a| a.id).collect()
        } else {
            p.account_ids.clone()
        };
        for id in &ids {
            names.push(
                ctx.db
                    .account(id)
                    .await?
                    .map(|a| a.name)
                    .unwrap_or_default(),
            );
        }
        Ok(UserInfo {
            id: Some(p.user_id.clone()),
            is_authenticated: true,
            name: Some(p.display_name.clone()),
            email_address: Some(p.email.clone()),
            roles: vec![p.role.as_str().to_string()],
            account_ids: ids,
            account_names: names,
        })
    }
    .await;
    call.reply(result, &format::USER_INFO)
}

pub async fn logout(State(ctx): State<Ctx>, call: Call) -> Response {
    if let Some(hash) = call.principal.as_ref().and_then(|p| p.session_hash.clone()) {
        if let Err(e) = ctx.db.revoke_session(&hash).await {
            return call.error(&ApiError::from(e));
        }
        ctx.principals.forget_hash(&hash);
    }
    let mut resp = no_content();
    let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    if let Ok(v) = HeaderValue::from_str(&clear) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}
