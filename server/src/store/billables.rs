//! The online write of NewBillable: idempotent, and counted in the roll-ups in the same
//! transaction.
//!
//! Idempotency is the primary key `billables (account_id, call_sid)`: the insert is
//! `ON CONFLICT DO NOTHING RETURNING`, so the very insert that would duplicate a billable tells
//! that it did not happen. A new billable whose call is already in the ledger is added to every
//! tier of `billing_rollup` in the same transaction; one whose call has not arrived yet is
//! counted when the import that brings the call rebuilds its day.

use std::collections::{BTreeSet, HashMap};

use sqlx::Row;

use super::accounts::lock_account;
use super::days::now_unix;
use super::rollups::{add, Delta, Sums, BILLING};
use super::terms::Tier;
use super::{shaped, values_list, Store, StoreResult};
use crate::model::ResolvedBillable;

/// The online NewBillable write.
pub struct Billables<'a>(pub(super) &'a Store);

impl Billables<'_> {
    /// Records billables (the online NewBillable path), all in ONE transaction: the unit of group
    /// commit. Each item's billable is inserted with `ON CONFLICT DO NOTHING` (idempotency is the
    /// primary key, enforced by this very insert); a new billable whose call is already in the
    /// ledger is added to the roll-ups in the same transaction. Returns, per item, whether it
    /// was new (`false`: the call had already been reported: success, billed once).
    pub async fn record(&self, items: &[ResolvedBillable]) -> StoreResult<Vec<bool>> {
        let result = self.record_in_one_transaction(items).await;
        self.0.note_write(&result);
        result
    }

    async fn record_in_one_transaction(
        &self,
        items: &[ResolvedBillable],
    ) -> StoreResult<Vec<bool>> {
        let db = self.0;
        let now = now_unix();
        let mut tx = db.pool.begin().await?;
        let accounts: BTreeSet<&str> = items.iter().map(|b| b.account_id.as_str()).collect();
        for a in &accounts {
            lock_account(db, &mut tx, a).await?;
        }
        // One multi-row insert per chunk; RETURNING names the rows that were new (a conflict
        // returns nothing). The same call twice in one group: the first is new, the second not.
        let mut new_keys: std::collections::HashSet<(String, String)> = Default::default();
        let mut seen: std::collections::HashSet<(&str, &str)> = Default::default();
        let unique: Vec<&ResolvedBillable> = items
            .iter()
            .filter(|b| seen.insert((b.account_id.as_str(), b.call_sid.as_str())))
            .collect();
        for chunk in shaped(&unique) {
            let sql = format!(
                "INSERT INTO billables (account_id, call_sid, customer_id, session_id, created_at) VALUES {} \
                 ON CONFLICT (account_id, call_sid) DO NOTHING RETURNING account_id, call_sid",
                values_list(chunk.len(), 5)
            );
            let sql = db.sql(&sql).into_owned();
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
        // New billables whose call is already in the ledger are added to every tier of
        // billing_rollup: their calls are read per account and chunk, the deltas summed here.
        for account in accounts {
            let sids: Vec<&str> = new_keys
                .iter()
                .filter(|(a, _)| a == account)
                .map(|(_, s)| s.as_str())
                .collect();
            let mut deltas: HashMap<(String, i64), Sums> = HashMap::new();
            for chunk in shaped(&sids) {
                let sql = format!(
                    "SELECT b.customer_id AS customer_id, c.day AS day, c.international AS international, \
                            c.price_micros AS price, c.recording_secs AS recording, \
                            c.recording_price_micros AS recording_price \
                     FROM billables b JOIN calls c ON c.account_id = b.account_id AND c.sid = b.call_sid \
                     WHERE b.account_id = ? AND b.call_sid IN ({})",
                    vec!["?"; chunk.len()].join(", ")
                );
                let sql = db.sql(&sql).into_owned();
                let mut q = sqlx::query(&sql).bind(account);
                for sid in chunk {
                    q = q.bind(*sid);
                }
                for row in q.fetch_all(&mut *tx).await? {
                    let international = row.try_get::<i64, _>("international")? == 1;
                    let price: i64 = row.try_get("price")?;
                    // As the roll-up rebuild counts it: a duration or a price.
                    let recorded = row.try_get::<i64, _>("recording")? > 0
                        || row.try_get::<i64, _>("recording_price")? != 0;
                    let d = deltas
                        .entry((row.try_get("customer_id")?, row.try_get("day")?))
                        .or_default();
                    d[0] += 1;
                    d[1] += i64::from(international);
                    d[2] += if international { price } else { 0 };
                    d[3] += i64::from(recorded);
                }
            }
            let deltas: Vec<Delta> = deltas
                .into_iter()
                .map(|((key, day), sums)| Delta { key, day, sums })
                .collect();
            add(db, &mut tx, &BILLING, account, &deltas, &Tier::ALL).await?;
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
    pub async fn customer_of(
        &self,
        account_id: &str,
        call_sid: &str,
    ) -> StoreResult<Option<String>> {
        let db = self.0;
        let row = sqlx::query(
            &db.sql("SELECT customer_id FROM billables WHERE account_id = ? AND call_sid = ?"),
        )
        .bind(account_id)
        .bind(call_sid)
        .fetch_optional(&db.pool)
        .await?;
        Ok(row.map(|r| r.try_get("customer_id")).transpose()?)
    }
}
