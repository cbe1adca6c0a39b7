//! Who is calling, and what they may see. No SQL here: rows come from [`crate::store::users`].
//!
//! Credentials ([`credentials`]): a bearer token from `/auth/credentials`, the same token in the
//! HttpOnly `evo-session` cookie (what the dashboard uses), or an API key (`Bearer ek_…`, or Basic
//! with the key as user name and an empty password). Tokens and keys are random and only their
//! SHA-256 is stored; they expire and can be revoked. Passwords are argon2id hashes
//! ([`password`]). Sign-in attempts are rate-limited ([`rate_limit`]); verified credentials are
//! cached for a few seconds ([`cache`]).
//!
//! Scope: a SystemAdministrator sees every account; a Manager the accounts listed for the user; a
//! Customer its own customer and the customers below it. Data outside the caller's scope is a 403,
//! never an empty answer.

pub mod cache;
pub mod credentials;
pub mod password;
pub mod rate_limit;

use evo_billing_core::dto::Role;

use crate::ids::new_token;
use crate::model::{Account, CustomerRow, NewUser, UserAccess, UserRow};
use crate::store::days::now_unix;
use crate::store::users::NewUserRow;
use crate::store::{Store, StoreError};
pub use cache::{PrincipalCache, CACHE_TTL};
pub use credentials::{credential, token_hash, API_KEY_PREFIX, SESSION_COOKIE};
pub use rate_limit::RateLimiter;

/// Session lifetime without / with "remember me".
pub const SESSION_HOURS: i64 = 12;
pub const REMEMBER_DAYS: i64 = 30;

/// Why a caller may not do what it asked.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Not signed in, or bad credentials (401).
    #[error("{0}")]
    Unauthorized(String),
    /// Missing role, or outside the caller's scope (403).
    #[error("{0}")]
    Forbidden(String),
    /// An account that does not exist, told only to administrators (404).
    #[error("{0}")]
    NotFound(String),
    /// A field naming something that is not there (400 on that field).
    #[error("{message}")]
    BadField {
        code: &'static str,
        field: &'static str,
        message: String,
    },
    /// A user that cannot be created (bad email, short password…).
    #[error("{0}")]
    InvalidUser(String),
    #[error("cannot hash the password: {0}")]
    Hash(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type AuthResult<T> = Result<T, AuthError>;

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
    fn of(access: UserAccess, session_hash: Option<String>) -> Principal {
        Principal {
            user_id: access.user_id,
            email: access.email,
            display_name: access.display_name,
            role: access.role,
            account_ids: access.account_ids,
            customer: access.customer,
            session_hash,
        }
    }

    /// A 403 unless the caller has one of `roles`.
    pub fn require_role(&self, roles: &[Role]) -> AuthResult<()> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(AuthError::Forbidden(format!(
                "This operation requires one of the roles: {}.",
                roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        }
    }

    /// May the caller see this account at all (by its id, before it is looked up)?
    pub fn may_see_account(&self, account_id: &str) -> bool {
        match self.role {
            Role::SystemAdministrator => true,
            Role::Manager | Role::Customer => self.account_ids.iter().any(|a| a == account_id),
        }
    }

    /// The account, if the caller may see it. Unknown accounts are a 404 for administrators and a
    /// 403 for everyone else (who must not learn which accounts exist).
    pub async fn account(&self, db: &Store, account_id: &str) -> AuthResult<Account> {
        if !self.may_see_account(account_id) {
            return Err(AuthError::Forbidden(format!(
                "You do not have access to account '{account_id}'."
            )));
        }
        db.accounts().get(account_id).await?.ok_or_else(|| {
            AuthError::NotFound(format!("There is no account '{account_id}' (AccountId)."))
        })
    }

    /// The subtree path a Customer is limited to (`None`: the whole account).
    pub fn subtree(&self) -> Option<&str> {
        self.customer.as_ref().map(|c| c.path.as_str())
    }

    /// The customer, if it exists in `account_id` and the caller may see it. A Customer gets
    /// the same 403 for an id outside its subtree as for one that does not exist, so it cannot
    /// learn which ids exist elsewhere; others get 400 on `CustomerId` for a missing one.
    pub async fn customer(
        &self,
        db: &Store,
        account_id: &str,
        customer_id: &str,
    ) -> AuthResult<CustomerRow> {
        let found = db
            .accounts()
            .customer(customer_id)
            .await?
            .filter(|c| c.account_id == account_id);
        match (found, self.subtree()) {
            (Some(c), Some(path)) if c.path.starts_with(path) => Ok(c),
            (_, Some(_)) => Err(AuthError::Forbidden(format!(
                "Customer '{customer_id}' is not one of your customers."
            ))),
            (Some(c), None) => Ok(c),
            (None, None) => Err(AuthError::BadField {
                code: "NotFound",
                field: "CustomerId",
                message: format!("There is no customer '{customer_id}' in account '{account_id}'."),
            }),
        }
    }

    /// Whether the caller may see `customer_id` of `account_id` (the account in its scope, and
    /// for a Customer the customer in its subtree); store errors are errors.
    pub async fn may_see_customer(
        &self,
        db: &Store,
        account_id: &str,
        customer_id: &str,
    ) -> AuthResult<bool> {
        if !self.may_see_account(account_id) {
            return Ok(false);
        }
        match self.customer(db, account_id, customer_id).await {
            Ok(_) => Ok(true),
            Err(AuthError::Store(e)) => Err(AuthError::Store(e)),
            Err(_) => Ok(false),
        }
    }
}

/// Creates a user (argon2 hash of the password). Fails if the email is taken.
pub async fn create_user(db: &Store, user: &NewUser) -> AuthResult<String> {
    let email = user.email.trim().to_ascii_lowercase();
    if !evo_billing_core::validation::is_email(&email) {
        return Err(AuthError::InvalidUser(format!(
            "'{email}' is not an email address"
        )));
    }
    if user.password.len() < 8 {
        return Err(AuthError::InvalidUser(
            "a password needs at least 8 characters".into(),
        ));
    }
    if user.role == Role::Customer && user.customer_id.is_none() {
        return Err(AuthError::InvalidUser(
            "a Customer user needs --customer".into(),
        ));
    }
    let password = user.password.clone();
    let hash = tokio::task::spawn_blocking(move || password::hash_password(&password))
        .await
        .map_err(|e| AuthError::Hash(e.to_string()))?
        .map_err(|e| AuthError::Hash(e.to_string()))?;
    Ok(db
        .users()
        .create(&NewUserRow {
            email: &email,
            display_name: &user.display_name,
            password_hash: &hash,
            role: user.role,
            account_ids: &user.account_ids,
            customer_id: user.customer_id.as_deref(),
        })
        .await?)
}

/// Checks a password sign-in: the user, or 401 "Invalid Username or Password".
pub async fn sign_in(db: &Store, user_name: &str, password: &str) -> AuthResult<UserRow> {
    let user = db.users().by_email(user_name).await?;
    let password = password.to_string();
    let (user, ok) = tokio::task::spawn_blocking(move || {
        let hash = user.as_ref().map_or_else(
            || password::decoy_hash().to_string(),
            |u| u.password_hash.clone(),
        );
        let ok = password::verify_password(&password, &hash);
        (user, ok)
    })
    .await
    .map_err(|e| AuthError::Hash(e.to_string()))?;
    match (user, ok) {
        (Some(u), true) => Ok(u),
        _ => Err(AuthError::Unauthorized(
            "Invalid Username or Password".into(),
        )),
    }
}

/// The principal of a user (without a session).
pub async fn principal_of(db: &Store, user_id: &str) -> AuthResult<Option<Principal>> {
    Ok(db
        .users()
        .access(user_id)
        .await?
        .map(|a| Principal::of(a, None)))
}

/// Starts a session for a user; returns the token (only its hash is stored) and its expiry.
pub async fn start_session(db: &Store, user_id: &str, remember: bool) -> AuthResult<(String, i64)> {
    let token = new_token();
    let expires = now_unix()
        + if remember {
            REMEMBER_DAYS * 86_400
        } else {
            SESSION_HOURS * 3_600
        };
    db.users()
        .create_session(&token_hash(&token), user_id, expires)
        .await?;
    Ok((token, expires))
}

/// Creates an API key for a user; returns the key (shown once).
pub async fn create_api_key(db: &Store, user_id: &str, name: &str) -> AuthResult<String> {
    Ok(create_expiring_api_key(db, user_id, name, None).await?.0)
}

/// Creates an API key that stops working after `days` (if given); returns the key (shown
/// once) and its public id.
pub async fn create_expiring_api_key(
    db: &Store,
    user_id: &str,
    name: &str,
    days: Option<u32>,
) -> AuthResult<(String, String)> {
    let key = format!("{API_KEY_PREFIX}{}", new_token());
    let id = crate::ids::new_id("key_");
    let expires_at = days.map(|d| crate::store::days::now_unix() + i64::from(d) * 86_400);
    db.users()
        .create_api_key(&id, &token_hash(&key), user_id, name, expires_at)
        .await?;
    Ok((key, id))
}

/// The principal behind a bearer token or API key, if it is valid.
pub async fn authenticate_token(db: &Store, token: &str) -> AuthResult<Option<Principal>> {
    let hash = token_hash(token);
    let users = db.users();
    let (user, session) = if token.starts_with(API_KEY_PREFIX) {
        (users.api_key_user(&hash).await?, None)
    } else {
        (users.session_user(&hash).await?, Some(hash))
    };
    let Some(user) = user else {
        return Ok(None);
    };
    Ok(users
        .access(&user)
        .await?
        .map(|a| Principal::of(a, session)))
}
