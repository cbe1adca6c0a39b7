//! Users, their accounts, sign-in sessions and API keys.
//!
//! The store never sees a password or a token: it keeps an argon2 hash of each password and a
//! SHA-256 of each token or key, computed by [`crate::auth`].

use evo_billing_core::dto::Role;
use sqlx::Row;

use super::days::now_unix;
use super::{int, Store, StoreError, StoreResult};
use crate::ids::new_id;
use crate::model::{ApiKeyRow, UserAccess, UserRow};

/// A user to insert (the password already hashed).
#[derive(Debug, Clone)]
pub struct NewUserRow<'a> {
    /// Lower-case.
    pub email: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub account_ids: &'a [String],
    pub customer_id: Option<&'a str>,
}

/// Users, sessions and API keys.
pub struct Users<'a>(pub(super) &'a Store);

impl Users<'_> {
    /// Creates a user with its accounts; a taken email is a [`StoreError::Conflict`], an unknown
    /// account [`StoreError::Invalid`].
    pub async fn create(&self, user: &NewUserRow<'_>) -> StoreResult<String> {
        let db = self.0;
        let id = new_id("usr_");
        let mut tx = db.pool.begin().await?;
        sqlx::query(&db.sql(
            "INSERT INTO users (id, email, display_name, password_hash, role, customer_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        ))
        .bind(&id)
        .bind(user.email)
        .bind(user.display_name)
        .bind(user.password_hash)
        .bind(user.role.as_str())
        .bind(user.customer_id)
        .bind(now_unix())
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            StoreError::conflict_on_unique(e, || {
                format!("a user with email {} already exists", user.email)
            })
        })?;
        for a in user.account_ids {
            sqlx::query(&db.sql("INSERT INTO user_accounts (user_id, account_id) VALUES (?, ?)"))
                .bind(&id)
                .bind(a)
                .execute(&mut *tx)
                .await
                .map_err(|e| match e.as_database_error() {
                    Some(_) => StoreError::Invalid(format!("account {a}: {e}")),
                    None => StoreError::Database(e),
                })?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// The user with this email (compared lower-case).
    pub async fn by_email(&self, email: &str) -> StoreResult<Option<UserRow>> {
        let db = self.0;
        let row = sqlx::query(
            &db.sql("SELECT id, email, display_name, password_hash FROM users WHERE email = ?"),
        )
        .bind(email.trim().to_ascii_lowercase())
        .fetch_optional(&db.pool)
        .await?;
        let user = row
            .map(|r| -> Result<UserRow, sqlx::Error> {
                Ok(UserRow {
                    id: r.try_get("id")?,
                    email: r.try_get("email")?,
                    display_name: r.try_get("display_name")?,
                    password_hash: r.try_get("password_hash")?,
                })
            })
            .transpose()?;
        Ok(user)
    }

    /// What a user may see; `None` for an unknown user, an unknown role, or a Customer user
    /// whose customer is gone.
    pub async fn access(&self, user_id: &str) -> StoreResult<Option<UserAccess>> {
        let db = self.0;
        let Some(row) = sqlx::query(
            &db.sql("SELECT id, email, display_name, role, customer_id FROM users WHERE id = ?"),
        )
        .bind(user_id)
        .fetch_optional(&db.pool)
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
            &db.sql("SELECT account_id FROM user_accounts WHERE user_id = ? ORDER BY account_id"),
        )
        .bind(user_id)
        .fetch_all(&db.pool)
        .await?;
        let mut account_ids: Vec<String> = accounts
            .iter()
            .map(|r| r.try_get("account_id"))
            .collect::<Result<_, _>>()?;
        let customer = match &customer_id {
            Some(c) => db.accounts().customer(c).await?,
            None => None,
        };
        if let Some(c) = &customer {
            account_ids = vec![c.account_id.clone()];
        }
        if role == Role::Customer && customer.is_none() {
            return Ok(None);
        }
        Ok(Some(UserAccess {
            user_id: row.try_get("id")?,
            email: row.try_get("email")?,
            display_name: row.try_get("display_name")?,
            role,
            account_ids,
            customer,
        }))
    }

    /// Stores a session (by its token's hash) until `expires_at`.
    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: &str,
        expires_at: i64,
    ) -> StoreResult<()> {
        let db = self.0;
        sqlx::query(&db.sql(
            "INSERT INTO auth_sessions (token_hash, user_id, created_at, expires_at, revoked) VALUES (?, ?, ?, ?, 0)",
        ))
        .bind(token_hash)
        .bind(user_id)
        .bind(now_unix())
        .bind(expires_at)
        .execute(&db.pool)
        .await?;
        Ok(())
    }

    pub async fn revoke_session(&self, token_hash: &str) -> StoreResult<()> {
        let db = self.0;
        sqlx::query(&db.sql("UPDATE auth_sessions SET revoked = 1 WHERE token_hash = ?"))
            .bind(token_hash)
            .execute(&db.pool)
            .await?;
        Ok(())
    }

    /// Stores an API key (by its hash) for a user, expiring at `expires_at` (Unix seconds) if
    /// given.
    pub async fn create_api_key(
        &self,
        id: &str,
        key_hash: &str,
        user_id: &str,
        name: &str,
        expires_at: Option<i64>,
    ) -> StoreResult<()> {
        let db = self.0;
        sqlx::query(&db.sql(
            "INSERT INTO api_keys (id, key_hash, user_id, name, created_at, expires_at, revoked) VALUES (?, ?, ?, ?, ?, ?, 0)",
        ))
        .bind(id)
        .bind(key_hash)
        .bind(user_id)
        .bind(name)
        .bind(now_unix())
        .bind(expires_at)
        .execute(&db.pool)
        .await?;
        Ok(())
    }

    /// API keys of one user (or of everyone for `None`), newest first, with their owner's email.
    pub async fn api_keys(&self, user_id: Option<&str>) -> StoreResult<Vec<ApiKeyRow>> {
        let db = self.0;
        let sql = "SELECT k.id, k.user_id, u.email, k.name, k.created_at, k.expires_at, k.revoked \
                   FROM api_keys k JOIN users u ON u.id = k.user_id";
        let rows = match user_id {
            Some(u) => {
                sqlx::query(&db.sql(&format!(
                    "{sql} WHERE k.user_id = ? ORDER BY k.created_at DESC, k.id"
                )))
                .bind(u)
                .fetch_all(&db.pool)
                .await?
            }
            None => {
                sqlx::query(&format!("{sql} ORDER BY k.created_at DESC, k.id"))
                    .fetch_all(&db.pool)
                    .await?
            }
        };
        let keys = rows
            .iter()
            .map(|r| -> Result<_, sqlx::Error> {
                Ok(ApiKeyRow {
                    id: r.try_get("id")?,
                    user_id: r.try_get("user_id")?,
                    email: r.try_get("email")?,
                    name: r.try_get("name")?,
                    created_at: int(r, "created_at")?,
                    expires_at: r.try_get::<Option<i64>, _>("expires_at")?,
                    revoked: int(r, "revoked")? != 0,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(keys)
    }

    /// The owner of API key `id`, if it exists.
    pub async fn api_key_owner(&self, id: &str) -> StoreResult<Option<String>> {
        let db = self.0;
        let row = sqlx::query(&db.sql("SELECT user_id FROM api_keys WHERE id = ?"))
            .bind(id)
            .fetch_optional(&db.pool)
            .await?;
        Ok(row.map(|r| r.try_get("user_id")).transpose()?)
    }

    /// Revokes API key `id`; false if there is none.
    pub async fn revoke_api_key(&self, id: &str) -> StoreResult<bool> {
        let db = self.0;
        let n = sqlx::query(&db.sql("UPDATE api_keys SET revoked = 1 WHERE id = ?"))
            .bind(id)
            .execute(&db.pool)
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    /// The user of a live (unexpired, unrevoked) API key.
    pub async fn api_key_user(&self, key_hash: &str) -> StoreResult<Option<String>> {
        let db = self.0;
        let row = sqlx::query(&db.sql(
            "SELECT user_id FROM api_keys WHERE key_hash = ? AND revoked = 0 AND (expires_at IS NULL OR expires_at > ?)",
        ))
        .bind(key_hash)
        .bind(now_unix())
        .fetch_optional(&db.pool)
        .await?;
        Ok(row.map(|r| r.try_get("user_id")).transpose()?)
    }

    /// The user of a live session.
    pub async fn session_user(&self, token_hash: &str) -> StoreResult<Option<String>> {
        let db = self.0;
        let row = sqlx::query(&db.sql(
            "SELECT user_id FROM auth_sessions WHERE token_hash = ? AND revoked = 0 AND expires_at > ?",
        ))
        .bind(token_hash)
        .bind(now_unix())
        .fetch_optional(&db.pool)
        .await?;
        Ok(row.map(|r| r.try_get("user_id")).transpose()?)
    }
}
