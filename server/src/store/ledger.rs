//! Bulk loads of the carrier's ledger: calls, SMS, number rentals, call sessions, and billables
//! reported in bulk (the demo data).
//!
//! Rows go in with multi-row `INSERT … ON CONFLICT DO NOTHING` (a row already there is skipped,
//! so a load can be repeated), grouped by account, one transaction per account under the
//! account's lock; with `rebuild`, the roll-ups of the days the rows touch are rebuilt in the same
//! transaction ([`super::rollups`]). A load of many batches passes `rebuild = false` and rebuilds
//! once at the end.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sqlx::{Any, Row, Transaction};

use super::accounts::lock_account;
use super::days::{day_of_time, now_unix};
use super::{values_list, Store, StoreError, StoreResult};
use crate::model::{CallRecord, CallSession, NumberRental, ResolvedBillable, SmsRecord};
use evo_billing_core::money::Currency;

/// Rows per multi-row INSERT (SQLite allows 32766 bound values per statement).
pub(super) const CHUNK: usize = 500;

/// One bound value of a bulk insert.
enum Cell {
    Text(String),
    OptText(Option<String>),
    Int(i64),
}

/// Bulk writes of the ledger.
pub struct Ledger<'a>(pub(super) &'a Store);

impl Ledger<'_> {
    /// Bulk-inserts calls (duplicates by (account, sid) are skipped) and, with `rebuild`,
    /// rebuilds the roll-ups of the days they touch in the same transaction (one per account).
    /// Returns how many calls were new. A call of an unknown account is [`StoreError::Invalid`].
    pub async fn insert_calls(&self, calls: &[CallRecord], rebuild: bool) -> StoreResult<u64> {
        let accounts: HashMap<String, (String, Currency)> = self
            .0
            .accounts()
            .all()
            .await?
            .into_iter()
            .map(|a| (a.id, (a.home_country, a.currency)))
            .collect();
        let mut rows = Vec::with_capacity(calls.len());
        for c in calls {
            let (home, currency) = accounts.get(&c.account_id).ok_or_else(|| {
                StoreError::Invalid(format!("call {}: unknown account {}", c.sid, c.account_id))
            })?;
            // One currency per account: sums never mix currencies.
            if c.currency != *currency {
                return Err(StoreError::Invalid(format!(
                    "call {}: currency {} is not account {}'s ({})",
                    c.sid,
                    c.currency.code(),
                    c.account_id,
                    currency.code()
                )));
            }
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

    /// Bulk-inserts SMS, like [`Ledger::insert_calls`].
    pub async fn insert_sms(&self, sms: &[SmsRecord], rebuild: bool) -> StoreResult<u64> {
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

    /// Bulk-inserts number rentals, like [`Ledger::insert_calls`].
    pub async fn insert_numbers(
        &self,
        numbers: &[NumberRental],
        rebuild: bool,
    ) -> StoreResult<u64> {
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
    pub async fn insert_billables(&self, billables: &[ResolvedBillable]) -> StoreResult<u64> {
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
        let mut tx = self.0.pool.begin().await?;
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

    /// Bulk-inserts call sessions (the ids NewBillable's `sessionId` names).
    pub async fn insert_call_sessions(&self, sessions: &[CallSession]) -> StoreResult<()> {
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
        let mut tx = self.0.pool.begin().await?;
        self.insert_chunked(
            &mut tx,
            "call_sessions (id, account_id, customer_id, call_sid)",
            "(id)",
            &rows,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A call session by id.
    pub async fn call_session(&self, id: &str) -> StoreResult<Option<CallSession>> {
        let db = self.0;
        let row = sqlx::query(
            &db.sql("SELECT id, account_id, customer_id, call_sid FROM call_sessions WHERE id = ?"),
        )
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
        let session = row
            .map(|r| -> Result<CallSession, sqlx::Error> {
                Ok(CallSession {
                    id: r.try_get("id")?,
                    account_id: r.try_get("account_id")?,
                    customer_id: r.try_get("customer_id")?,
                    call_sid: r.try_get("call_sid")?,
                })
            })
            .transpose()?;
        Ok(session)
    }

    /// Multi-row `INSERT … ON CONFLICT DO NOTHING` of `rows` into `table (columns)`, in chunks.
    /// Returns how many rows were new.
    async fn insert_chunked(
        &self,
        tx: &mut Transaction<'_, Any>,
        table_and_columns: &str,
        conflict_target: &str,
        rows: &[Vec<Cell>],
    ) -> StoreResult<u64> {
        let mut inserted = 0;
        for chunk in rows.chunks(CHUNK) {
            let cols = chunk.first().map_or(0, Vec::len);
            let sql = format!(
                "INSERT INTO {table_and_columns} VALUES {} ON CONFLICT {conflict_target} DO NOTHING",
                values_list(chunk.len(), cols)
            );
            let sql = self.0.sql(&sql).into_owned();
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
    ) -> StoreResult<u64> {
        let mut by_account: BTreeMap<String, (BTreeSet<i64>, Vec<Vec<Cell>>)> = BTreeMap::new();
        for (account, day, cells) in rows {
            let entry = by_account.entry(account).or_default();
            entry.0.insert(day);
            entry.1.push(cells);
        }
        let mut inserted = 0;
        for (account_id, (days, rows)) in by_account {
            let mut tx = self.0.pool.begin().await?;
            lock_account(self.0, &mut tx, &account_id).await?;
            inserted += self
                .insert_chunked(&mut tx, table_and_columns, conflict_target, &rows)
                .await?;
            if let (true, Some(first), Some(last)) = (rebuild, days.first(), days.last()) {
                self.0
                    .rollups()
                    .rebuild_in(&mut tx, &account_id, *first, *last)
                    .await?;
            }
            tx.commit().await?;
        }
        Ok(inserted)
    }
}
