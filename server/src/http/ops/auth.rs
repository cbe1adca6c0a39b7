//! Sign-in and sessions: `POST /auth/credentials` (Authenticate), `GET /auth/status`,
//! `POST /auth/logout`, and ServiceStack's `/auth` (GET status, POST sign in, DELETE sign out).
//! SQL: [`crate::store::users`], through [`crate::auth`].

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use evo_billing_core::dto::{Authenticate, AuthenticateResponse, Role, UserInfo};
use evo_billing_core::validation::Validate;

use crate::auth::{self, SESSION_COOKIE};
use crate::http::call::{Bind, ClientAddr, MaybeCaller};
use crate::http::error::{ApiError, ApiResult};
use crate::http::reply::{NoContent, Reply};
use crate::state::Ctx;
use crate::store::days::now_unix;

/// Signs in: a bearer token in the body, and the same token in the HttpOnly session cookie.
pub async fn authenticate(
    State(ctx): State<Ctx>,
    ClientAddr(client): ClientAddr,
    Bind(req): Bind<Authenticate>,
) -> ApiResult<Response> {
    let creds = req.validate()?;
    let user_key = creds.user_name.to_ascii_lowercase();
    if !ctx.signin_by_ip.allow(&client) || !ctx.signin_by_user.allow(&user_key) {
        return Err(ApiError::TooManyRequests(
            "Too many sign-in attempts; wait a minute and try again.".into(),
        ));
    }
    let user = auth::sign_in(&ctx.db, &creds.user_name, &creds.password).await?;
    let (token, expires) = auth::start_session(&ctx.db, &user.id, creds.remember_me).await?;
    let p = auth::principal_of(&ctx.db, &user.id)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("Invalid Username or Password".into()))?;
    let body = AuthenticateResponse {
        user_id: Some(user.id.clone()),
        session_id: Some(token.clone()),
        user_name: Some(user.email.clone()),
        display_name: Some(user.display_name.clone()),
        bearer_token: Some(token.clone()),
        roles: vec![p.role.as_str().to_string()],
        permissions: Vec::new(),
        response_status: None,
    };
    let max_age = (expires - now_unix()).max(0);
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        if ctx.config.secure_cookies {
            "; Secure"
        } else {
            ""
        }
    );
    let mut resp = Reply(body).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

/// Who the caller is (`isAuthenticated: false` when nobody is signed in).
pub async fn auth_status(
    State(ctx): State<Ctx>,
    MaybeCaller(p): MaybeCaller,
) -> ApiResult<Reply<UserInfo>> {
    let Some(p) = p else {
        return Ok(Reply(UserInfo::default()));
    };
    let accounts = ctx.db.accounts();
    let ids = if p.role == Role::SystemAdministrator {
        accounts.all().await?.into_iter().map(|a| a.id).collect()
    } else {
        p.account_ids.clone()
    };
    let mut names = Vec::with_capacity(ids.len());
    for id in &ids {
        names.push(accounts.get(id).await?.map(|a| a.name).unwrap_or_default());
    }
    Ok(Reply(UserInfo {
        id: Some(p.user_id.clone()),
        is_authenticated: true,
        name: Some(p.display_name.clone()),
        email_address: Some(p.email.clone()),
        roles: vec![p.role.as_str().to_string()],
        account_ids: ids,
        account_names: names,
    }))
}

/// Ends the session (if the caller has one) and clears the cookie.
pub async fn logout(State(ctx): State<Ctx>, MaybeCaller(p): MaybeCaller) -> ApiResult<Response> {
    if let Some(hash) = p.and_then(|p| p.session_hash) {
        ctx.db.users().revoke_session(&hash).await?;
        ctx.principals.forget_hash(&hash);
    }
    let mut resp = NoContent.into_response();
    let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    if let Ok(v) = HeaderValue::from_str(&clear) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}
