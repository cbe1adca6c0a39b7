//! Who is calling, and what they may see.
//!
//! Credentials: a bearer token from `/auth/credentials` (`Authorization: Bearer <token>`), the
//! same token in the HttpOnly `evo-session` cookie (what the dashboard uses), or an API key
//! (`Authorization: Bearer ek_…`, or Basic with the key as user name and an empty password).
//! Tokens and keys are random and only their SHA-256 is stored; they expire and can be revoked.
//! Passwords are argon2id hashes. Sign-in attempts are rate-limited per client address and per
//! user name.
//!
//! Scope: a SystemAdministrator sees every account; a Manager the accounts listed for the user; a
//! Customer its own customer and the customers below it. Data outside the caller's scope is a 403,
//! never an empty answer.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use axum::http::HeaderMap;
use evo_billing_core::dto::Role;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::db::{now_unix, Db};
use crate::error::{ApiError, ApiResult};
use crate::ledger::CustomerRow;
use crate::model::{Account, NewUser};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "evo-session";
/// Prefix of API keys, so they are recognisable in logs and secret scanners.
pub const API_KEY_PREFIX: &str = "ek_";
/// Session lifetime without / with "remember me".
pub const SESSION_HOURS: i64 = 12;
pub const REMEMBER_DAYS: i64 = 30;

/// The signed-in caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: String,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    /// Manager: managed accounts; Customer: its account.
    pub account_ids: Vec<String>,
    /// Customer: the customer whose subtree it sees.
    pub customer: Option<CustomerRow>,
    /// The session's token hash (for logout); `None` for API keys.
    pub session_hash: Option<String>,
}

impl Principal {
    /// A 403 unless the caller has one of `roles`.
    pub fn require_role(&self, roles: &[Role]) -> ApiResult<()> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "This operation requires one of the roles: {}.",
                roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        }
    }

    /// The account, if the caller may see it. Unknown accounts are a 404 for administrators and a
    /// 403 for everyone else (who must not learn which accounts exist).
    pub async fn account(&self, db: &Db, account_id: &str) -> ApiResult<Account> {
        let allowed = match self.role {
            Role::SystemAdministrator => true,
            Role::Manager | Role::Customer => self.account_ids.iter().any(|a| a == account_id),
        };
        if !allowed {
            return Err(ApiError::Forbidden(format!(
                "You do not have access to account '{account_id}'."
            )));
        }
        db.account(account_id).await?.ok_or_else(|| {
            ApiError::NotFound(format!("There is no account '{account_id}' (AccountId)."))
        })
    }

    /// The subtree path a Customer is limited to (`None`: the whole account).
    pub fn subtree(&self) -> Option<&str> {
        self.customer.as_ref().map(|c| c.path.as_str())
    }

    /// The customer, if it exists in `account_id` and the caller may see it.
    pub async fn customer(
        &self,
        db: &Db,
        account_id: &str,
        customer_id: &str,
    ) -> ApiResult<CustomerRow> {
        let c = db
            .customer(customer_id)
            .await?
            .filter(|c| c.account_id == account_id)
            .ok_or_else(|| {
                ApiError::bad_field(
                    "NotFound",
                    "CustomerId",
                    format!("There is no customer '{customer_id}' in account '{account_id}'."),
                )
            })?;
        if let Some(path) = self.subtree() {
            if !c.path.starts_with(path) {
                return Err(ApiError::Forbidden(format!(
                    "Customer '{customer_id}' is outside your customers."
                )));
            }
        }
        Ok(c)
    }
}

/// SHA-256 hex of a token or key: what is stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new random token (64 hex characters).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A new random id with a prefix (`usr_…`, `rep_…`).
pub fn new_id(prefix: &str) -> String {
    let mut bytes = [0u8; 10];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

/// argon2id with the crate's default (OWASP-recommended) parameters.
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash the password: {e}"))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to verify against when the user does not exist, so a wrong user name takes as long as
/// a wrong password (no user enumeration by timing).
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password").unwrap_or_default())
}

/// Fixed-window counters for sign-in attempts.
pub struct RateLimiter {
    window: Duration,
    max: u32,
    hits: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    pub fn new(max: u32, window: Duration) -> RateLimiter {
        RateLimiter {
            window,
            max,
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// Counts an attempt for `key`; `false` when over the limit.
    pub fn allow(&self, key: &str) -> bool {
        let now = Instant::now();
        let Ok(mut hits) = self.hits.lock() else {
            return true;
        };
        if hits.len() > 100_000 {
            let window = self.window;
            hits.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = hits.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= self.max
    }
}

/// Recently verified credentials: a request's token is looked up in the database at most once
/// every few seconds (four queries saved per request). Logout in this process removes the entry at
/// once; a revocation made by another server process takes effect within [`CACHE_TTL`].
pub const CACHE_TTL: Duration = Duration::from_secs(5);

#[derive(Default)]
pub struct PrincipalCache {
    entries: Mutex<HashMap<String, (Principal, Instant)>>,
}

impl PrincipalCache {
    pub fn get(&self, token: &str) -> Option<Principal> {
        let entries = self.entries.lock().ok()?;
        let (p, at) = entries.get(&token_hash(token))?;
        (at.elapsed() < CACHE_TTL).then(|| p.clone())
    }

    pub fn put(&self, token: &str, p: &Principal) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() > 10_000 {
                entries.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
            }
            entries.insert(token_hash(token), (p.clone(), Instant::now()));
        }
    }

    /// Forgets every entry of a session (by its token hash).
    pub fn forget_hash(&self, hash: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(hash);
        }
    }
}

/// A user row needed to sign in.
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
}

impl Db {
    /// Creates a user (argon2 hash). Fails if the email is taken.
    pub async fn create_user(&self, user: &NewUser) -> Result<String, String> {
        let email = user.email.trim().to_ascii_lowercase();
        if !evo_billing_core::validation::is_email(&email) {
            return Err(format!("'{email}' is not an email address"));
        }
        if user.password.len() < 8 {
            return Err("a password needs at least 8 characters".into());
        }
        if user.role == Role::Customer && user.customer_id.is_none() {
            return Err("a Customer user needs --customer".into());
        }
        let hash = hash_password(&user.password)?;
        let id = new_id("usr_");
        let mut tx = self.pool.begin().await.map_err(|e| e.to_string())?;
        sqlx::query(&self.sql(
            "INSERT INTO users (id, email, display_name, password_hash, role, customer_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        ))
        .bind(&id)
        .bind(&email)
        .bind(&user.display_name)
        .bind(&hash)
        .bind(user.role.as_str())
        .bind(&user.customer_id)
        .bind(now_unix())
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if e.as_database_error().is_some_and(|d| d.is_unique_violation()) {
                format!("a user with email {email} already exists")
            } else {
                e.to_string()
            }
        })?;
        for a in &user.account_ids {
            sqlx::query(&self.sql("INSERT INTO user_accounts (user_id, account_id) VALUES (?, ?)"))
                .bind(&id)
                .bind(a)
                .execute(&mut *tx)
                .await
                .map_err(|e| format!("account {a}: {e}"))?;
        }
        tx.commit().await.map_err(|e| e.to_string())?;
        Ok(id)
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRow>, sqlx::Error> {
        let row = sqlx::query(
            &self.sql("SELECT id, email, display_name, password_hash FROM users WHERE email = ?"),
        )
        .bind(email.trim().to_ascii_lowercase())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(UserRow {
                id: r.try_get("id")?,
                email: r.try_get("email")?,
                display_name: r.try_get("display_name")?,
                password_hash: r.try_get("password_hash")?,
            })
        })
        .transpose()
    }

    /// Loads the principal of a user id.
    pub async fn principal(
        &self,
        user_id: &str,
        session_hash: Option<String>,
    ) -> Result<Option<Principal>, sqlx::Error> {
        let Some(row) = sqlx::query(
            &self.sql("SELECT id, email, display_name, role, customer_id FROM users WHERE id = ?"),
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let role_text: String = row.try_get("role")?;
        let Some(role) = Role::parse(&role_text) else {
            return Ok(None);
        };
        let customer_id: Option<String> = row.try_get("customer_id")?;
        let accounts = sqlx::query(
            &self.sql("SELECT account_id FROM user_accounts WHERE user_id = ? ORDER BY account_id"),
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        let mut account_ids: Vec<String> = accounts
            .iter()
            .map(|r| r.try_get("account_id"))
            .collect::<Result<_, _>>()?;
        let customer = match &customer_id {
            Some(c) => self.customer(c).await?,
            None => None,
        };
        if let Some(c) = &customer {
            account_ids = vec![c.account_id.clone()];
        }
        if role == Role::Customer && customer.is_none() {
            return Ok(None);
        }
        Ok(Some(Principal {
            user_id: row.try_get("id")?,
            email: row.try_get("email")?,
            display_name: row.try_get("display_name")?,
            role,
            account_ids,
            customer,
            session_hash,
        }))
    }

    /// Starts a session; returns the token (only its hash is stored).
    pub async fn create_session(
        &self,
        user_id: &str,
        remember: bool,
    ) -> Result<(String, i64), sqlx::Error> {
        let token = new_token();
        let now = now_unix();
        let expires = now
            + if remember {
                REMEMBER_DAYS * 86_400
            } else {
                SESSION_HOURS * 3_600
            };
        sqlx::query(&self.sql(
            "INSERT INTO auth_sessions (token_hash, user_id, created_at, expires_at, revoked) VALUES (?, ?, ?, ?, 0)",
        ))
        .bind(token_hash(&token))
        .bind(user_id)
        .bind(now)
        .bind(expires)
        .execute(&self.pool)
        .await?;
        Ok((token, expires))
    }

    pub async fn revoke_session(&self, hash: &str) -> Result<(), sqlx::Error> {
        sqlx::query(&self.sql("UPDATE auth_sessions SET revoked = 1 WHERE token_hash = ?"))
            .bind(hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Creates an API key for a user; returns the key (shown once).
    pub async fn create_api_key(&self, user_id: &str, name: &str) -> Result<String, sqlx::Error> {
        let key = format!("{API_KEY_PREFIX}{}", new_token());
        sqlx::query(&self.sql(
            "INSERT INTO api_keys (key_hash, user_id, name, created_at, expires_at, revoked) VALUES (?, ?, ?, ?, NULL, 0)",
        ))
        .bind(token_hash(&key))
        .bind(user_id)
        .bind(name)
        .bind(now_unix())
        .execute(&self.pool)
        .await?;
        Ok(key)
    }

    /// The principal behind a bearer token or API key, if valid.
    pub async fn authenticate_token(&self, token: &str) -> Result<Option<Principal>, sqlx::Error> {
        let hash = token_hash(token);
        let now = now_unix();
        if token.starts_with(API_KEY_PREFIX) {
            let row = sqlx::query(&self.sql(
                "SELECT user_id FROM api_keys WHERE key_hash = ? AND revoked = 0 AND (expires_at IS NULL OR expires_at > ?)",
            ))
            .bind(&hash)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
            return match row {
                Some(r) => {
                    self.principal(&r.try_get::<String, _>("user_id")?, None)
                        .await
                }
                None => Ok(None),
            };
        }
        let row = sqlx::query(&self.sql(
            "SELECT user_id FROM auth_sessions WHERE token_hash = ? AND revoked = 0 AND expires_at > ?",
        ))
        .bind(&hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => {
                self.principal(&r.try_get::<String, _>("user_id")?, Some(hash))
                    .await
            }
            None => Ok(None),
        }
    }
}

/// The credential a request carries, if any.
pub fn credential(headers: &HeaderMap) -> Option<String> {
    if let Some(auth) = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let auth = auth.trim();
        if let Some(token) = auth
            .strip_prefix("Bearer ")
            .or_else(|| auth.strip_prefix("bearer "))
        {
            let token = token.trim();
            if !token.is_empty() {
                return Some(token.to_string());
            }
        }
        if let Some(basic) = auth
            .strip_prefix("Basic ")
            .or_else(|| auth.strip_prefix("basic "))
        {
            if let Some(user) = decode_basic_user(basic.trim()) {
                return Some(user);
            }
        }
    }
    cookie(headers, SESSION_COOKIE)
}

/// A cookie's value.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The user name of a Basic credential (an API key), base64-decoded.
fn decode_basic_user(b64: &str) -> Option<String> {
    let decoded = base64_decode(b64)?;
    let text = String::from_utf8(decoded).ok()?;
    let user = text.split(':').next()?.trim();
    (!user.is_empty()).then(|| user.to_string())
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut buf = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => return None,
        };
        buf = (buf << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Checks a password sign-in: the user, or 401 "Invalid Username or Password".
pub async fn sign_in(db: &Db, user_name: &str, password: &str) -> ApiResult<UserRow> {
    let user = db.user_by_email(user_name).await?;
    let password = password.to_string();
    let (user, ok) = tokio::task::spawn_blocking(move || {
        let hash = user
            .as_ref()
            .map_or_else(|| decoy_hash().to_string(), |u| u.password_hash.clone());
        let ok = verify_password(&password, &hash);
        (user, ok)
    })
    .await
    .map_err(ApiError::internal)?;
    match (user, ok) {
        (Some(u), true) => Ok(u),
        _ => Err(ApiError::Unauthorized(
            "Invalid Username or Password".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn credentials_from_headers() {
        let mut h = HeaderMap::new();
        assert_eq!(credential(&h), None);
        h.insert("authorization", HeaderValue::from_static("Bearer abc"));
        assert_eq!(credential(&h).as_deref(), Some("abc"));
        // base64("ek_1:")
        h.insert("authorization", HeaderValue::from_static("Basic ZWtfMTo="));
        assert_eq!(credential(&h).as_deref(), Some("ek_1"));
        let mut c = HeaderMap::new();
        c.insert(
            "cookie",
            HeaderValue::from_static("a=1; evo-session=tok; b=2"),
        );
        assert_eq!(credential(&c).as_deref(), Some("tok"));
    }

    #[test]
    fn rate_limiter() {
        let r = RateLimiter::new(3, Duration::from_secs(60));
        assert!(r.allow("k") && r.allow("k") && r.allow("k"));
        assert!(!r.allow("k"));
        assert!(r.allow("other"));
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = new_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, new_token());
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }
}
