//! Storage: one code path for SQLite (the embedded default) and PostgreSQL, through sqlx's `Any`
//! driver. SQL is written once with `?` placeholders; [`Db::sql`] rewrites them to `$1, $2, …`
//! for PostgreSQL. Only portable SQL is used (upserts with `ON CONFLICT`, `RETURNING`), except
//! where a backend needs its own statement ([`Backend`] says which).
//!
//! Columns are TEXT and BIGINT only (money in micro-units, days as days since 1970-01-01), so
//! every value decodes the same way on both backends; sums are `CAST(... AS BIGINT)` because
//! PostgreSQL's `SUM(bigint)` is NUMERIC.

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use chrono::NaiveDate;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    /// Accounts and customers recently read (see [`Lookups`]).
    pub lookups: std::sync::Arc<Lookups>,
}

/// A short-lived cache of accounts and customers, which every billable and query looks up and
/// which nearly never change. Only rows that exist are cached, so a new customer is visible at
/// once; a rename shows within [`LOOKUP_TTL`].
#[derive(Default, Debug)]
pub struct Lookups {
    pub accounts: std::sync::Mutex<
        std::collections::HashMap<String, (crate::model::Account, std::time::Instant)>,
    >,
    pub customers: std::sync::Mutex<
        std::collections::HashMap<String, (crate::ledger::CustomerRow, std::time::Instant)>,
    >,
}

pub const LOOKUP_TTL: Duration = Duration::from_secs(30);

impl Lookups {
    pub fn get<T: Clone>(
        map: &std::sync::Mutex<std::collections::HashMap<String, (T, std::time::Instant)>>,
        key: &str,
    ) -> Option<T> {
        let m = map.lock().ok()?;
        let (v, at) = m.get(key)?;
        (at.elapsed() < LOOKUP_TTL).then(|| v.clone())
    }

    /// The cached row, or `fetch`'s answer (cached when it found something).
    pub async fn get_or_fetch<T, F, Fut>(
        map: &std::sync::Mutex<std::collections::HashMap<String, (T, std::time::Instant)>>,
        key: &str,
        fetch: F,
    ) -> Result<Option<T>, sqlx::Error>
    where
        T: Clone,
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Option<T>, sqlx::Error>>,
    {
        if let Some(v) = Lookups::get(map, key) {
            return Ok(Some(v));
        }
        let found = fetch().await?;
        if let Some(v) = &found {
            Lookups::put(map, key, v.clone());
        }
        Ok(found)
    }

    pub fn put<T>(
        map: &std::sync::Mutex<std::collections::HashMap<String, (T, std::time::Instant)>>,
        key: &str,
        value: T,
    ) {
        if let Ok(mut m) = map.lock() {
            if m.len() > 100_000 {
                m.clear();
            }
            m.insert(key.to_string(), (value, std::time::Instant::now()));
        }
    }
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Days since 1970-01-01.
pub fn day_number(date: NaiveDate) -> i64 {
    (date - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()).num_days()
}

/// The date of a day number.
pub fn date_of_day(day: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default() + chrono::Duration::days(day)
}

/// The UTC day of a Unix time.
pub fn day_of_time(unix: i64) -> i64 {
    unix.div_euclid(86_400)
}

pub fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Db {
    /// Opens (and for SQLite creates) the database at `url`: `sqlite://path/to/file.db`,
    /// `sqlite::memory:`, or `postgres://user:pass@host/db`.
    pub async fn connect(url: &str) -> Result<Db, String> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(format!(
                "unsupported database URL '{url}': use sqlite://FILE or postgres://…"
            ));
        };
        let mut url = url.to_string();
        if backend == Backend::Sqlite {
            if let Some(path) = sqlite_file(&url) {
                if let Some(dir) = std::path::Path::new(&path).parent() {
                    if !dir.as_os_str().is_empty() {
                        std::fs::create_dir_all(dir)
                            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                    }
                }
                if !url.contains("mode=") {
                    url.push_str(if url.contains('?') {
                        "&mode=rwc"
                    } else {
                        "?mode=rwc"
                    });
                }
            }
        }
        let memory = url.contains(":memory:") || url.contains("mode=memory");
        let options = AnyPoolOptions::new()
            .max_connections(match (backend, memory) {
                // One connection keeps an in-memory database alive and shared.
                (Backend::Sqlite, true) => 1,
                (Backend::Sqlite, false) => 8,
                (Backend::Postgres, _) => 16,
            })
            .min_connections(if memory { 1 } else { 0 })
            .idle_timeout(if memory {
                None
            } else {
                Some(Duration::from_secs(600))
            })
            .max_lifetime(if memory {
                None
            } else {
                Some(Duration::from_secs(3600))
            })
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL for concurrent readers; synchronous=FULL so a commit is on disk
                        // before we answer (an acknowledged billable survives a crash).
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = FULL").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                    }
                    Ok(())
                })
            });
        let pool = options
            .connect(&url)
            .await
            .map_err(|e| format!("cannot open the database: {e}"))?;
        Ok(Db {
            pool,
            backend,
            lookups: Default::default(),
        })
    }

    /// Applies the migrations of this backend.
    pub async fn migrate(&self) -> Result<(), String> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(&self.pool)
            .await
            .map_err(|e| format!("migration failed: {e}"))
    }

    /// The statement for this backend: `?` placeholders become `$n` on PostgreSQL.
    pub fn sql<'a>(&self, sql: &'a str) -> Cow<'a, str> {
        match self.backend {
            Backend::Sqlite => Cow::Borrowed(sql),
            Backend::Postgres => Cow::Owned(numbered_placeholders(sql)),
        }
    }

    /// Refreshes the planner's statistics after a bulk load (a planner that believes the roll-up
    /// tables are empty picks slow plans). On PostgreSQL the small roll-up tables are also
    /// vacuumed, so GetBilling can use index-only scans.
    pub async fn analyze(&self) -> Result<(), sqlx::Error> {
        match self.backend {
            Backend::Sqlite => {
                sqlx::query("PRAGMA analysis_limit = 1000")
                    .execute(&self.pool)
                    .await?;
                sqlx::query("ANALYZE").execute(&self.pool).await?;
            }
            Backend::Postgres => {
                sqlx::query("VACUUM ANALYZE billing_daily, usage_daily")
                    .execute(&self.pool)
                    .await?;
                sqlx::query("ANALYZE").execute(&self.pool).await?;
            }
        }
        Ok(())
    }

    /// Is there no account yet (a fresh database that wants the demo data)?
    pub async fn is_empty(&self) -> Result<bool, sqlx::Error> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM accounts")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<i64, _>("n")? == 0)
    }

    /// A setting (e.g. the webhook signing secret), created with `init` the first time.
    pub async fn setting_or_init(&self, key: &str, init: String) -> Result<String, sqlx::Error> {
        sqlx::query(
            &self.sql(
                "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
            ),
        )
        .bind(key)
        .bind(init)
        .execute(&self.pool)
        .await?;
        let row = sqlx::query(&self.sql("SELECT value FROM settings WHERE key = ?"))
            .bind(key)
            .fetch_one(&self.pool)
            .await?;
        row.try_get("value")
    }
}

/// The file path of a `sqlite://` URL (`None` for in-memory databases).
pub fn sqlite_file(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    if path.is_empty() || path == ":memory:" {
        None
    } else {
        Some(path.to_string())
    }
}

/// Rewrites `?` placeholders to `$1, $2, …`, leaving quoted text alone.
pub fn numbered_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    let mut in_quote = false;
    for c in sql.chars() {
        match c {
            '\'' => {
                in_quote = !in_quote;
                out.push(c);
            }
            '?' if !in_quote => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            }
            _ => out.push(c),
        }
    }
    out
}

/// A statement repeated for `rows` rows of `cols` values: `(?, ?), (?, ?)`.
pub fn values_list(rows: usize, cols: usize) -> String {
    let one = format!("({})", vec!["?"; cols].join(", "));
    vec![one; rows].join(", ")
}

/// Reads a TEXT column.
pub fn text(row: &AnyRow, col: &str) -> Result<String, sqlx::Error> {
    row.try_get::<String, _>(col)
}

/// Reads a nullable TEXT column.
pub fn opt_text(row: &AnyRow, col: &str) -> Result<Option<String>, sqlx::Error> {
    row.try_get::<Option<String>, _>(col)
}

/// Reads a BIGINT column (NULL as 0, as sums over no rows are).
pub fn int(row: &AnyRow, col: &str) -> Result<i64, sqlx::Error> {
    Ok(row.try_get::<Option<i64>, _>(col)?.unwrap_or(0))
}

/// Parses a stored value with FromStr, as a decode error if it does not parse.
pub fn parse_col<T: FromStr>(row: &AnyRow, col: &str) -> Result<T, sqlx::Error>
where
    T::Err: std::fmt::Display,
{
    let s = text(row, col)?;
    s.parse::<T>().map_err(|e| sqlx::Error::ColumnDecode {
        index: col.to_string(),
        source: format!("{e}").into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        assert_eq!(
            numbered_placeholders("SELECT ? , '?' FROM t WHERE a = ? AND b = ?"),
            "SELECT $1 , '?' FROM t WHERE a = $2 AND b = $3"
        );
        assert_eq!(values_list(2, 3), "(?, ?, ?), (?, ?, ?)");
    }

    #[test]
    fn days() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        assert_eq!(date_of_day(day_number(d)), d);
        assert_eq!(day_of_time(-1), -1);
        assert_eq!(day_of_time(86_399), 0);
        assert_eq!(
            sqlite_file("sqlite://./data/x.db?mode=rwc").as_deref(),
            Some("./data/x.db")
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
    }

    #[tokio::test]
    async fn sqlite_in_memory_migrates() {
        let db = Db::connect("sqlite::memory:").await.unwrap();
        db.migrate().await.unwrap();
        assert!(db.is_empty().await.unwrap());
        let a = db.setting_or_init("k", "v1".into()).await.unwrap();
        let b = db.setting_or_init("k", "v2".into()).await.unwrap();
        assert_eq!((a.as_str(), b.as_str()), ("v1", "v1"));
    }
}
