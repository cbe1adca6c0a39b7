//! Writing the ledger and keeping the daily roll-ups true.
//!
//! Two write paths:
//! - **bulk** (demo data, `import-calls`): rows go in with multi-row `INSERT … ON CONFLICT DO
//!   NOTHING`, then [`Db::rebuild_rollups`] recomputes the roll-ups of the touched days in the same
//!   transaction (set-based `INSERT … SELECT … GROUP BY`: far faster than row by row);
//! - **online** (NewBillable): [`Db::record_billables`] inserts billables and adds each one whose
//!   call is already in the ledger to `billing_daily`, in the insert's own transaction.
//!
//! A billable whose call has not arrived yet is kept; it is counted when the call's day is rebuilt
//! by the import that brings the call. On PostgreSQL, writers of one account serialize on a
//! transaction-scoped advisory lock, so a rebuild and a concurrent billable cannot miss each other.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sqlx::{Any, Row, Transaction};

use crate::db::{day_of_time, now_unix, values_list, Backend, Db, Lookups};
use crate::model::{
    billed_minutes, Account, CallRecord, CallSession, Customer, Direction, NumberRental, SmsRecord,
};

/// Rows per multi-row INSERT (SQLite allows 32766 bound values per statement).
const CHUNK: usize = 500;

/// A billable resolved to its account and customer (after session lookup and scope checks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedBillable {
    pub account_id: String,
    pub customer_id: String,
    pub call_sid: String,
    pub session_id: Option<String>,
}

/// The columns [`account_of`] and [`customer_of`] read.
const ACCOUNT_SELECT: &str = "SELECT id, name, account_sid, home_country, currency FROM accounts";
const CUSTOMER_SELECT: &str =
    "SELECT id, account_id, parent_id, name, path, breadcrumb FROM customers";

/// One bound value of a bulk insert.
enum Cell {
    Text(String),
    OptText(Option<String>),
    Int(i64),
}

/// A customer as stored, with its place in the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRow {
    pub id: String,
    pub account_id: String,
    pub parent_id: Option<String>,
    pub name: String,
    /// `/root/…/self/`: a subtree is a prefix.
    pub path: String,
    /// `Root / Child / Self`.
    pub breadcrumb: String,
}

impl Db {
    /// Serializes writers of one account on PostgreSQL (no-op on SQLite, whose writes are
    /// serialized anyway).
    async fn lock_account(
        &self,
        tx: &mut Transaction<'_, Any>,
        account_id: &str,
    ) -> Result<(), sqlx::Error> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1)::bigint)")
                .bind(account_id)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    pub async fn insert_accounts(&self, accounts: &[Account]) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        for a in accounts {
            sqlx::query(&self.sql(
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
        tx.commit().await
    }

    pub async fn account(&self, id: &str) -> Result<Option<Account>, sqlx::Error> {
        Lookups::get_or_fetch(&self.lookups.accounts, id, || self.account_uncached(id)).await
    }

    async fn account_uncached(&self, id: &str) -> Result<Option<Account>, sqlx::Error> {
        self.account_where("id", id).await
    }

    pub async fn account_by_sid(&self, sid: &str) -> Result<Option<Account>, sqlx::Error> {
        self.account_where("account_sid", sid).await
    }

    /// The account whose `column` (a unique key: `id` or `account_sid`) is `value`.
    async fn account_where(
        &self,
        column: &str,
        value: &str,
    ) -> Result<Option<Account>, sqlx::Error> {
        let sql = format!("{ACCOUNT_SELECT} WHERE {column} = ?");
        let row = sqlx::query(&self.sql(&sql))
            .bind(value)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| account_of(&r)).transpose()
    }

    pub async fn accounts(&self) -> Result<Vec<Account>, sqlx::Error> {
        let rows = sqlx::query(&format!("{ACCOUNT_SELECT} ORDER BY id"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(account_of).collect()
    }

    /// Inserts customers; a parent must be inserted before (or in the same call as) its children.
    pub async fn insert_customers(&self, customers: &[Customer]) -> Result<(), sqlx::Error> {
        let mut known: HashMap<String, (String, String)> = HashMap::new();
        let mut tx = self.pool.begin().await?;
        for c in customers {
            let parent = match &c.parent_id {
                None => None,
                Some(pid) => match known.get(pid) {
                    Some(p) => Some(p.clone()),
                    None => {
                        let row = sqlx::query(&self.sql(
                            "SELECT path, breadcrumb FROM customers WHERE id = ? AND account_id = ?",
                        ))
                        .bind(pid)
                        .bind(&c.account_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                        match row {
                            Some(r) => Some((r.try_get("path")?, r.try_get("breadcrumb")?)),
                            None => {
                                return Err(sqlx::Error::Protocol(format!(
                                    "customer {}: parent {pid} is not a customer of account {}",
                                    c.id, c.account_id
                                )))
                            }
                        }
                    }
                },
            };
            let (path, breadcrumb) = match parent {
                None => (format!("/{}/", c.id), c.name.clone()),
                Some((p, b)) => (format!("{p}{}/", c.id), format!("{b} / {}", c.name)),
            };
            sqlx::query(&self.sql(
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
            .await?;
            known.insert(c.id.clone(), (path, breadcrumb));
        }
        tx.commit().await
    }

    pub async fn customer(&self, id: &str) -> Result<Option<CustomerRow>, sqlx::Error> {
        Lookups::get_or_fetch(&self.lookups.customers, id, || self.customer_uncached(id)).await
    }

    async fn customer_uncached(&self, id: &str) -> Result<Option<CustomerRow>, sqlx::Error> {
        let row = sqlx::query(&self.sql(&format!("{CUSTOMER_SELECT} WHERE id = ?")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| customer_of(&r)).transpose()
    }

    /// Every customer of an account (in tree order), optionally only a subtree.
    pub async fn customers(
        &self,
        account_id: &str,
        subtree_path: Option<&str>,
    ) -> Result<Vec<CustomerRow>, sqlx::Error> {
        // A prefix test that is not LIKE: ids may contain `_` or `%`, LIKE's wildcards.
        let prefix = subtree_path.unwrap_or("/");
        let rows = sqlx::query(&self.sql(&format!(
            "{CUSTOMER_SELECT} WHERE account_id = ? AND substr(path, 1, CAST(? AS INTEGER)) = ? ORDER BY path"
        )))
        .bind(account_id)
        .bind(prefix.chars().count() as i64)
        .bind(prefix)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(customer_of).collect()
    }

    pub async fn call_session(&self, id: &str) -> Result<Option<CallSession>, sqlx::Error> {
        let row =
            sqlx::query(&self.sql(
                "SELECT id, account_id, customer_id, call_sid FROM call_sessions WHERE id = ?",
            ))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(CallSession {
                id: r.try_get("id")?,
                account_id: r.try_get("account_id")?,
                customer_id: r.try_get("customer_id")?,
                call_sid: r.try_get("call_sid")?,
            })
        })
        .transpose()
    }

    pub async fn insert_call_sessions(&self, sessions: &[CallSession]) -> Result<(), sqlx::Error> {
        let rows: Vec<Vec<Cell>> = sessions
            .iter()
            .map(|s| {
                vec![
                    Cell::Text(s.id.clone()),
                    Cell::Text(s.account_id.clone()),
                    Cell::Text(s.customer_id.clone()),
                    Cell::Text(s.call_sid.clone()),
                ]
            })
            .collect();
        let mut tx = self.pool.begin().await?;
        self.insert_chunked(
            &mut tx,
            "call_sessions (id, account_id, customer_id, call_sid)",
            "(id)",
            &rows,
        )
        .await?;
        tx.commit().await
    }

    /// Multi-row `INSERT … ON CONFLICT DO NOTHING` of `rows` into `table (columns)`, in chunks.
    /// Returns how many rows were new.
    async fn insert_chunked(
        &self,
        tx: &mut Transaction<'_, Any>,
        table_and_columns: &str,
        conflict_target: &str,
        rows: &[Vec<Cell>],
    ) -> Result<u64, sqlx::Error> {
        let mut inserted = 0;
        for chunk in rows.chunks(CHUNK) {
            let cols = chunk.first().map_or(0, Vec::len);
            let sql = format!(
                "INSERT INTO {table_and_columns} VALUES {} ON CONFLICT {conflict_target} DO NOTHING",
                values_list(chunk.len(), cols)
            );
            let sql = self.sql(&sql).into_owned();
            let mut q = sqlx::query(&sql);
            for row in chunk {
                for cell in row {
                    q = match cell {
                        Cell::Text(t) => q.bind(t.clone()),
                        Cell::OptText(t) => q.bind(t.clone()),
                        Cell::Int(i) => q.bind(*i),
                    };
                }
            }
            inserted += q.execute(&mut **tx).await?.rows_affected();
        }
        Ok(inserted)
    }

    /// A ledger table's bulk insert: rows grouped by account, one transaction per account (under
    /// the account lock), and with `rebuild` the roll-ups of the days touched, in the same
    /// transaction. Each row is (account, day, cells). Returns how many rows were new.
    async fn insert_ledger(
        &self,
        table_and_columns: &str,
        conflict_target: &str,
        rows: Vec<(String, i64, Vec<Cell>)>,
        rebuild: bool,
    ) -> Result<u64, sqlx::Error> {
        let mut by_account: BTreeMap<String, (BTreeSet<i64>, Vec<Vec<Cell>>)> = BTreeMap::new();
        for (account, day, cells) in rows {
            let entry = by_account.entry(account).or_default();
            entry.0.insert(day);
            entry.1.push(cells);
        }
        let mut inserted = 0;
        for (account_id, (days, rows)) in by_account {
            let mut tx = self.pool.begin().await?;
            self.lock_account(&mut tx, &account_id).await?;
            inserted += self
                .insert_chunked(&mut tx, table_and_columns, conflict_target, &rows)
                .await?;
            if let (true, Some(first), Some(last)) = (rebuild, days.first(), days.last()) {
                self.rebuild_rollups_in(&mut tx, &account_id, *first, *last)
                    .await?;
            }
            tx.commit().await?;
        }
        Ok(inserted)
    }

    /// Bulk-inserts calls (duplicates by (account, sid) are skipped) and, with `rebuild`, rebuilds
    /// the roll-ups of the days they touch in the same transaction (one per account). A bulk load
    /// of many batches passes `false` and calls [`Db::rebuild_rollups`] once at the end. Returns
    /// how many calls were new.
    pub async fn insert_calls(
        &self,
        calls: &[CallRecord],
        rebuild: bool,
    ) -> Result<u64, sqlx::Error> {
        let homes: HashMap<String, String> = self
            .accounts()
            .await?
            .into_iter()
            .map(|a| (a.id, a.home_country))
            .collect();
        let mut rows = Vec::with_capacity(calls.len());
        for c in calls {
            let home = homes.get(&c.account_id).ok_or_else(|| {
                sqlx::Error::Protocol(format!("unknown account {}", c.account_id))
            })?;
            let day = day_of_time(c.start_time);
            rows.push((
                c.account_id.clone(),
                day,
                vec![
                    Cell::Text(c.account_id.clone()),
                    Cell::Text(c.sid.clone()),
                    Cell::Int(c.start_time),
                    Cell::Int(day),
                    Cell::Text(c.direction.as_str().into()),
                    Cell::Text(c.from.clone()),
                    Cell::Text(c.to.clone()),
                    Cell::Text(c.country.clone()),
                    Cell::Int(i64::from(!c.country.eq_ignore_ascii_case(home))),
                    Cell::Int(c.duration_secs),
                    Cell::Int(c.price.0),
                    Cell::Text(c.currency.code().to_string()),
                    Cell::Int(c.recording_duration_secs),
                    Cell::Int(c.recording_price.0),
                ],
            ));
        }
        self.insert_ledger(
            "calls (account_id, sid, start_time, day, direction, from_number, to_number, country, \
             international, duration_secs, price_micros, currency, recording_secs, recording_price_micros)",
            "(account_id, sid)",
            rows,
            rebuild,
        )
        .await
    }

    pub async fn insert_sms(&self, sms: &[SmsRecord], rebuild: bool) -> Result<u64, sqlx::Error> {
        let rows = sms
            .iter()
            .map(|s| {
                let day = day_of_time(s.sent_at);
                (
                    s.account_id.clone(),
                    day,
                    vec![
                        Cell::Text(s.account_id.clone()),
                        Cell::Text(s.sid.clone()),
                        Cell::Int(s.sent_at),
                        Cell::Int(day),
                        Cell::Text(s.direction.as_str().into()),
                        Cell::Text(s.country.clone()),
                        Cell::Int(s.segments),
                        Cell::Int(s.price.0),
                    ],
                )
            })
            .collect();
        self.insert_ledger(
            "sms (account_id, sid, sent_at, day, direction, country, segments, price_micros)",
            "(account_id, sid)",
            rows,
            rebuild,
        )
        .await
    }

    pub async fn insert_numbers(
        &self,
        numbers: &[NumberRental],
        rebuild: bool,
    ) -> Result<u64, sqlx::Error> {
        let rows = numbers
            .iter()
            .map(|n| {
                let day = day_of_time(n.charged_at);
                (
                    n.account_id.clone(),
                    day,
                    vec![
                        Cell::Text(n.account_id.clone()),
                        Cell::Text(n.number.clone()),
                        Cell::Text(n.kind.category().into()),
                        Cell::Int(n.charged_at),
                        Cell::Int(day),
                        Cell::Int(n.price.0),
                    ],
                )
            })
            .collect();
        self.insert_ledger(
            "number_rentals (account_id, number, kind, charged_at, day, price_micros)",
            "(account_id, number, day)",
            rows,
            rebuild,
        )
        .await
    }

    /// Bulk billables (demo data): inserted without per-row roll-up updates; callers load
    /// billables before the calls they bill, or rebuild the roll-ups afterwards.
    pub async fn insert_billables_bulk(
        &self,
        billables: &[ResolvedBillable],
    ) -> Result<u64, sqlx::Error> {
        let now = now_unix();
        let rows: Vec<Vec<Cell>> = billables
            .iter()
            .map(|b| {
                vec![
                    Cell::Text(b.account_id.clone()),
                    Cell::Text(b.call_sid.clone()),
                    Cell::Text(b.customer_id.clone()),
                    Cell::OptText(b.session_id.clone()),
                    Cell::Int(now),
                ]
            })
            .collect();
        let mut tx = self.pool.begin().await?;
        let inserted = self
            .insert_chunked(
                &mut tx,
                "billables (account_id, call_sid, customer_id, session_id, created_at)",
                "(account_id, call_sid)",
                &rows,
            )
            .await?;
        tx.commit().await?;
        Ok(inserted)
    }

    /// Recomputes `billing_daily` and `usage_daily` for days `first..=last` of an account.
    pub async fn rebuild_rollups(
        &self,
        account_id: &str,
        first: i64,
        last: i64,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        self.lock_account(&mut tx, account_id).await?;
        self.rebuild_rollups_in(&mut tx, account_id, first, last)
            .await?;
        tx.commit().await
    }

    async fn rebuild_rollups_in(
        &self,
        tx: &mut Transaction<'_, Any>,
        account_id: &str,
        first: i64,
        last: i64,
    ) -> Result<(), sqlx::Error> {
        for table in ["billing_daily", "usage_daily"] {
            sqlx::query(&self.sql(&format!(
                "DELETE FROM {table} WHERE account_id = ? AND day BETWEEN ? AND ?"
            )))
            .bind(account_id)
            .bind(first)
            .bind(last)
            .execute(&mut **tx)
            .await?;
        }
        sqlx::query(&self.sql(
            "INSERT INTO billing_daily (account_id, customer_id, day, billed_calls, international_calls, international_micros, recorded_calls) \
             SELECT b.account_id, b.customer_id, c.day, COUNT(*), \
                    CAST(SUM(c.international) AS BIGINT), \
                    CAST(SUM(CASE WHEN c.international = 1 THEN c.price_micros ELSE 0 END) AS BIGINT), \
                    CAST(SUM(CASE WHEN c.recording_secs > 0 THEN 1 ELSE 0 END) AS BIGINT) \
             FROM billables b JOIN calls c ON c.account_id = b.account_id AND c.sid = b.call_sid \
             WHERE b.account_id = ? AND c.day BETWEEN ? AND ? \
             GROUP BY b.account_id, b.customer_id, c.day",
        ))
        .bind(account_id)
        .bind(first)
        .bind(last)
        .execute(&mut **tx)
        .await?;
        // Leaf categories only; roll-ups (calls, sms, phonenumbers, totalprice) are computed when
        // answering. Minutes are billed per call, rounded up: usage is kept in micro-minutes.
        let statements = [
            "INSERT INTO usage_daily (account_id, day, category, count, usage_micros, price_micros) \
             SELECT account_id, day, 'calls-' || direction, COUNT(*), \
                    CAST(SUM((duration_secs + 59) / 60) AS BIGINT) * 1000000, CAST(SUM(price_micros) AS BIGINT) \
             FROM calls WHERE account_id = ? AND day BETWEEN ? AND ? GROUP BY account_id, day, direction",
            "INSERT INTO usage_daily (account_id, day, category, count, usage_micros, price_micros) \
             SELECT account_id, day, 'recordings', COUNT(*), \
                    CAST(SUM((recording_secs + 59) / 60) AS BIGINT) * 1000000, CAST(SUM(recording_price_micros) AS BIGINT) \
             FROM calls WHERE account_id = ? AND day BETWEEN ? AND ? AND recording_secs > 0 GROUP BY account_id, day",
            "INSERT INTO usage_daily (account_id, day, category, count, usage_micros, price_micros) \
             SELECT account_id, day, 'sms-' || direction, COUNT(*), \
                    CAST(SUM(segments) AS BIGINT) * 1000000, CAST(SUM(price_micros) AS BIGINT) \
             FROM sms WHERE account_id = ? AND day BETWEEN ? AND ? GROUP BY account_id, day, direction",
            "INSERT INTO usage_daily (account_id, day, category, count, usage_micros, price_micros) \
             SELECT account_id, day, kind, COUNT(*), COUNT(*) * 1000000, CAST(SUM(price_micros) AS BIGINT) \
             FROM number_rentals WHERE account_id = ? AND day BETWEEN ? AND ? GROUP BY account_id, day, kind",
        ];
        for s in statements {
            sqlx::query(&self.sql(s))
                .bind(account_id)
                .bind(first)
                .bind(last)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Records billables (the online NewBillable path), all in ONE transaction: the unit of group
    /// commit. Each item's billable is inserted with `ON CONFLICT DO NOTHING` (idempotency is the
    /// primary key, enforced by this very insert); a new billable whose call is already in the
    /// ledger is added to `billing_daily` in the same transaction. Returns, per item, whether it
    /// was new (`false`: the call had already been reported: success, billed once).
    pub async fn record_billables(
        &self,
        items: &[ResolvedBillable],
    ) -> Result<Vec<bool>, sqlx::Error> {
        let now = now_unix();
        let mut tx = self.pool.begin().await?;
        let accounts: BTreeSet<&str> = items.iter().map(|b| b.account_id.as_str()).collect();
        for a in &accounts {
            self.lock_account(&mut tx, a).await?;
        }
        // One multi-row insert per chunk; RETURNING names the rows that were new (a conflict
        // returns nothing). The same call twice in one group: the first is new, the second not.
        let mut new_keys: std::collections::HashSet<(String, String)> = Default::default();
        let mut seen: std::collections::HashSet<(&str, &str)> = Default::default();
        let unique: Vec<&ResolvedBillable> = items
            .iter()
            .filter(|b| seen.insert((b.account_id.as_str(), b.call_sid.as_str())))
            .collect();
        for chunk in unique.chunks(CHUNK) {
            let sql = format!(
                "INSERT INTO billables (account_id, call_sid, customer_id, session_id, created_at) VALUES {} \
                 ON CONFLICT (account_id, call_sid) DO NOTHING RETURNING account_id, call_sid",
                values_list(chunk.len(), 5)
            );
            let sql = self.sql(&sql).into_owned();
            let mut q = sqlx::query(&sql);
            for b in chunk {
                q = q
                    .bind(b.account_id.clone())
                    .bind(b.call_sid.clone())
                    .bind(b.customer_id.clone())
                    .bind(b.session_id.clone())
                    .bind(now);
            }
            for row in q.fetch_all(&mut *tx).await? {
                new_keys.insert((row.try_get("account_id")?, row.try_get("call_sid")?));
            }
        }
        // New billables whose call is already in the ledger are added to billing_daily: one
        // statement per account and chunk.
        for account in accounts {
            let sids: Vec<&str> = new_keys
                .iter()
                .filter(|(a, _)| a == account)
                .map(|(_, s)| s.as_str())
                .collect();
            for chunk in sids.chunks(CHUNK) {
                let sql = format!(
                    "INSERT INTO billing_daily (account_id, customer_id, day, billed_calls, international_calls, international_micros, recorded_calls) \
                     SELECT b.account_id, b.customer_id, c.day, COUNT(*), \
                            CAST(SUM(c.international) AS BIGINT), \
                            CAST(SUM(CASE WHEN c.international = 1 THEN c.price_micros ELSE 0 END) AS BIGINT), \
                            CAST(SUM(CASE WHEN c.recording_secs > 0 THEN 1 ELSE 0 END) AS BIGINT) \
                     FROM billables b JOIN calls c ON c.account_id = b.account_id AND c.sid = b.call_sid \
                     WHERE b.account_id = ? AND b.call_sid IN ({}) \
                     GROUP BY b.account_id, b.customer_id, c.day \
                     ON CONFLICT (account_id, customer_id, day) DO UPDATE SET \
                        billed_calls = billing_daily.billed_calls + excluded.billed_calls, \
                        international_calls = billing_daily.international_calls + excluded.international_calls, \
                        international_micros = billing_daily.international_micros + excluded.international_micros, \
                        recorded_calls = billing_daily.recorded_calls + excluded.recorded_calls",
                    vec!["?"; chunk.len()].join(", ")
                );
                let sql = self.sql(&sql).into_owned();
                let mut q = sqlx::query(&sql).bind(account);
                for sid in chunk {
                    q = q.bind(*sid);
                }
                q.execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
        // Per item: new if it was inserted and it is the first occurrence in this group.
        let mut first: std::collections::HashSet<(&str, &str)> = Default::default();
        Ok(items
            .iter()
            .map(|b| {
                let key = (b.account_id.as_str(), b.call_sid.as_str());
                first.insert(key) && new_keys.contains(&(b.account_id.clone(), b.call_sid.clone()))
            })
            .collect())
    }

    /// Is there a billable for this call (tests, diagnostics)?
    pub async fn billable_customer(
        &self,
        account_id: &str,
        call_sid: &str,
    ) -> Result<Option<String>, sqlx::Error> {
        let row = sqlx::query(
            &self.sql("SELECT customer_id FROM billables WHERE account_id = ? AND call_sid = ?"),
        )
        .bind(account_id)
        .bind(call_sid)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| r.try_get("customer_id")).transpose()
    }
}

fn account_of(r: &sqlx::any::AnyRow) -> Result<Account, sqlx::Error> {
    Ok(Account {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        account_sid: r.try_get("account_sid")?,
        home_country: r.try_get("home_country")?,
        currency: crate::db::parse_col(r, "currency")?,
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

/// The usage category of a call's direction (a leaf of `calls`).
pub fn call_category(direction: Direction) -> &'static str {
    match direction {
        Direction::Inbound => "calls-inbound",
        Direction::Outbound => "calls-outbound",
    }
}

/// Minutes as stored in `usage_daily.usage_micros`.
pub fn minutes_micros(duration_secs: i64) -> i64 {
    billed_minutes(duration_secs) * 1_000_000
}
