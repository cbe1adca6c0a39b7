//! The store: the only place with SQL. One code path for SQLite (the embedded default) and
//! PostgreSQL, through sqlx's `Any` driver. SQL is written once with `?` placeholders;
//! [`Store::sql`] rewrites them to `$1, $2, …` for PostgreSQL. Only portable SQL is used (upserts
//! with `ON CONFLICT`, `RETURNING`), except where a backend needs its own statement ([`Backend`]
//! says which).
//!
//! Columns are TEXT and BIGINT only (money in micro-units, days as day numbers, see [`days`]), so
//! every value decodes the same way on both backends; sums are `CAST(... AS BIGINT)` because
//! PostgreSQL's `SUM(bigint)` is NUMERIC.
//!
//! The store is split by concern, each a view borrowed from [`Store`]: [`Store::accounts`]
//! (accounts and the customer tree), [`Store::ledger`] (bulk loads of calls, SMS, numbers,
//! sessions), [`Store::rollups`] (the roll-up tables), [`Store::billables`] (the online,
//! idempotent NewBillable write), [`Store::reads`] (billing and usage answers), [`Store::users`]
//! (users, sessions, API keys) and [`Store::reports`] (the report queue and the outbox).
//! [`group_commit`] batches concurrent NewBillable writes into one transaction.

pub mod accounts;
pub mod billables;
pub mod days;
pub mod deliveries;
pub mod group_commit;
pub mod ledger;
pub mod reads;
pub mod reports;
pub mod rollups;
pub mod seals;
mod sqlite_ext;
pub mod terms;
pub mod users;

use std::borrow::Cow;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Connection, Executor, Row, TransactionManager};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed (connection, I/O, constraint, decoding).
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A value the caller asked for does not exist (an account, a parent customer).
    #[error("{0}")]
    NotFound(String),
    /// The write would break a rule of the data (a parent in another account, a cycle in the
    /// customer tree, a call for an unknown account).
    #[error("{0}")]
    Invalid(String),
    /// The row exists already (a duplicate id).
    #[error("{0}")]
    Conflict(String),
    /// A configuration problem (an unsupported URL, a directory that cannot be created).
    #[error("{0}")]
    Config(String),
}

impl StoreError {
    /// Is the database out of service for now (full disk, I/O or read-only errors, locks held
    /// too long, lost connections, an exhausted pool): a condition a client should retry later
    /// (503), not a fault of its request.
    pub fn is_unavailable(&self) -> bool {
        let StoreError::Database(e) = self else {
            return false;
        };
        match e {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(db) => {
                let code = db.code().unwrap_or_default();
                if db
                    .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                    .is_some()
                {
                    // PostgreSQL SQLSTATE (five characters, often all digits: 53100 is a full
                    // disk): connection (08), insufficient resources (53), operator
                    // intervention (57), system errors (58), serialization and deadlock.
                    ["08", "53", "57", "58"].iter().any(|c| code.starts_with(c))
                        || code == "40001"
                        || code == "40P01"
                } else {
                    // SQLite result codes (extended codes keep the primary code in the low
                    // byte): BUSY 5, LOCKED 6, READONLY 8, IOERR 10, FULL 13, CANTOPEN 14,
                    // PROTOCOL 15.
                    code.parse::<i64>()
                        .is_ok_and(|n| matches!(n & 0xFF, 5 | 6 | 8 | 10 | 13 | 14 | 15))
                }
            }
            _ => false,
        }
    }

    /// A unique-key violation becomes [`StoreError::Conflict`] with `message`; anything else stays
    /// a database error (the `on_constraint` helper of realworld-axum-sqlx, in our words).
    pub fn conflict_on_unique(e: sqlx::Error, message: impl FnOnce() -> String) -> StoreError {
        if e.as_database_error()
            .is_some_and(|d| d.is_unique_violation())
        {
            StoreError::Conflict(message())
        } else {
            StoreError::Database(e)
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// For this long after a write failed, /healthz says "degraded" without probing (a successful
/// write ends it sooner).
pub const RECENT_FAILURE: std::time::Duration = std::time::Duration::from_secs(2);

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pub pool: AnyPool,
    pub backend: Backend,
    /// Accounts and customers recently read (see [`accounts::Lookups`]).
    lookups: Arc<accounts::Lookups>,
    /// Whether the last write failed for want of the store (why, and when): what /healthz
    /// reports.
    writes: Arc<std::sync::Mutex<Option<(String, std::time::Instant)>>>,
    /// The seals of closed periods being written (see [`seals`]).
    sealing: Arc<seals::Sealing>,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

impl Store {
    /// Opens (and for SQLite creates) the database at `url`: `sqlite://path/to/file.db`,
    /// `sqlite::memory:`, or `postgres://user:pass@host/db`.
    pub async fn connect(url: &str) -> StoreResult<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError::Config(format!(
                "unsupported database URL '{url}': use sqlite://FILE or postgres://…"
            )));
        };
        let mut url = url.to_string();
        if backend == Backend::Sqlite {
            let rc = sqlite_ext::install();
            if rc != 0 {
                return Err(StoreError::Config(format!(
                    "cannot register evo_pack and the planner setting with SQLite (result code {rc})"
                )));
            }
            if let Some(path) = sqlite_file(&url) {
                if let Some(dir) = std::path::Path::new(&path).parent() {
                    if !dir.as_os_str().is_empty() {
                        std::fs::create_dir_all(dir).map_err(|e| {
                            StoreError::Config(format!("cannot create {}: {e}", dir.display()))
                        })?;
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
            // A connection comes back from a failed write in an unknown state: SQLite may have
            // rolled the transaction back by itself (SQLITE_FULL, I/O errors), the ROLLBACK then
            // fails, and sqlx still counts the transaction as open, so the connection's next
            // `begin()` would be a SAVEPOINT inside it and its "commit" a RELEASE: acknowledged,
            // never durable. Such a connection is closed instead of reused (closing rolls back
            // whatever is left and frees its locks); a fresh one replaces it.
            .after_release(|conn, _meta| {
                Box::pin(async move {
                    type Manager = <Any as sqlx::Database>::TransactionManager;
                    // No transaction counted open: nothing to check, and no round trip spent
                    // on it. SQLite's count drops only once its ROLLBACK or COMMIT has run, so a
                    // queued one still counts; PostgreSQL's drops when the ROLLBACK is queued,
                    // and sqlx's own ping after this runs it (closing the connection if it fails).
                    if Manager::get_transaction_depth(conn) == 0 {
                        return Ok(true);
                    }
                    // Ordered after the connection's queued ROLLBACK, if any.
                    if conn.ping().await.is_err() {
                        return Ok(false);
                    }
                    Ok(Manager::get_transaction_depth(conn) == 0)
                })
            })
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
        let pool = options.connect(&url).await?;
        Ok(Store {
            pool,
            backend,
            lookups: Default::default(),
            writes: Default::default(),
            sealing: Default::default(),
        })
    }

    /// Applies the migrations of this backend.
    pub async fn migrate(&self) -> StoreResult<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await?;
        // Migration 0002 moved the daily roll-ups into tiers and asks for the tiers above days.
        let pending = sqlx::query(&self.sql("SELECT value FROM settings WHERE key = ?"))
            .bind("rollup_tiers")
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.try_get::<String, _>("value"))
            .transpose()?;
        if pending.as_deref() == Some("rebuild") {
            self.rollups().build_tiers().await?;
            sqlx::query(&self.sql("UPDATE settings SET value = 'built' WHERE key = ?"))
                .bind("rollup_tiers")
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// The statement for this backend: `?` placeholders become `$n` on PostgreSQL.
    pub fn sql<'a>(&self, sql: &'a str) -> Cow<'a, str> {
        match self.backend {
            Backend::Sqlite => Cow::Borrowed(sql),
            Backend::Postgres => Cow::Owned(numbered_placeholders(sql)),
        }
    }

    /// Accounts and the customer tree.
    pub fn accounts(&self) -> accounts::Accounts<'_> {
        accounts::Accounts(self)
    }

    /// Bulk loads of the carrier's ledger.
    pub fn ledger(&self) -> ledger::Ledger<'_> {
        ledger::Ledger(self)
    }

    /// The roll-up tables.
    pub fn rollups(&self) -> rollups::Rollups<'_> {
        rollups::Rollups(self)
    }

    /// The online NewBillable write.
    pub fn billables(&self) -> billables::Billables<'_> {
        billables::Billables(self)
    }

    /// Billing and usage answers, from the roll-ups.
    pub fn reads(&self) -> reads::Reads<'_> {
        reads::Reads(self)
    }

    /// Users, sessions and API keys.
    pub fn users(&self) -> users::Users<'_> {
        users::Users(self)
    }

    /// The report queue and the outbox.
    pub fn reports(&self) -> reports::Reports<'_> {
        reports::Reports(self)
    }

    pub fn deliveries(&self) -> deliveries::Deliveries<'_> {
        deliveries::Deliveries(self)
    }

    /// Is the database reachable (`SELECT 1`)?
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Records how a write went, for [`Store::write_failure`].
    pub(crate) fn note_write<T>(&self, result: &StoreResult<T>) {
        if let Ok(mut w) = self.writes.lock() {
            // Only a store out of service counts; a rule broken by the data does not.
            *w = result
                .as_ref()
                .err()
                .filter(|e| e.is_unavailable())
                .map(|e| (e.to_string(), std::time::Instant::now()));
        }
    }

    /// Why writes are failing: the last write failed less than [`RECENT_FAILURE`] ago, or it
    /// failed earlier and a fresh write still fails (the probe writes one settings row, durably,
    /// so a store that has recovered reports so at once). The probe alone is not trusted while
    /// real writes fail: on a full disk PostgreSQL still updates a small row in place, where new
    /// billables need new pages.
    pub async fn write_failure(&self) -> Option<String> {
        let failing = self.writes.lock().ok().and_then(|w| w.clone());
        let (why, at) = failing?;
        if at.elapsed() < RECENT_FAILURE {
            return Some(why);
        }
        let probe = sqlx::query(&self.sql(
            "INSERT INTO settings (key, value) VALUES ('write_probe', ?) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        ))
        .bind(days::now_unix().to_string())
        .execute(&self.pool)
        .await
        .map(|_| ())
        .map_err(StoreError::from);
        self.note_write(&probe);
        probe.err().map(|e| e.to_string())
    }

    /// Refreshes the planner's statistics after a bulk load (a planner that believes the roll-up
    /// tables are empty picks slow plans). On PostgreSQL the small roll-up tables are also
    /// vacuumed, so GetBilling can use index-only scans.
    pub async fn analyze(&self) -> StoreResult<()> {
        match self.backend {
            Backend::Sqlite => {
                sqlx::query("PRAGMA analysis_limit = 1000")
                    .execute(&self.pool)
                    .await?;
                sqlx::query("ANALYZE").execute(&self.pool).await?;
            }
            Backend::Postgres => {
                sqlx::query("VACUUM ANALYZE billing_rollup, usage_rollup")
                    .execute(&self.pool)
                    .await?;
                sqlx::query("ANALYZE").execute(&self.pool).await?;
            }
        }
        Ok(())
    }

    /// Is there no account yet (a fresh database that wants the demo data)?
    pub async fn is_empty(&self) -> StoreResult<bool> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM accounts")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<i64, _>("n")? == 0)
    }

    /// A setting (e.g. the webhook signing secret), created with `init` the first time.
    pub async fn setting_or_init(&self, key: &str, init: String) -> StoreResult<String> {
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
        Ok(row.try_get("value")?)
    }

    /// Drops a PostgreSQL database (tests and benchmarks clean up after themselves; the pool
    /// must be connected to another database of the same server).
    pub async fn drop_database(&self, name: &str) -> StoreResult<()> {
        if self.backend != Backend::Postgres || !is_plain_identifier(name) {
            return Err(StoreError::Invalid(format!(
                "cannot drop database '{name}' on {}",
                self.backend.name()
            )));
        }
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Creates a PostgreSQL database (tests and benchmarks).
    pub async fn create_database(&self, name: &str) -> StoreResult<()> {
        if self.backend != Backend::Postgres || !is_plain_identifier(name) {
            return Err(StoreError::Invalid(format!(
                "cannot create database '{name}' on {}",
                self.backend.name()
            )));
        }
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// Separates the fields of a [`Store::packed`] row.
const FIELD_SEP: char = '\u{1F}';
/// Separates the rows of a [`Store::packed`] text.
const ROW_SEP: char = '\u{1E}';

impl Store {
    /// An aggregate that packs every row's `fields` (SQL expressions of text or integers) into
    /// one text: fields joined by U+001F, rows by U+001E (control characters, which no id or
    /// category can hold). Big answers cross the driver as one value this way: sqlx's `Any`
    /// rows cost microseconds each, so 10,000 of them would cost more than the query.
    ///
    /// The fields must be NOT NULL (PostgreSQL's `concat_ws` skips NULLs, SQLite's `evo_pack`
    /// writes them as empty text); on PostgreSQL
    /// `concat_ws` turns the integers into text in one call, about twice as fast over 10,000
    /// rows as casting and `||` each field.
    fn packed(&self, fields: &[&str]) -> String {
        match self.backend {
            // The same text as `group_concat(printf('%s␟%s…', …), char(30))`, at half its cost
            // (store/sqlite_ext.rs).
            Backend::Sqlite => format!("evo_pack({})", fields.join(", ")),
            Backend::Postgres => format!(
                "string_agg(concat_ws(chr(31), {}), chr(30))",
                fields.join(", ")
            ),
        }
    }
}

/// The rows of a [`Store::packed`] text, each as its fields.
fn unpack(text: &str) -> impl Iterator<Item = std::str::Split<'_, char>> + '_ {
    text.split(ROW_SEP)
        .filter(|r| !r.is_empty())
        .map(|r| r.split(FIELD_SEP))
}

/// `[a-z_][a-z0-9_]*`: safe to splice into DDL.
fn is_plain_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
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
fn numbered_placeholders(sql: &str) -> String {
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
fn values_list(rows: usize, cols: usize) -> String {
    let one = format!("({})", vec!["?"; cols].join(", "));
    vec![one; rows].join(", ")
}

/// `items` in slices for multi-row statements: [`ledger::CHUNK`] rows while that many are left,
/// then the largest power of two that fits, so a statement repeated "for n rows" comes in ten
/// shapes whatever the n. Each shape is prepared once per connection and stays in sqlx's
/// statement cache (100 statements); with one shape per size, a group commit of 1..64 writers
/// and its select of their calls made 128. Used where the sizes vary from commit to commit (the
/// billables of a group); the roll-up upserts keep plain chunks, since on PostgreSQL each extra
/// statement is a round trip (their rows are whole chunks in bulk writes, and only a group with
/// calls in the ledger writes them online).
fn shaped<T>(items: &[T]) -> impl Iterator<Item = &[T]> {
    let mut rest = items;
    std::iter::from_fn(move || {
        let n = match rest.len() {
            0 => return None,
            n if n >= ledger::CHUNK => ledger::CHUNK,
            n => 1 << n.ilog2(),
        };
        let (head, tail) = rest.split_at(n);
        rest = tail;
        Some(head)
    })
}

/// Reads a nullable TEXT column.
fn opt_text(row: &AnyRow, col: &str) -> Result<Option<String>, sqlx::Error> {
    row.try_get::<Option<String>, _>(col)
}

/// Reads a BIGINT column (NULL as 0, as sums over no rows are).
fn int(row: &AnyRow, col: &str) -> Result<i64, sqlx::Error> {
    Ok(row.try_get::<Option<i64>, _>(col)?.unwrap_or(0))
}

/// Parses a stored value with FromStr, as a decode error if it does not parse.
fn parse_col<T: FromStr>(row: &AnyRow, col: &str) -> Result<T, sqlx::Error>
where
    T::Err: std::fmt::Display,
{
    let s: String = row.try_get(col)?;
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
        assert!(is_plain_identifier("evo_test_1a"));
        assert!(!is_plain_identifier("x; DROP"));
        assert_eq!(
            sqlite_file("sqlite://./data/x.db?mode=rwc").as_deref(),
            Some("./data/x.db")
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
    }

    /// Every item once, in order, in at most a dozen lengths over any group size.
    #[test]
    fn shaped_slices_cover_in_few_shapes() {
        let mut lengths = std::collections::BTreeSet::new();
        for n in 0..=2_100usize {
            let items: Vec<usize> = (0..n).collect();
            let slices: Vec<&[usize]> = shaped(&items).collect();
            assert_eq!(slices.concat(), items, "n = {n}");
            assert!(
                slices.len() <= 1 + n / ledger::CHUNK + 9,
                "n = {n}: {}",
                slices.len()
            );
            lengths.extend(slices.iter().map(|s| s.len()));
        }
        let powers: Vec<usize> = (0..9).map(|k| 1 << k).collect();
        assert!(
            lengths
                .iter()
                .all(|l| *l == ledger::CHUNK || powers.contains(l)),
            "{lengths:?}"
        );
        assert!(lengths.len() <= 10, "{lengths:?}");
    }

    #[tokio::test]
    async fn sqlite_in_memory_migrates() {
        let db = Store::connect("sqlite::memory:").await.unwrap();
        db.migrate().await.unwrap();
        assert!(db.is_empty().await.unwrap());
        let a = db.setting_or_init("k", "v1".into()).await.unwrap();
        let b = db.setting_or_init("k", "v2".into()).await.unwrap();
        assert_eq!((a.as_str(), b.as_str()), ("v1", "v1"));
    }
}
