//! Accounts and the customer tree of each account.
//!
//! A customer's `path` is `/root-id/…/self-id/`, so a subtree is a prefix, and its `breadcrumb`
//! is the names from the root down (`Acme / Sales / EMEA`). Both are kept consistent by every
//! write here: a rename or a move rewrites the paths and breadcrumbs of the whole subtree in one
//! transaction.
//!
//! Accounts and customers are read by nearly every request and nearly never change, so they are
//! cached for [`LOOKUP_TTL`] ([`Lookups`]); only rows that exist are cached (a new customer is
//! visible at once) and every write here forgets what it changed.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use evo_billing_core::dto::BREADCRUMB_SEPARATOR;
use sqlx::{Any, Row, Transaction};

use super::{parse_col, Backend, Store, StoreError, StoreResult};
use crate::model::{Account, Customer, CustomerRow};

/// How long a cached account or customer is trusted.
pub const LOOKUP_TTL: Duration = Duration::from_secs(30);

type Cache<T> = Mutex<HashMap<String, (T, Instant)>>;

/// A short-lived cache of accounts and customers by id.
#[derive(Default, Debug)]
pub struct Lookups {
    accounts: Cache<Account>,
    customers: Cache<CustomerRow>,
}

fn cached<T: Clone>(map: &Cache<T>, key: &str) -> Option<T> {
    let m = map.lock().ok()?;
    let (v, at) = m.get(key)?;
    (at.elapsed() < LOOKUP_TTL).then(|| v.clone())
}

fn remember<T>(map: &Cache<T>, key: &str, value: T) {
    if let Ok(mut m) = map.lock() {
        if m.len() > 100_000 {
            m.clear();
        }
        m.insert(key.to_string(), (value, Instant::now()));
    }
}

fn forget_all<T>(map: &Cache<T>) {
    if let Ok(mut m) = map.lock() {
        m.clear();
    }
}

const ACCOUNT_SELECT: &str = "SELECT id, name, account_sid, home_country, currency FROM accounts";
const CUSTOMER_SELECT: &str =
    "SELECT id, account_id, parent_id, name, path, breadcrumb FROM customers";

fn account_of(r: &sqlx::any::AnyRow) -> Result<Account, sqlx::Error> {
    Ok(Account {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        account_sid: r.try_get("account_sid")?,
        home_country: r.try_get("home_country")?,
        currency: parse_col(r, "currency")?,
    })
}

fn customer_of(r: &sqlx::any::AnyRow) -> Result<CustomerRow, sqlx::Error> {
    Ok(CustomerRow {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        parent_id: r.try_get("parent_id")?,
        name: r.try_get("name")?,
        path: r.try_get("path")?,
        breadcrumb: r.try_get("breadcrumb")?,
    })
}

/// A page of customers and how many match in all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerPage {
    pub items: Vec<CustomerRow>,
    pub total: i64,
}

/// What [`Accounts::list_customers`] selects.
#[derive(Debug, Clone, Default)]
pub struct CustomerFilter<'a> {
    /// Only this subtree (a path prefix).
    pub subtree: Option<&'a str>,
    /// Only the direct children of this customer.
    pub parent_id: Option<&'a str>,
    /// Names containing this text, case-insensitively.
    pub name_contains: Option<&'a str>,
    pub offset: i64,
    pub limit: i64,
}

/// Accounts and customers.
pub struct Accounts<'a>(pub(super) &'a Store);

impl Accounts<'_> {
    fn db(&self) -> &Store {
        self.0
    }

    /// Inserts accounts; an id that exists already is left as it is.
    pub async fn insert(&self, accounts: &[Account]) -> StoreResult<()> {
        let db = self.db();
        let mut tx = db.pool.begin().await?;
        for a in accounts {
            sqlx::query(&db.sql(
                "INSERT INTO accounts (id, name, account_sid, home_country, currency) VALUES (?, ?, ?, ?, ?) \
                 ON CONFLICT (id) DO NOTHING",
            ))
            .bind(&a.id)
            .bind(&a.name)
            .bind(&a.account_sid)
            .bind(&a.home_country)
            .bind(a.currency.code())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Creates one account; a taken id or account SID is a [`StoreError::Conflict`].
    pub async fn create(&self, a: &Account) -> StoreResult<Account> {
        let db = self.db();
        sqlx::query(&db.sql(
            "INSERT INTO accounts (id, name, account_sid, home_country, currency) VALUES (?, ?, ?, ?, ?)",
        ))
        .bind(&a.id)
        .bind(&a.name)
        .bind(&a.account_sid)
        .bind(&a.home_country)
        .bind(a.currency.code())
        .execute(&db.pool)
        .await
        .map_err(|e| {
            StoreError::conflict_on_unique(e, || {
                format!(
                    "An account with id '{}' or account SID '{}' exists already.",
                    a.id, a.account_sid
                )
            })
        })?;
        Ok(a.clone())
    }

    /// Renames an account.
    pub async fn rename(&self, id: &str, name: &str) -> StoreResult<Account> {
        let db = self.db();
        let n = sqlx::query(&db.sql("UPDATE accounts SET name = ? WHERE id = ?"))
            .bind(name)
            .bind(id)
            .execute(&db.pool)
            .await?
            .rows_affected();
        forget_all(&db.lookups.accounts);
        if n == 0 {
            return Err(StoreError::NotFound(format!("There is no account '{id}'.")));
        }
        self.get_uncached(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("There is no account '{id}'.")))
    }

    /// The account (cached).
    pub async fn get(&self, id: &str) -> StoreResult<Option<Account>> {
        if let Some(a) = cached(&self.db().lookups.accounts, id) {
            return Ok(Some(a));
        }
        let found = self.get_uncached(id).await?;
        if let Some(a) = &found {
            remember(&self.db().lookups.accounts, id, a.clone());
        }
        Ok(found)
    }

    async fn get_uncached(&self, id: &str) -> StoreResult<Option<Account>> {
        self.account_where("id", id).await
    }

    /// The account with this Twilio-style SID.
    pub async fn by_sid(&self, sid: &str) -> StoreResult<Option<Account>> {
        self.account_where("account_sid", sid).await
    }

    /// The account whose `column` (a unique key: `id` or `account_sid`) is `value`.
    async fn account_where(&self, column: &str, value: &str) -> StoreResult<Option<Account>> {
        let db = self.db();
        let sql = format!("{ACCOUNT_SELECT} WHERE {column} = ?");
        let row = sqlx::query(&db.sql(&sql))
            .bind(value)
            .fetch_optional(&db.pool)
            .await?;
        Ok(row.map(|r| account_of(&r)).transpose()?)
    }

    /// Every account, by id.
    pub async fn all(&self) -> StoreResult<Vec<Account>> {
        let rows = sqlx::query(&format!("{ACCOUNT_SELECT} ORDER BY id"))
            .fetch_all(&self.db().pool)
            .await?;
        Ok(rows.iter().map(account_of).collect::<Result<_, _>>()?)
    }

    /// Inserts customers, skipping ids that exist already; a parent must exist before (or come
    /// earlier in the same call than) its children.
    pub async fn insert_customers(&self, customers: &[Customer]) -> StoreResult<u64> {
        let db = self.db();
        let mut known: HashMap<String, (String, String)> = HashMap::new();
        let mut inserted = 0;
        let mut tx = db.pool.begin().await?;
        for c in customers {
            let parent = match &c.parent_id {
                None => None,
                Some(pid) => match known.get(pid) {
                    Some(p) => Some(p.clone()),
                    None => {
                        let p = parent_place(db, &mut tx, pid, &c.account_id)
                            .await?
                            .ok_or_else(|| {
                                StoreError::Invalid(format!(
                                    "customer {}: parent {pid} is not a customer of account {}",
                                    c.id, c.account_id
                                ))
                            })?;
                        Some(p)
                    }
                },
            };
            let (path, breadcrumb) = place_below(parent.as_ref(), &c.id, &c.name);
            inserted += sqlx::query(&db.sql(
                "INSERT INTO customers (id, account_id, parent_id, name, path, breadcrumb) VALUES (?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (id) DO NOTHING",
            ))
            .bind(&c.id)
            .bind(&c.account_id)
            .bind(&c.parent_id)
            .bind(&c.name)
            .bind(&path)
            .bind(&breadcrumb)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            known.insert(c.id.clone(), (path, breadcrumb));
        }
        tx.commit().await?;
        Ok(inserted)
    }

    /// Creates one customer; a taken id is a [`StoreError::Conflict`], an unknown parent
    /// [`StoreError::NotFound`].
    pub async fn create_customer(&self, c: &Customer) -> StoreResult<CustomerRow> {
        let db = self.db();
        let mut tx = db.pool.begin().await?;
        lock_account(db, &mut tx, &c.account_id).await?;
        let parent = match &c.parent_id {
            None => None,
            Some(pid) => Some(
                parent_place(db, &mut tx, pid, &c.account_id)
                    .await?
                    .ok_or_else(|| {
                        StoreError::NotFound(format!(
                            "There is no customer '{pid}' in account '{}' (ParentId).",
                            c.account_id
                        ))
                    })?,
            ),
        };
        let (path, breadcrumb) = place_below(parent.as_ref(), &c.id, &c.name);
        sqlx::query(&db.sql(
            "INSERT INTO customers (id, account_id, parent_id, name, path, breadcrumb) VALUES (?, ?, ?, ?, ?, ?)",
        ))
        .bind(&c.id)
        .bind(&c.account_id)
        .bind(&c.parent_id)
        .bind(&c.name)
        .bind(&path)
        .bind(&breadcrumb)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            StoreError::conflict_on_unique(e, || {
                format!("A customer with id '{}' exists already.", c.id)
            })
        })?;
        tx.commit().await?;
        Ok(CustomerRow {
            id: c.id.clone(),
            account_id: c.account_id.clone(),
            parent_id: c.parent_id.clone(),
            name: c.name.clone(),
            path,
            breadcrumb,
        })
    }

    /// Renames a customer and/or moves it (with its subtree) below `new_parent` (`Some(None)`:
    /// to the root). Paths and breadcrumbs of the whole subtree change in the same transaction.
    /// Moving a customer below itself or one of its descendants is [`StoreError::Invalid`].
    pub async fn update_customer(
        &self,
        id: &str,
        name: Option<&str>,
        new_parent: Option<Option<&str>>,
    ) -> StoreResult<CustomerRow> {
        let db = self.db();
        let mut tx = db.pool.begin().await?;
        let current = customer_in(db, &mut tx, id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("There is no customer '{id}'.")))?;
        lock_account(db, &mut tx, &current.account_id).await?;
        let name = name.unwrap_or(&current.name).to_string();
        let parent_id = match new_parent {
            None => current.parent_id.clone(),
            Some(p) => p.map(str::to_string),
        };
        let parent = match &parent_id {
            None => None,
            Some(pid) => {
                let (ppath, pcrumb) = parent_place(db, &mut tx, pid, &current.account_id)
                    .await?
                    .ok_or_else(|| {
                        StoreError::NotFound(format!(
                            "There is no customer '{pid}' in account '{}' (ParentId).",
                            current.account_id
                        ))
                    })?;
                if ppath.starts_with(&current.path) {
                    return Err(StoreError::Invalid(format!(
                        "Customer '{pid}' is '{id}' or below it: a customer cannot move into its own subtree."
                    )));
                }
                Some((ppath, pcrumb))
            }
        };
        let (path, breadcrumb) = place_below(parent.as_ref(), id, &name);
        // The subtree, self first (tree order), rewritten with the new prefixes.
        let rows = sqlx::query(&db.sql(&format!(
            "{CUSTOMER_SELECT} WHERE account_id = ? AND substr(path, 1, CAST(? AS INTEGER)) = ? ORDER BY path"
        )))
        .bind(&current.account_id)
        .bind(current.path.chars().count() as i64)
        .bind(&current.path)
        .fetch_all(&mut *tx)
        .await?;
        let subtree = rows
            .iter()
            .map(customer_of)
            .collect::<Result<Vec<_>, _>>()?;
        for c in &subtree {
            let rest_path = &c.path[current.path.len()..];
            let new_path = format!("{path}{rest_path}");
            let new_crumb = if c.id == current.id {
                breadcrumb.clone()
            } else {
                let rest = c
                    .breadcrumb
                    .get(current.breadcrumb.len()..)
                    .unwrap_or_default();
                format!("{breadcrumb}{rest}")
            };
            let (new_name, new_parent_id) = if c.id == current.id {
                (name.clone(), parent_id.clone())
            } else {
                (c.name.clone(), c.parent_id.clone())
            };
            sqlx::query(&db.sql(
                "UPDATE customers SET name = ?, parent_id = ?, path = ?, breadcrumb = ? WHERE id = ?",
            ))
            .bind(&new_name)
            .bind(&new_parent_id)
            .bind(&new_path)
            .bind(&new_crumb)
            .bind(&c.id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        forget_all(&db.lookups.customers);
        Ok(CustomerRow {
            id: current.id,
            account_id: current.account_id,
            parent_id,
            name,
            path,
            breadcrumb,
        })
    }

    /// The customer (cached).
    pub async fn customer(&self, id: &str) -> StoreResult<Option<CustomerRow>> {
        let db = self.db();
        if let Some(c) = cached(&db.lookups.customers, id) {
            return Ok(Some(c));
        }
        let row = sqlx::query(&db.sql(&format!("{CUSTOMER_SELECT} WHERE id = ?")))
            .bind(id)
            .fetch_optional(&db.pool)
            .await?;
        let found = row.map(|r| customer_of(&r)).transpose()?;
        if let Some(c) = &found {
            remember(&db.lookups.customers, id, c.clone());
        }
        Ok(found)
    }

    /// Every customer of an account (in tree order), optionally only a subtree.
    pub async fn customers(
        &self,
        account_id: &str,
        subtree_path: Option<&str>,
    ) -> StoreResult<Vec<CustomerRow>> {
        let page = self
            .list_customers(
                account_id,
                &CustomerFilter {
                    subtree: subtree_path,
                    limit: i64::MAX,
                    ..Default::default()
                },
            )
            .await?;
        Ok(page.items)
    }

    /// A page of an account's customers in tree order, and how many match in all: one
    /// statement (one snapshot), the page's rows packed into one text ([`Store::packed`]), since
    /// sqlx's `Any` rows cost microseconds each and a tree has 10,000 customers.
    pub async fn list_customers(
        &self,
        account_id: &str,
        f: &CustomerFilter<'_>,
    ) -> StoreResult<CustomerPage> {
        let db = self.db();
        // A prefix test that is not LIKE: ids may contain `_` or `%`, LIKE's wildcards.
        let prefix = f.subtree.unwrap_or("/");
        let mut where_ =
            String::from(" WHERE account_id = ? AND substr(path, 1, CAST(? AS INTEGER)) = ?");
        if f.parent_id.is_some() {
            where_.push_str(" AND parent_id = ?");
        }
        if f.name_contains.is_some() {
            where_.push_str(match db.backend {
                Backend::Sqlite => " AND instr(lower(name), lower(?)) > 0",
                Backend::Postgres => " AND strpos(lower(name), lower(?)) > 0",
            });
        }
        // Tree order is byte order of the paths, whatever PostgreSQL's collation would say.
        let order = match db.backend {
            Backend::Sqlite => "path",
            Backend::Postgres => "path COLLATE \"C\"",
        };
        let packed = db.packed(&[
            "id",
            "coalesce(parent_id, '')",
            "name",
            "path",
            "breadcrumb",
        ]);
        let sql = db
            .sql(&format!(
                "SELECT (SELECT CAST(COUNT(*) AS BIGINT) FROM customers{where_}) AS n, \
                 (SELECT {packed} FROM (SELECT id, parent_id, name, path, breadcrumb \
                 FROM customers{where_} ORDER BY {order} LIMIT ? OFFSET ?) AS page) AS packed"
            ))
            .into_owned();
        let q = bind_filter(sqlx::query(&sql), account_id, prefix, f);
        let row = bind_filter(q, account_id, prefix, f)
            .bind(f.limit.min(i64::from(i32::MAX)))
            .bind(f.offset)
            .fetch_one(&db.pool)
            .await?;
        let total: i64 = row.try_get("n")?;
        let packed: Option<String> = row.try_get("packed")?;
        let mut items = Vec::new();
        for mut fields in super::unpack(packed.as_deref().unwrap_or("")) {
            let mut next = || fields.next().map(str::to_string);
            let (Some(id), Some(parent), Some(name), Some(path), Some(breadcrumb)) =
                (next(), next(), next(), next(), next())
            else {
                return Err(StoreError::Database(sqlx::Error::Decode(
                    format!("a customer of account {account_id} does not unpack into 5 fields")
                        .into(),
                )));
            };
            items.push(CustomerRow {
                id,
                account_id: account_id.to_string(),
                parent_id: (!parent.is_empty()).then_some(parent),
                name,
                path,
                breadcrumb,
            });
        }
        // The aggregate's order is not the subquery's by any standard: tree order again, here.
        items.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(CustomerPage { items, total })
    }
}

type AnyQuery<'q> = sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>;

/// Binds the values of [`Accounts::list_customers`]'s `WHERE`, in its order.
fn bind_filter<'q>(
    q: AnyQuery<'q>,
    account_id: &str,
    prefix: &str,
    f: &CustomerFilter<'_>,
) -> AnyQuery<'q> {
    let mut q = q
        .bind(account_id.to_string())
        .bind(prefix.chars().count() as i64)
        .bind(prefix.to_string());
    if let Some(p) = f.parent_id {
        q = q.bind(p.to_string());
    }
    if let Some(n) = f.name_contains {
        q = q.bind(n.to_string());
    }
    q
}

/// A customer row read inside a transaction (never from the cache).
async fn customer_in(
    db: &Store,
    tx: &mut Transaction<'_, Any>,
    id: &str,
) -> StoreResult<Option<CustomerRow>> {
    let row = sqlx::query(&db.sql(&format!("{CUSTOMER_SELECT} WHERE id = ?")))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.map(|r| customer_of(&r)).transpose()?)
}

/// The (path, breadcrumb) of a would-be parent in `account_id`.
async fn parent_place(
    db: &Store,
    tx: &mut Transaction<'_, Any>,
    parent_id: &str,
    account_id: &str,
) -> StoreResult<Option<(String, String)>> {
    let row = sqlx::query(
        &db.sql("SELECT path, breadcrumb FROM customers WHERE id = ? AND account_id = ?"),
    )
    .bind(parent_id)
    .bind(account_id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(match row {
        Some(r) => Some((r.try_get("path")?, r.try_get("breadcrumb")?)),
        None => None,
    })
}

/// The path and breadcrumb of customer `id` named `name` below `parent` (or at the root).
fn place_below(parent: Option<&(String, String)>, id: &str, name: &str) -> (String, String) {
    match parent {
        None => (format!("/{id}/"), name.to_string()),
        Some((p, b)) => (
            format!("{p}{id}/"),
            format!("{b}{BREADCRUMB_SEPARATOR}{name}"),
        ),
    }
}

/// Serializes writers of one account on PostgreSQL (a transaction-scoped advisory lock); a
/// no-op on SQLite, whose writes are serialized anyway.
pub(super) async fn lock_account(
    db: &Store,
    tx: &mut Transaction<'_, Any>,
    account_id: &str,
) -> StoreResult<()> {
    if db.backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1)::bigint)")
            .bind(account_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}
