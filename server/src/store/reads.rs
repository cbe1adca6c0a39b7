//! The read side: billing and usage answered from the tiered roll-ups ([`super::rollups`]),
//! never from the raw calls. A range becomes a few signed terms ([`super::terms::cover`]); each
//! term's rows are fetched packed into one text ([`Store::packed`]) and added up here, so a
//! year of 10,000 customers costs a few scans of 10,000 rows and one value through the driver.
//! A whole-account read of a closed period takes the period's seal instead, when it is valid
//! ([`super::seals`]). Every read runs in one transaction: the data bounds the cover relies on
//! and the rows come from the same snapshot (REPEATABLE READ on PostgreSQL; a read transaction
//! on SQLite).

use std::collections::{BTreeMap, HashMap, HashSet};

use evo_billing_core::date_range::{DateRange, Granularity};
use sqlx::{Any, AnyConnection, Row, Transaction};

use super::days::{date_of_day, day_number};
use super::rollups::{bounds_in, Sums, Table, BILLING, USAGE};
use super::seals::{self, PeriodState, Seal, PREFIX_TIER};
use super::terms::{clip, cover, is_month_run, Costs, Term, Tier};
use super::{Backend, Store, StoreResult, FIELD_SEP, ROW_SEP};
use crate::model::CustomerBilling;

/// Billing and usage reads.
pub struct Reads<'a>(pub(super) &'a Store);

/// One period of a billing series: sums over the period, and how many customers were billed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodBilling {
    pub period: DateRange,
    pub sums: CustomerBilling,
    pub customers_billed: i64,
}

/// One usage category's sums.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsageSums {
    pub count: i64,
    /// Micro-units of the category's unit.
    pub usage_micros: i64,
    pub price_micros: i64,
}

/// The leaf categories' sums over one period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodUsage {
    pub period: DateRange,
    pub leaves: BTreeMap<String, UsageSums>,
}

fn span(r: DateRange) -> (i64, i64) {
    (day_number(r.start()), day_number(r.end()))
}

fn billing_of(customer_id: String, s: &Sums) -> CustomerBilling {
    CustomerBilling {
        customer_id,
        billed_calls: s[0],
        international_calls: s[1],
        international_micros: s[2],
        recorded_calls: s[3],
    }
}

fn usage_of(s: &Sums) -> UsageSums {
    UsageSums {
        count: s[0],
        usage_micros: s[1],
        price_micros: s[2],
    }
}

/// Calls `each(key, sums × sign)` for every row of a [`Store::packed`] text of a key and `n`
/// integers (at most 4): one pass over the bytes. A malformed number reads as 0.
pub(super) fn scan<'t>(text: &'t str, n: usize, sign: i64, mut each: impl FnMut(&'t str, Sums)) {
    const FIELD: u8 = 0x1F;
    const ROW: u8 = 0x1E;
    let bytes = text.as_bytes();
    let mut pos = 0;
    while pos < bytes.len() {
        if bytes[pos] == ROW {
            pos += 1;
            continue;
        }
        let key_end = bytes[pos..]
            .iter()
            .position(|&b| b == FIELD || b == ROW)
            .map_or(bytes.len(), |i| pos + i);
        // The separators are ASCII, so both ends are char boundaries.
        let key = &text[pos..key_end];
        pos = key_end;
        let mut sums = Sums::default();
        for slot in sums.iter_mut().take(n) {
            if pos >= bytes.len() || bytes[pos] != FIELD {
                break;
            }
            pos += 1;
            let negative = bytes.get(pos) == Some(&b'-');
            if negative {
                pos += 1;
            }
            let mut v: i64 = 0;
            let mut ok = true;
            while let Some(&b) = bytes.get(pos) {
                if b == FIELD || b == ROW {
                    break;
                }
                match (b.is_ascii_digit(), v.checked_mul(10)) {
                    (true, Some(m)) => v = m + i64::from(b - b'0'),
                    _ => ok = false,
                }
                pos += 1;
            }
            *slot = if !ok {
                0
            } else if negative {
                -v * sign
            } else {
                v * sign
            };
        }
        // Anything else of the row (more fields than asked for) is skipped.
        while pos < bytes.len() && bytes[pos] != ROW {
            pos += 1;
        }
        each(key, sums);
    }
}

/// The rows of packed texts (each with its sign) cut into runs ascending by key: a run ends
/// where a key is not greater than the one before (a new period of a term, or the next term).
fn ascending_runs<'t>(
    texts: impl Iterator<Item = (&'t str, i64)>,
    n: usize,
) -> Vec<Vec<(&'t str, Sums)>> {
    let mut runs = Vec::new();
    for (text, sign) in texts {
        // Room for every row at once (most texts are one run; a roll-up row packs to at least
        // 20 bytes): growing by doubling copied a run of 10,000 rows three or four times.
        let mut run: Vec<(&str, Sums)> = Vec::with_capacity(text.len() / 20 + 1);
        scan(text, n, sign, |k, sums| {
            if run.last().is_some_and(|(last, _)| *last >= k) {
                runs.push(std::mem::take(&mut run));
            }
            run.push((k, sums));
        });
        runs.push(run);
    }
    runs
}

/// Merges runs of rows, each ascending by key with no key twice, into one ascending run with
/// each key once and the sums of its rows added (pairwise, like the merge steps of a sort).
fn merge_runs(mut runs: Vec<Vec<(&str, Sums)>>) -> Vec<(&str, Sums)> {
    runs.retain(|r| !r.is_empty());
    while runs.len() > 1 {
        let mut next = Vec::with_capacity(runs.len().div_ceil(2));
        let mut it = runs.into_iter();
        while let Some(a) = it.next() {
            next.push(match it.next() {
                Some(b) => merge_two(a, b),
                None => a,
            });
        }
        runs = next;
    }
    runs.pop().unwrap_or_default()
}

fn merge_two<'t>(a: Vec<(&'t str, Sums)>, b: Vec<(&'t str, Sums)>) -> Vec<(&'t str, Sums)> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(b[j].0) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                let mut s = a[i].1;
                for (x, y) in s.iter_mut().zip(b[j].1) {
                    *x += y;
                }
                out.push((a[i].0, s));
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// One statement that packs `n` terms' rows of `table` (see [`Reads::packed_terms`]), each
/// bound as account, tier, first and last start (and the key when `keyed`).
pub(super) fn terms_sql(db: &Store, table: &Table, n: usize, keyed: bool) -> String {
    let mut fields = vec![table.key];
    fields.extend(table.values);
    let packed = db.packed(&fields);
    let key_filter = if keyed {
        format!(" AND {} = ?", table.key)
    } else {
        String::new()
    };
    let columns: Vec<String> = (0..n)
        .map(|i| {
            format!(
                "(SELECT {packed} FROM {} WHERE account_id = ? AND tier = ? AND start BETWEEN ? AND ?{key_filter}) AS t{i}",
                table.name
            )
        })
        .collect();
    db.sql(&format!("SELECT {}", columns.join(", ")))
        .into_owned()
}

/// A PostgreSQL read's transaction: one snapshot for all its statements, no writes.
const SNAPSHOT_ISOLATION: &str = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY";

/// One term read on a connection of its own, in a transaction that imports a snapshot first.
async fn term_in_snapshot(
    conn: &mut AnyConnection,
    import: &str,
    sql: &str,
    account_id: &str,
    term: Term,
) -> StoreResult<Vec<String>> {
    let mut tx = sqlx::Connection::begin(conn).await?;
    sqlx::query(SNAPSHOT_ISOLATION).execute(&mut *tx).await?;
    // Not prepared: a snapshot id is used once.
    sqlx::query(import)
        .persistent(false)
        .execute(&mut *tx)
        .await?;
    let text = run_terms(&mut tx, sql, account_id, &[term], None).await?;
    tx.commit().await?;
    Ok(text)
}

/// A statement of [`Any`] with its arguments, as `sqlx::query` makes it.
pub(super) type AnyQuery<'q> = sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>;

/// Binds a term as its statements filter it: account, tier, first and last start.
pub(super) fn bind_term<'q>(q: AnyQuery<'q>, account_id: &'q str, t: &Term) -> AnyQuery<'q> {
    q.bind(account_id)
        .bind(t.tier.number())
        .bind(t.first)
        .bind(t.last)
}

/// Runs [`terms_sql`] for `terms`: one packed text per term.
pub(super) async fn run_terms(
    conn: &mut AnyConnection,
    sql: &str,
    account_id: &str,
    terms: &[Term],
    key: Option<&str>,
) -> StoreResult<Vec<String>> {
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = sqlx::query(sql);
    for t in terms {
        q = bind_term(q, account_id, t);
        if let Some(k) = key {
            q = q.bind(k);
        }
    }
    let row = q.fetch_one(conn).await?;
    (0..terms.len())
        .map(|i| Ok(row.try_get::<Option<String>, _>(i)?.unwrap_or_default()))
        .collect()
}

/// A read's packed texts with their signs, and which of them are scanned periods worth sealing.
struct Pieces {
    texts: Vec<(String, i64)>,
    /// (index in `texts`, the seal as it would be stored, with an empty text).
    seals: Vec<(usize, Seal)>,
}

impl Pieces {
    /// The candidates' texts as seals (the rest is dropped); empty texts are not kept. A
    /// prefix's text (its months' rows) is summed to one row per key first.
    fn into_seals(mut self) -> Vec<Seal> {
        self.seals
            .into_iter()
            .filter_map(|(i, mut seal)| {
                let text = std::mem::take(&mut self.texts[i].0);
                seal.text = if seal.tier == PREFIX_TIER {
                    summed(&text, BILLING.values.len())
                } else {
                    text
                };
                (!seal.text.is_empty()).then_some(seal)
            })
            .collect()
    }
}

/// A packed text's rows summed per key, packed again in byte order of the keys (as a period's
/// rows are).
pub(super) fn summed(text: &str, n: usize) -> String {
    let rows = merge_runs(ascending_runs(std::iter::once((text, 1)), n));
    let mut out = String::with_capacity(text.len() / 4);
    for (i, (key, sums)) in rows.iter().enumerate() {
        if i > 0 {
            out.push(ROW_SEP);
        }
        out.push_str(key);
        for v in &sums[..n] {
            out.push(FIELD_SEP);
            out.push_str(&v.to_string());
        }
    }
    out
}

/// The tier whose periods are a granularity's.
fn tier_of(g: Granularity) -> Option<Tier> {
    match g {
        Granularity::Daily => Some(Tier::Day),
        Granularity::Weekly => Some(Tier::Week),
        Granularity::Monthly => Some(Tier::Month),
        Granularity::All => None,
    }
}

impl Reads<'_> {
    async fn snapshot(&self) -> StoreResult<Transaction<'static, Any>> {
        let db = self.0;
        let mut tx = db.pool.begin().await?;
        if db.backend == Backend::Postgres {
            sqlx::query(SNAPSHOT_ISOLATION).execute(&mut *tx).await?;
        }
        Ok(tx)
    }

    /// Each term's rows of `table`, packed into one text per term (optionally only `key`).
    ///
    /// On PostgreSQL a read of a whole account with several terms (a year: this year, last
    /// December, minus its first day) scans them side by side: the terms beyond the first go to
    /// pooled connections that are free at once, each in a transaction that imports this one's
    /// snapshot (`pg_export_snapshot`), so every term sees exactly the same data. There the
    /// per-row packing is the cost that grows with the terms. SQLite connections cannot share a
    /// snapshot (the bundled library is built without `sqlite3_snapshot_open`), so there the
    /// terms run in order, packed by `evo_pack`; a single key's rows are few. Without a free
    /// connection the terms run here, one statement for all (never waiting for the pool: a read
    /// holding this connection must not wait for another).
    async fn scan_terms(
        &self,
        tx: &mut Transaction<'_, Any>,
        table: &Table,
        account_id: &str,
        terms: &[Term],
        key: Option<&str>,
    ) -> StoreResult<Vec<String>> {
        let db = self.0;
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let mut helpers = Vec::new();
        if db.backend == Backend::Postgres && key.is_none() {
            while helpers.len() + 1 < terms.len() {
                match db.pool.try_acquire() {
                    Some(conn) => helpers.push(conn),
                    None => break,
                }
            }
        }
        let (own, theirs) = terms.split_at(terms.len() - helpers.len());
        let mut handles = Vec::with_capacity(helpers.len());
        if !helpers.is_empty() {
            let snapshot: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
                .fetch_one(&mut **tx)
                .await?;
            // The statement takes no parameter: the id ('00000003-0000001B-1') is quoted.
            let import = format!(
                "SET TRANSACTION SNAPSHOT '{}'",
                snapshot.replace('\'', "''")
            );
            let sql = terms_sql(db, table, 1, false);
            for (mut conn, term) in helpers.into_iter().zip(theirs.iter().copied()) {
                let (import, sql, account_id) =
                    (import.clone(), sql.clone(), account_id.to_string());
                handles.push(tokio::spawn(async move {
                    term_in_snapshot(&mut conn, &import, &sql, &account_id, term).await
                }));
            }
        }
        let sql = terms_sql(db, table, own.len(), key.is_some());
        let mut texts = run_terms(tx, &sql, account_id, own, key).await?;
        for h in handles {
            // A helper that panicked panics here, as the term read in place would have.
            let text = h
                .await
                .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))?;
            texts.extend(text);
        }
        Ok(texts)
    }

    /// Each term's rows of `table` as packed texts with their signs (optionally only `key`).
    ///
    /// A whole-account billing read takes each closed period's seal when it is valid in this
    /// snapshot ([`super::seals`]) and scans the rest ([`Reads::scan_terms`]); the scanned
    /// periods worth sealing come back as candidates for [`Store::seal`]. Any other read scans.
    async fn packed_terms(
        &self,
        tx: &mut Transaction<'_, Any>,
        table: &Table,
        account_id: &str,
        terms: &[Term],
        key: Option<&str>,
    ) -> StoreResult<Pieces> {
        let db = self.0;
        if !table.totals || key.is_some() || terms.is_empty() {
            let texts = self.scan_terms(tx, table, account_id, terms, key).await?;
            return Ok(Pieces {
                texts: texts
                    .into_iter()
                    .zip(terms.iter().map(|t| t.sign))
                    .collect(),
                seals: Vec::new(),
            });
        }
        let mut states = seals::states(db, tx, account_id, terms).await?;
        let today = day_number(chrono::Utc::now().date_naive());
        let min_customers = db.sealing.min_customers();
        // Each piece is a seal's text or the index of a scanned term; a run of periods neither
        // sealed nor worth sealing (today, small days, days without data) stays one scan.
        let mut pieces: Vec<(Result<String, usize>, i64)> = Vec::new();
        let mut scans: Vec<Term> = Vec::new();
        let mut candidates: Vec<(usize, Seal)> = Vec::new();
        let candidate = |tier: i64, start: i64, gen: i64| Seal {
            tier,
            start,
            gen,
            text: String::new(),
        };
        for t in terms {
            if is_month_run(t) {
                // A prefix: its seal when valid, else one scan of its months (sealed after
                // when they have ended and the account is big enough).
                let (gen, customers) = seals::prefix_of(&states, t);
                match states.get_mut(&(PREFIX_TIER, t.last)) {
                    Some(PeriodState {
                        gen: sealed_gen,
                        sealed: sealed @ Some(_),
                        ..
                    }) if *sealed_gen == gen => {
                        pieces.push((Ok(sealed.take().unwrap_or_default()), t.sign));
                    }
                    _ => {
                        if Tier::Month.end(t.last) < today
                            && customers.is_some_and(|c| c >= min_customers)
                        {
                            candidates.push((pieces.len(), candidate(PREFIX_TIER, t.last, gen)));
                        }
                        pieces.push((Err(scans.len()), t.sign));
                        scans.push(*t);
                    }
                }
                continue;
            }
            let mut run: Option<usize> = None;
            let mut start = t.first;
            while start <= t.last {
                let end = t.tier.end(start);
                let state = states.get_mut(&(t.tier.number(), start));
                let single = Term {
                    first: start,
                    last: start,
                    ..*t
                };
                match state {
                    Some(PeriodState {
                        sealed: sealed @ Some(_),
                        ..
                    }) => {
                        // Taken: the same period twice in a cover (never seen) is scanned.
                        pieces.push((Ok(sealed.take().unwrap_or_default()), t.sign));
                        run = None;
                    }
                    Some(st) if end < today && st.customers >= min_customers => {
                        candidates.push((pieces.len(), candidate(t.tier.number(), start, st.gen)));
                        pieces.push((Err(scans.len()), t.sign));
                        scans.push(single);
                        run = None;
                    }
                    _ => match run {
                        Some(i) => scans[i].last = start,
                        None => {
                            run = Some(scans.len());
                            pieces.push((Err(scans.len()), t.sign));
                            scans.push(single);
                        }
                    },
                }
                start = end + 1;
            }
        }
        let mut scanned = self.scan_terms(tx, table, account_id, &scans, None).await?;
        let texts = pieces
            .into_iter()
            .map(|(piece, sign)| match piece {
                Ok(text) => (text, sign),
                Err(i) => (std::mem::take(&mut scanned[i]), sign),
            })
            .collect();
        Ok(Pieces {
            texts,
            seals: candidates,
        })
    }

    /// Per key, the signed sum of `terms`, optionally only `key`.
    async fn per_key(
        &self,
        tx: &mut Transaction<'_, Any>,
        table: &Table,
        account_id: &str,
        terms: &[Term],
        key: Option<&str>,
    ) -> StoreResult<HashMap<String, Sums>> {
        let pieces = self.packed_terms(tx, table, account_id, terms, key).await?;
        let mut out: HashMap<String, Sums> = HashMap::new();
        for (text, sign) in &pieces.texts {
            scan(text, table.values.len(), *sign, |k, sums| {
                let e = match out.get_mut(k) {
                    Some(e) => e,
                    None => out.entry(k.to_string()).or_default(),
                };
                for (slot, v) in e.iter_mut().zip(sums) {
                    *slot += v;
                }
            });
        }
        self.0.seal(account_id, pieces.into_seals());
        Ok(out)
    }

    /// The terms of a range for `table` of an account (empty when the range holds no data),
    /// for a read of `key` or of the whole account. A whole-account billing read of an account
    /// big enough to be sealed ([`super::seals`]) takes the cover that costs the fewest seals
    /// and scans ([`Costs::Sealed`]), which may read a prefix of a year's months as one term;
    /// any other read, the one that scans the fewest rows.
    async fn terms(
        &self,
        tx: &mut Transaction<'_, Any>,
        table: &Table,
        account_id: &str,
        range: DateRange,
        key: Option<&str>,
    ) -> StoreResult<Vec<Term>> {
        let Some(data) = bounds_in(self.0, tx, table, account_id).await? else {
            return Ok(Vec::new());
        };
        let rows = cover(span(range), data, Costs::Rows);
        if !table.totals || key.is_some() {
            return Ok(rows);
        }
        let today = day_number(chrono::Utc::now().date_naive());
        let sealed = cover(span(range), data, Costs::Sealed { today });
        if sealed == rows || !seals::worth_sealing(self.0, tx, account_id).await? {
            return Ok(rows);
        }
        Ok(sealed)
    }

    /// The ids of a subtree's customers.
    async fn subtree_ids(&self, account_id: &str, path: &str) -> StoreResult<HashSet<String>> {
        Ok(self
            .0
            .accounts()
            .customers(account_id, Some(path))
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect())
    }

    /// Billing sums per customer of an account over `range`: all customers, one customer, or a
    /// subtree (path prefix). Only customers with billed calls in the range are returned, in
    /// byte order of their ids (on every backend, whatever PostgreSQL's collation).
    pub async fn billing(
        &self,
        account_id: &str,
        range: DateRange,
        customer_id: Option<&str>,
        subtree_path: Option<&str>,
    ) -> StoreResult<Vec<CustomerBilling>> {
        let subtree = match subtree_path {
            Some(p) => Some(self.subtree_ids(account_id, p).await?),
            None => None,
        };
        let mut tx = self.snapshot().await?;
        let terms = self
            .terms(&mut tx, &BILLING, account_id, range, customer_id)
            .await?;
        let pieces = self
            .packed_terms(&mut tx, &BILLING, account_id, &terms, customer_id)
            .await?;
        tx.commit().await?;
        // Each term's rows come in key order per period: ascending runs, merged here (no map,
        // no sort, no key copied until the answer is built).
        let signed = pieces
            .texts
            .iter()
            .map(|(text, sign)| (text.as_str(), *sign));
        let answer = merge_runs(ascending_runs(signed, BILLING.values.len()))
            .into_iter()
            .filter(|(id, s)| s[0] > 0 && subtree.as_ref().is_none_or(|ids| ids.contains(*id)))
            .map(|(id, s)| billing_of(id.to_string(), &s))
            .collect();
        self.0.seal(account_id, pieces.into_seals());
        Ok(answer)
    }

    /// Billing sums per period of `range` (every period, empty ones included), for the account,
    /// one customer, or a subtree. A whole period is one row per customer of its tier, summed
    /// by the database; a period cut by the range is read like a range of its own.
    pub async fn series(
        &self,
        account_id: &str,
        range: DateRange,
        granularity: Granularity,
        customer_id: Option<&str>,
        subtree_path: Option<&str>,
    ) -> StoreResult<Vec<PeriodBilling>> {
        let subtree = match subtree_path {
            Some(p) => Some(self.subtree_ids(account_id, p).await?),
            None => None,
        };
        let periods: Vec<DateRange> = match granularity {
            Granularity::All => vec![range],
            g => range.periods(g),
        };
        let tier = tier_of(granularity);
        let mut tx = self.snapshot().await?;
        let data = bounds_in(self.0, &mut tx, &BILLING, account_id).await?;
        // The tier's period of a period of the series; whole when the range holds all its days
        // with data (this month up to today is this month's row, as in `cover`).
        let row_of = |p: &DateRange| tier.map(|t| t.start(span(*p).0));
        let whole = |p: &DateRange| {
            tier.is_some_and(|t| {
                let (a, b) = span(*p);
                let period = (t.start(a), t.end(t.start(a)));
                period == (a, b) || data.is_none_or(|d| clip(period, d) == clip((a, b), d))
            })
        };
        // Whole periods, summed per start by the database (no subtree: that needs the keys):
        // for the account, one row of `billing_totals` each.
        let mut grouped: HashMap<i64, (Sums, i64)> = HashMap::new();
        if let (Some(t), None) = (tier, &subtree) {
            let starts: Vec<i64> = periods
                .iter()
                .filter(|p| whole(p))
                .filter_map(row_of)
                .collect();
            if let (Some(first), Some(last)) = (starts.first(), starts.last()) {
                grouped = self
                    .grouped(&mut tx, account_id, t, (*first, *last), customer_id)
                    .await?;
            }
        }
        let mut out = Vec::with_capacity(periods.len());
        for period in periods {
            let (sums, customers) = if whole(&period) && subtree.is_none() {
                row_of(&period)
                    .and_then(|start| grouped.remove(&start))
                    .unwrap_or_default()
            } else {
                let terms =
                    if let (true, Some(t), Some(start)) = (whole(&period), tier, row_of(&period)) {
                        vec![Term {
                            tier: t,
                            first: start,
                            last: start,
                            sign: 1,
                        }]
                    } else {
                        self.terms(&mut tx, &BILLING, account_id, period, customer_id)
                            .await?
                    };
                let per = self
                    .per_key(&mut tx, &BILLING, account_id, &terms, customer_id)
                    .await?;
                let mut sums = Sums::default();
                let mut customers = 0;
                for (id, s) in per {
                    if s[0] > 0 && subtree.as_ref().is_none_or(|ids| ids.contains(&id)) {
                        customers += 1;
                        for i in 0..4 {
                            sums[i] += s[i];
                        }
                    }
                }
                (sums, customers)
            };
            out.push(PeriodBilling {
                period,
                sums: billing_of(String::new(), &sums),
                customers_billed: customers,
            });
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Per period start of `tier` in `first..=last`: the sums of the customers billed, and how
    /// many they are.
    async fn grouped(
        &self,
        tx: &mut Transaction<'_, Any>,
        account_id: &str,
        tier: Tier,
        (first, last): (i64, i64),
        customer_id: Option<&str>,
    ) -> StoreResult<HashMap<i64, (Sums, i64)>> {
        let db = self.0;
        let sql = if customer_id.is_none() {
            "SELECT start, customers_billed AS customers, billed_calls AS b, \
             international_calls AS ic, international_micros AS im, recorded_calls AS r \
             FROM billing_totals WHERE account_id = ? AND tier = ? AND start BETWEEN ? AND ?"
        } else {
            "SELECT start, CAST(COUNT(*) AS BIGINT) AS customers, \
             CAST(SUM(billed_calls) AS BIGINT) AS b, CAST(SUM(international_calls) AS BIGINT) AS ic, \
             CAST(SUM(international_micros) AS BIGINT) AS im, CAST(SUM(recorded_calls) AS BIGINT) AS r \
             FROM billing_rollup WHERE account_id = ? AND tier = ? AND start BETWEEN ? AND ? \
             AND billed_calls > 0 AND customer_id = ? GROUP BY start"
        };
        let sql = db.sql(sql).into_owned();
        let mut q = sqlx::query(&sql)
            .bind(account_id)
            .bind(tier.number())
            .bind(first)
            .bind(last);
        if let Some(c) = customer_id {
            q = q.bind(c);
        }
        let mut out = HashMap::new();
        for row in q.fetch_all(&mut **tx).await? {
            let sums = [
                row.try_get::<i64, _>("b")?,
                row.try_get::<i64, _>("ic")?,
                row.try_get::<i64, _>("im")?,
                row.try_get::<i64, _>("r")?,
            ];
            out.insert(row.try_get("start")?, (sums, row.try_get("customers")?));
        }
        Ok(out)
    }

    /// Usage per leaf category for each period of `range` (`All`: the whole range as one).
    pub async fn usage(
        &self,
        account_id: &str,
        range: DateRange,
        granularity: Granularity,
    ) -> StoreResult<Vec<PeriodUsage>> {
        let periods: Vec<DateRange> = match granularity {
            Granularity::All => vec![range],
            g => range.periods(g),
        };
        let tier = tier_of(granularity);
        let mut tx = self.snapshot().await?;
        // Whole periods: their rows, read in one scan.
        let mut whole: HashMap<i64, BTreeMap<String, UsageSums>> = HashMap::new();
        if let Some(t) = tier {
            let starts: Vec<i64> = periods
                .iter()
                .map(|p| span(*p))
                .filter(|(a, b)| t.start(*a) == *a && t.end(*a) == *b)
                .map(|(a, _)| a)
                .collect();
            if let (Some(first), Some(last)) = (starts.first(), starts.last()) {
                let db = self.0;
                let rows = sqlx::query(&db.sql(
                    "SELECT start, category, count, usage_micros, price_micros FROM usage_rollup \
                     WHERE account_id = ? AND tier = ? AND start BETWEEN ? AND ?",
                ))
                .bind(account_id)
                .bind(t.number())
                .bind(*first)
                .bind(*last)
                .fetch_all(&mut *tx)
                .await?;
                for r in rows {
                    let start: i64 = r.try_get("start")?;
                    if !starts.contains(&start) {
                        continue;
                    }
                    whole.entry(start).or_default().insert(
                        r.try_get("category")?,
                        UsageSums {
                            count: r.try_get("count")?,
                            usage_micros: r.try_get("usage_micros")?,
                            price_micros: r.try_get("price_micros")?,
                        },
                    );
                }
            }
        }
        let mut out = Vec::with_capacity(periods.len());
        for period in periods {
            let (a, b) = span(period);
            let is_whole = tier.is_some_and(|t| t.start(a) == a && t.end(a) == b);
            let leaves = if is_whole {
                whole.remove(&a).unwrap_or_default()
            } else {
                let terms = self
                    .terms(&mut tx, &USAGE, account_id, period, None)
                    .await?;
                self.per_key(&mut tx, &USAGE, account_id, &terms, None)
                    .await?
                    .into_iter()
                    .map(|(k, s)| (k, usage_of(&s)))
                    .collect()
            };
            out.push(PeriodUsage { period, leaves });
        }
        tx.commit().await?;
        Ok(out)
    }

    /// The first and last day with billing data of an account (for benchmarks and the check).
    pub async fn billing_bounds(
        &self,
        account_id: &str,
    ) -> StoreResult<Option<(chrono::NaiveDate, chrono::NaiveDate)>> {
        let mut tx = self.snapshot().await?;
        let b = bounds_in(self.0, &mut tx, &BILLING, account_id).await?;
        tx.commit().await?;
        Ok(b.map(|(a, b)| (date_of_day(a), date_of_day(b))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pack(rows: &[(&str, Sums)]) -> String {
        rows.iter()
            .map(|(k, s)| {
                format!(
                    "{k}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
                    s[0], s[1], s[2], s[3]
                )
            })
            .collect::<Vec<_>>()
            .join("\u{1e}")
    }

    fn scanned(text: &str, n: usize, sign: i64) -> Vec<(String, Sums)> {
        let mut out = Vec::new();
        scan(text, n, sign, |k, s| out.push((k.to_string(), s)));
        out
    }

    #[test]
    fn scan_reads_packed_rows() {
        assert!(scanned("", 4, 1).is_empty());
        assert_eq!(
            scanned(
                "a\u{1f}1\u{1f}-2\u{1f}30\u{1f}0\u{1e}b\u{1f}x9\u{1f}5\u{1e}\u{1e}",
                4,
                -1
            ),
            [
                ("a".to_string(), [-1, 2, -30, 0]),
                ("b".to_string(), [0, -5, 0, 0])
            ]
        );
        // Fewer values asked for than the row has; a key alone; a number too big for i64.
        assert_eq!(
            scanned(
                "k\u{1f}7\u{1f}8\u{1f}9\u{1e}only\u{1e}z\u{1f}99999999999999999999",
                2,
                1
            ),
            [
                ("k".to_string(), [7, 8, 0, 0]),
                ("only".to_string(), [0, 0, 0, 0]),
                ("z".to_string(), [0, 0, 0, 0])
            ]
        );
    }

    proptest! {
        /// Runs cut from random signed terms merge to what a map and a sort give.
        #[test]
        fn merged_runs_equal_map_and_sort(
            terms in prop::collection::vec(
                (
                    prop::collection::btree_map("[a-c]{0,3}", 0i64..50, 0..12),
                    any::<bool>(),
                    1usize..3,
                ),
                0..6,
            ),
        ) {
            let mut texts = Vec::new();
            let mut want: BTreeMap<String, Sums> = BTreeMap::new();
            // Each term: its rows once, or twice in one text (two periods of a run of days).
            for (rows, negative, periods) in &terms {
                let sign = if *negative { -1 } else { 1 } * *periods as i64;
                let rows: Vec<(&str, Sums)> = rows.iter().map(|(k, v)| (k.as_str(), [*v, 1, 0, *v])).collect();
                for (k, s) in &rows {
                    let e = want.entry(k.to_string()).or_default();
                    for (x, y) in e.iter_mut().zip(s) {
                        *x += sign * y;
                    }
                }
                let sign = sign / *periods as i64;
                texts.push((vec![pack(&rows); *periods].join("\u{1e}"), sign));
            }
            let runs = ascending_runs(texts.iter().map(|(t, sign)| (t.as_str(), *sign)), 4);
            let got: Vec<(String, Sums)> =
                merge_runs(runs).into_iter().map(|(k, s)| (k.to_string(), s)).collect();
            let want: Vec<(String, Sums)> = want.into_iter().collect();
            prop_assert_eq!(got, want);
        }
    }
}
