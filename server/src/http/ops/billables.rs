//! NewBillable (`POST /billables`) and ServiceStack's auto-batched `POST /api/NewBillable[]`.
//! SQL: [`crate::store::billables`] through the group-commit writer
//! ([`crate::store::group_commit`]).

use axum::extract::State;
use evo_billing_core::dto::{NewBillable, NewBillableResult};
use evo_billing_core::validation::Validate;

use crate::auth::Principal;
use crate::http::call::{Bind, BindList, Caller};
use crate::http::error::{ApiError, ApiResult};
use crate::http::reply::{NoContent, Reply};
use crate::model::ResolvedBillable;
use crate::state::Ctx;

/// Reports one call to bill: 204 once it is committed (a duplicate is a success that bills
/// nothing).
pub async fn new_billable(
    State(ctx): State<Ctx>,
    Caller(p): Caller,
    Bind(req): Bind<NewBillable>,
) -> ApiResult<NoContent> {
    let resolved = resolve(&ctx, &p, &req).await?;
    ctx.billables.record(vec![resolved]).await?;
    Ok(NoContent)
}

/// One result per item; a bad item does not sink the others; all good items are committed
/// together.
pub async fn new_billables(
    State(ctx): State<Ctx>,
    Caller(p): Caller,
    BindList(items): BindList<NewBillable>,
) -> ApiResult<Reply<Vec<NewBillableResult>>> {
    let mut results: Vec<NewBillableResult> = Vec::with_capacity(items.len());
    let mut good: Vec<(usize, ResolvedBillable)> = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let call_sid = item.as_ref().ok().and_then(|r| r.call_sid.clone());
        let resolved = match item {
            Ok(req) => resolve(&ctx, &p, &req).await,
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
        .await?;
    for ((i, _), new) in good.iter().zip(flags) {
        results[*i].duplicate = !new;
    }
    Ok(Reply(results))
}

/// Validates a NewBillable and finds its account and customer: from the session, or given; a
/// given account or customer that contradicts the session is a 400. A session outside the
/// caller's scope is 404 like an absent one.
async fn resolve(ctx: &Ctx, p: &Principal, req: &NewBillable) -> ApiResult<ResolvedBillable> {
    let v = req.validate()?;
    let (account_id, customer_id) = match &v.session_id {
        Some(sid) => {
            // A session the caller may not see is answered exactly like one that does not
            // exist, before anything about it is compared or named.
            let absent =
                || ApiError::NotFound(format!("There is no call session '{sid}' (SessionId)."));
            let s = ctx
                .db
                .ledger()
                .call_session(sid)
                .await?
                .ok_or_else(absent)?;
            if !p
                .may_see_customer(&ctx.db, &s.account_id, &s.customer_id)
                .await?
            {
                return Err(absent());
            }
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
        None => match (v.account_id, v.customer_id) {
            (Some(a), Some(c)) => (a, c),
            // Validation guarantees both without a session.
            _ => {
                return Err(ApiError::bad_field(
                    "NotEmpty",
                    "AccountId",
                    "Specify either 'Session Id', or both 'Account Id' and 'Customer Id'.",
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
