//! Sign-in and sessions: `POST /auth/credentials` (Authenticate), `GET /auth/status`,
//! `POST /auth/logout`, ServiceStack's `/auth` (GET status, POST sign in, DELETE sign out), and
//! API keys at `/auth/apikeys` (list, create from a session, revoke).
//! SQL: [`crate::store::users`], through [`crate::auth`].

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use evo_billing_core::dto::{
    ApiKeyInfo, ApiKeyList, Authenticate, AuthenticateResponse, CreateApiKey, CreatedApiKey,
    ListApiKeys, RevokeApiKey, Role, UserInfo,
};
use evo_billing_core::validation::Validate;

use crate::auth::{self, SESSION_COOKIE};
use crate::http::call::{Bind, Caller, ClientAddr, MaybeCaller};
use crate::http::error::{ApiError, ApiResult};
use crate::http::reply::{NoContent, Reply};
use crate::model::ApiKeyRow;
use crate::state::Ctx;
use crate::store::days::now_unix;

/// Signs in: a bearer token in the body, and the same token in the HttpOnly session cookie.
pub async fn authenticate(
    State(ctx): State<Ctx>,
    ClientAddr(client): ClientAddr,
    Bind(req): Bind<Authenticate>,
) -> ApiResult<Response> {
    let creds = req.validate()?;
    // Failures count per user name *and* address: someone guessing elsewhere cannot lock the
    // real user out; every attempt also counts per address.
    let user_key = format!("{}|{client}", creds.user_name.to_ascii_lowercase());
    let too_many = |wait: std::time::Duration| ApiError::TooManyRequests {
        message: "Too many sign-in attempts; wait and try again.".into(),
        retry_after: wait.as_secs().max(1),
    };
    if let Some(wait) = ctx.signin_by_ip.hit(&client) {
        return Err(too_many(wait));
    }
    if let Some(wait) = ctx.signin_failures.blocked(&user_key) {
        return Err(too_many(wait));
    }
    let user = match auth::sign_in(&ctx.db, &creds.user_name, &creds.password).await {
        Ok(user) => {
            ctx.signin_failures.clear(&user_key);
            user
        }
        Err(e) => {
            if matches!(e, auth::AuthError::Unauthorized(_)) {
                ctx.signin_failures.hit(&user_key);
            }
            return Err(e.into());
        }
    };
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
        // Behind HTTPS (configured, or a public URL that says so) the cookie never travels in
        // clear.
        if ctx.config.secure_cookies || ctx.public_url.starts_with("https://") {
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

fn api_key_info(k: &ApiKeyRow) -> ApiKeyInfo {
    let iso = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default()
    };
    ApiKeyInfo {
        id: k.id.clone(),
        name: k.name.clone(),
        user_name: k.email.clone(),
        created_at: iso(k.created_at),
        expires_at: k.expires_at.map(iso),
        revoked: k.revoked,
        active: !k.revoked && k.expires_at.is_none_or(|t| t > now_unix()),
    }
}

/// The caller's API keys; an administrator's: everyone's.
pub async fn list_api_keys(
    State(ctx): State<Ctx>,
    Caller(p): Caller,
    Bind(req): Bind<ListApiKeys>,
) -> ApiResult<Reply<ApiKeyList>> {
    req.validate()?;
    let owner = (p.role != Role::SystemAdministrator).then_some(p.user_id.as_str());
    let keys = ctx.db.users().api_keys(owner).await?;
    Ok(Reply(ApiKeyList {
        items: keys.iter().map(api_key_info).collect(),
    }))
}

/// A new key for the caller. Only from a session: a key cannot make keys, so a leaked key
/// cannot outlive its revocation.
pub async fn create_api_key(
    State(ctx): State<Ctx>,
    Caller(p): Caller,
    Bind(req): Bind<CreateApiKey>,
) -> ApiResult<Reply<CreatedApiKey>> {
    let v = req.validate()?;
    if p.session_hash.is_none() {
        return Err(ApiError::Forbidden(
            "API keys are created from a signed-in session, not with another API key.".into(),
        ));
    }
    let (key, id) =
        auth::create_expiring_api_key(&ctx.db, &p.user_id, &v.name, v.expires_in_days).await?;
    let row = ctx
        .db
        .users()
        .api_keys(Some(&p.user_id))
        .await?
        .into_iter()
        .find(|k| k.id == id)
        .ok_or_else(|| ApiError::NotFound(format!("API key {id} vanished after insert")))?;
    Ok(Reply(CreatedApiKey {
        key,
        info: api_key_info(&row),
    }))
}

/// Revokes a key at once: the caller's own, or any for an administrator (another user's key is
/// 404, like one that does not exist).
pub async fn revoke_api_key(
    State(ctx): State<Ctx>,
    Caller(p): Caller,
    Bind(req): Bind<RevokeApiKey>,
) -> ApiResult<NoContent> {
    let id = req.validate()?;
    let owner = ctx.db.users().api_key_owner(&id).await?;
    match owner {
        Some(o) if o == p.user_id || p.role == Role::SystemAdministrator => {
            ctx.db.users().revoke_api_key(&id).await?;
            // Cached principals must not outlive the key.
            ctx.principals.clear();
            Ok(NoContent)
        }
        _ => Err(ApiError::NotFound(format!("There is no API key '{id}'."))),
    }
}
