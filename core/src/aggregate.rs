//! Aggregation of what the API returns: billing totals, merges, top customers, usage roll-ups.
//!
//! All sums are exact ([`Micros`]). Usage categories overlap the way Twilio's do: `calls` already
//! contains `calls-inbound` and `calls-outbound`, and `totalprice` contains everything, so a total
//! is never the sum of all records. [`grand_total`] adds only the categories that no other present
//! category contains (or takes `totalprice` when it is there).
//!
//! ```
//! use evo_billing_core::aggregate::grand_total;
//! use evo_billing_core::dto::UsageRecordInfo;
//! let rec = |c: &str, p: &str| UsageRecordInfo {
//!     category: Some(c.into()), price: p.parse().unwrap(), ..Default::default()
//! };
//! let records = [rec("calls", "3"), rec("calls-inbound", "1"), rec("calls-outbound", "2"), rec("sms", "0.5")];
//! assert_eq!(grand_total(&records).to_string(), "3.5"); // not 6.5
//! ```

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::date_range::{parse_api_date, Granularity};
use crate::dto::{BillingCustomerInfo, BillingInfo, UsageRecordInfo};
use crate::money::Micros;

pub use crate::usage::TOTAL_PRICE;

/// Headline numbers of a [`BillingInfo`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct BillingTotals {
    /// Sum of every customer's international costs, exact.
    #[cfg_attr(all(feature = "js", target_arch = "wasm32"), tsify(type = "number"))]
    pub international_costs: Micros,
    /// Customers with billable activity in the range.
    pub customers_billed: u32,
    /// Customers with at least one recorded call.
    pub customers_with_recording: u32,
    /// Customers with non-zero international costs.
    pub customers_with_international: u32,
}

/// Totals of one billing answer.
pub fn billing_totals(info: &BillingInfo) -> BillingTotals {
    let mut t = BillingTotals::default();
    for c in &info.customers {
        t.international_costs += c.international_costs;
        t.customers_billed += 1;
        t.customers_with_recording += u32::from(c.has_call_recording);
        t.customers_with_international += u32::from(!c.international_costs.is_zero());
    }
    t
}

/// Merges answers for several (disjoint) ranges into one: per customer the costs add up and
/// `hasCallRecording` is true if it was in any range. Sorted by customer ID, like the API.
pub fn merge_billing(infos: &[BillingInfo]) -> BillingInfo {
    let mut by_customer: BTreeMap<Option<String>, BillingCustomerInfo> = BTreeMap::new();
    for c in infos.iter().flat_map(|i| &i.customers) {
        let entry =
            by_customer
                .entry(c.customer_id.clone())
                .or_insert_with(|| BillingCustomerInfo {
                    customer_id: c.customer_id.clone(),
                    ..Default::default()
                });
        entry.international_costs += c.international_costs;
        entry.has_call_recording |= c.has_call_recording;
    }
    BillingInfo {
        customers: by_customer.into_values().collect(),
    }
}

/// The `n` customers with the highest international costs, highest first (ties by customer ID).
pub fn top_customers(info: &BillingInfo, n: usize) -> Vec<BillingCustomerInfo> {
    let mut all = info.customers.clone();
    all.sort_by(|a, b| {
        b.international_costs
            .cmp(&a.international_costs)
            .then_with(|| a.customer_id.cmp(&b.customer_id))
    });
    all.truncate(n);
    all
}

/// Is `child` contained in `parent` (`calls-inbound` in `calls`, everything in `totalprice`)?
/// The categories of [`crate::usage`] nest as that model says; other names (a Twilio server has
/// many more) follow Twilio's naming, where `a-b` is part of `a`.
pub fn is_subcategory(child: &str, parent: &str) -> bool {
    if child == parent {
        return false;
    }
    if parent == TOTAL_PRICE {
        return true;
    }
    if let Some(c) = crate::usage::category(child) {
        return c.parent == Some(parent);
    }
    child.len() > parent.len()
        && child.starts_with(parent)
        && child.as_bytes().get(parent.len()) == Some(&b'-')
}

/// The categories among `present` that no other present category contains: the ones whose sums
/// can be added without counting anything twice.
pub fn leaf_free_categories<'a>(present: &[&'a str]) -> Vec<&'a str> {
    present
        .iter()
        .copied()
        .filter(|c| !present.iter().any(|p| is_subcategory(c, p)))
        .collect()
}

/// The exact total price of a set of usage records, never adding overlapping categories: the
/// `totalprice` records if any, otherwise the records of the top-most categories present.
pub fn grand_total(records: &[UsageRecordInfo]) -> Micros {
    let mut by_cat: BTreeMap<&str, Micros> = BTreeMap::new();
    for r in records {
        *by_cat
            .entry(r.category.as_deref().unwrap_or(""))
            .or_default() += r.price;
    }
    total_of_categories(&by_cat)
}

fn total_of_categories(by_cat: &BTreeMap<&str, Micros>) -> Micros {
    if let Some(t) = by_cat.get(TOTAL_PRICE) {
        return *t;
    }
    let present: Vec<&str> = by_cat.keys().copied().collect();
    leaf_free_categories(&present)
        .iter()
        .filter_map(|c| by_cat.get(c))
        .sum()
}

/// One category's sums.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct CategoryUsage {
    pub category: String,
    pub count: i64,
    /// Exact decimal quantity (minutes, messages...), as text.
    pub usage: String,
    #[cfg_attr(all(feature = "js", target_arch = "wasm32"), tsify(type = "number"))]
    pub price: Micros,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count_unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_unit: Option<String>,
}

/// Usage of one period (or of the whole range for [`Granularity::All`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct PeriodUsage {
    /// First day of the period (`YYYY-MM-DD`); absent for the whole range or undated records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_start: Option<String>,
    /// Categories, sorted by name.
    pub categories: Vec<CategoryUsage>,
    /// The period's total price without double counting (see [`grand_total`]).
    #[cfg_attr(all(feature = "js", target_arch = "wasm32"), tsify(type = "number"))]
    pub total_price: Micros,
}

/// The roll-up of a set of usage records.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct UsageSummary {
    pub granularity: Granularity,
    /// Records read.
    pub records: u32,
    /// Records whose `usage` was not a decimal number (counted as 0, never silently dropped).
    pub unreadable_usage: u32,
    /// Periods in time order.
    pub periods: Vec<PeriodUsage>,
    /// Per category over everything.
    pub categories: Vec<CategoryUsage>,
    /// Total price over everything, without double counting.
    #[cfg_attr(all(feature = "js", target_arch = "wasm32"), tsify(type = "number"))]
    pub total_price: Micros,
}

/// A borrowed view of one usage record: what a roll-up needs, nothing copied.
#[derive(Debug, Clone, Copy, Default)]
pub struct UsageRow<'a> {
    pub category: &'a str,
    pub start_date: Option<&'a str>,
    pub count: i64,
    pub usage: Option<&'a str>,
    pub price: Micros,
    pub count_unit: Option<&'a str>,
    pub usage_unit: Option<&'a str>,
    pub price_unit: Option<&'a str>,
}

impl<'a> From<&'a UsageRecordInfo> for UsageRow<'a> {
    fn from(r: &'a UsageRecordInfo) -> UsageRow<'a> {
        UsageRow {
            category: r.category.as_deref().unwrap_or(""),
            start_date: r.start_date.as_deref(),
            count: r.count,
            usage: r.usage.as_deref(),
            price: r.price,
            count_unit: r.count_unit.as_deref(),
            usage_unit: r.usage_unit.as_deref(),
            price_unit: r.price_unit.as_deref(),
        }
    }
}

#[derive(Default)]
struct Acc<'a> {
    count: i64,
    usage: Micros,
    price: Micros,
    count_unit: Option<&'a str>,
    usage_unit: Option<&'a str>,
    price_unit: Option<&'a str>,
}

impl<'a> Acc<'a> {
    #[inline(always)]
    fn add(&mut self, row: &UsageRow<'a>, usage: Micros) {
        self.count = self.count.saturating_add(row.count);
        self.usage += usage;
        self.price += row.price;
        self.count_unit = self.count_unit.or(row.count_unit);
        self.usage_unit = self.usage_unit.or(row.usage_unit);
        self.price_unit = self.price_unit.or(row.price_unit);
    }

    fn into_category(self, category: &str) -> CategoryUsage {
        CategoryUsage {
            category: category.to_string(),
            count: self.count,
            usage: self.usage.to_string(),
            price: self.price,
            count_unit: self.count_unit.map(str::to_string),
            usage_unit: self.usage_unit.map(str::to_string),
            price_unit: self.price_unit.map(str::to_string),
        }
    }
}

/// A small multiplicative hasher for the roll-up's short keys: SipHash's DoS resistance buys
/// nothing here (the keys come from the caller's own data) and costs a third of the time.
#[derive(Default)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    #[inline(always)]
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(*b)).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }

    #[inline(always)]
    fn write_u32(&mut self, n: u32) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(n)).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    #[inline(always)]
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    #[inline(always)]
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Streaming roll-up: feed rows one by one (from DTOs or straight from JSON bytes), then
/// [`finish`](UsageRollup::finish). Keys borrow from the input, so nothing is copied per row.
pub struct UsageRollup<'a> {
    granularity: Granularity,
    /// (period start, category) → sums. `None` period: whole range or undated record.
    cells: HashMap<(Option<NaiveDate>, &'a str), Acc<'a>, BuildHasherDefault<FxHasher>>,
    records: u32,
    unreadable_usage: u32,
    /// Period start of each date text seen: a year of answers has at most 366 distinct dates, and
    /// parsing a date and finding its period costs more than this lookup.
    periods: HashMap<&'a str, Option<NaiveDate>, BuildHasherDefault<FxHasher>>,
}

impl<'a> UsageRollup<'a> {
    pub fn new(granularity: Granularity) -> UsageRollup<'a> {
        UsageRollup {
            granularity,
            cells: HashMap::default(),
            records: 0,
            unreadable_usage: 0,
            periods: HashMap::default(),
        }
    }

    #[inline(always)]
    pub fn add(&mut self, row: UsageRow<'a>) {
        self.records = self.records.saturating_add(1);
        let usage = match row.usage.map(str::trim).filter(|u| !u.is_empty()) {
            None => Micros::ZERO,
            Some(text) => text.parse().unwrap_or_else(|_| {
                self.unreadable_usage += 1;
                Micros::ZERO
            }),
        };
        let period = match (self.granularity, row.start_date) {
            (Granularity::All, _) | (_, None) => None,
            (g, Some(text)) => *self
                .periods
                .entry(text)
                .or_insert_with(|| parse_api_date(text).ok().map(|d| g.period_of(d).start())),
        };
        self.cells
            .entry((period, row.category))
            .or_default()
            .add(&row, usage);
    }

    pub fn finish(self) -> UsageSummary {
        let mut periods: BTreeMap<Option<NaiveDate>, BTreeMap<&str, Acc>> = BTreeMap::new();
        let mut overall: BTreeMap<&str, Acc> = BTreeMap::new();
        for ((period, category), acc) in self.cells {
            let o = overall.entry(category).or_default();
            o.count = o.count.saturating_add(acc.count);
            o.usage += acc.usage;
            o.price += acc.price;
            o.count_unit = o.count_unit.or(acc.count_unit);
            o.usage_unit = o.usage_unit.or(acc.usage_unit);
            o.price_unit = o.price_unit.or(acc.price_unit);
            periods.entry(period).or_default().insert(category, acc);
        }
        let summarize = |cats: BTreeMap<&str, Acc>| -> (Vec<CategoryUsage>, Micros) {
            let prices: BTreeMap<&str, Micros> = cats.iter().map(|(c, a)| (*c, a.price)).collect();
            let total = total_of_categories(&prices);
            (
                cats.into_iter().map(|(c, a)| a.into_category(c)).collect(),
                total,
            )
        };
        let (categories, total_price) = summarize(overall);
        let periods = if self.granularity == Granularity::All {
            Vec::new()
        } else {
            periods
                .into_iter()
                .map(|(start, cats)| {
                    let (categories, total_price) = summarize(cats);
                    PeriodUsage {
                        period_start: start.map(crate::date_range::ymd),
                        categories,
                        total_price,
                    }
                })
                .collect()
        };
        UsageSummary {
            granularity: self.granularity,
            records: self.records,
            unreadable_usage: self.unreadable_usage,
            periods,
            categories,
            total_price,
        }
    }
}

/// Rolls up usage records by category, and by period unless `granularity` is `All`.
pub fn summarize_usage(records: &[UsageRecordInfo], granularity: Granularity) -> UsageSummary {
    let mut rollup = UsageRollup::new(granularity);
    for r in records {
        rollup.add(UsageRow::from(r));
    }
    rollup.finish()
}

/// Rolls up usage records straight from the JSON bytes the API returned (a bare array of
/// UsageRecordInfo). This is the fast path for big answers: a scanner made for this one shape
/// reads the bytes once, borrows category and date text from the buffer, reads prices from their
/// decimal text (exact, no float in between), skips the fields a roll-up does not need, and builds
/// nothing per record but the running sums. Keys match case-insensitively (camelCase or
/// PascalCase servers). Anything the scanner does not expect (escaped strings, odd number forms)
/// sends the whole input through the general serde path, which also produces the error message
/// for invalid JSON.
pub fn summarize_usage_json(json: &[u8], granularity: Granularity) -> Result<UsageSummary, String> {
    if let Some(summary) = scan::summarize(json, granularity) {
        return Ok(summary);
    }
    summarize_usage_json_serde(json, granularity)
}

/// The general path of [`summarize_usage_json`]: serde over the bytes into the DTOs.
pub fn summarize_usage_json_serde(
    json: &[u8],
    granularity: Granularity,
) -> Result<UsageSummary, String> {
    let records: Vec<UsageRecordInfo> = serde_json::from_slice(json).map_err(|e| e.to_string())?;
    Ok(summarize_usage(&records, granularity))
}

/// The byte scanner behind [`summarize_usage_json`]. Every function returns `None` on anything
/// unexpected; the caller then takes the general path. It never panics: every index is checked.
mod scan {
    use super::{Granularity, Micros, UsageRollup, UsageRow, UsageSummary};

    struct Scanner<'a> {
        b: &'a [u8],
        i: usize,
    }

    /// The index of the first `"` or `\\` in `bytes`, eight bytes at a time (SWAR: a byte equal
    /// to the searched one becomes zero after the XOR, and the classic has-zero-byte test finds
    /// it). Strings are most of a usage record's bytes, so this is the scanner's hot loop.
    #[inline(always)]
    fn quote_or_backslash(bytes: &[u8]) -> Option<usize> {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGHS: u64 = 0x8080_8080_8080_8080;
        let quote = ONES * u64::from(b'"');
        let slash = ONES * u64::from(b'\\');
        let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
        let mut i = 0;
        while let Some(chunk) = bytes.get(i..i + 8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            let x = u64::from_le_bytes(word);
            let hits = has_zero(x ^ quote) | has_zero(x ^ slash);
            if hits != 0 {
                return Some(i + (hits.trailing_zeros() / 8) as usize);
            }
            i += 8;
        }
        bytes
            .get(i..)?
            .iter()
            .position(|c| *c == b'"' || *c == b'\\')
            .map(|p| i + p)
    }

    impl<'a> Scanner<'a> {
        #[inline(always)]
        fn ws(&mut self) {
            while let Some(c) = self.b.get(self.i) {
                if matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
                    self.i += 1;
                } else {
                    break;
                }
            }
        }

        #[inline(always)]
        fn peek(&mut self) -> Option<u8> {
            self.ws();
            self.b.get(self.i).copied()
        }

        #[inline(always)]
        fn eat(&mut self, c: u8) -> Option<()> {
            (self.peek()? == c).then(|| self.i += 1)
        }

        #[inline(always)]
        fn literal(&mut self, word: &[u8]) -> Option<()> {
            let end = self.i + word.len();
            (self.b.get(self.i..end)? == word).then(|| self.i = end)
        }

        /// A string with no escapes, borrowed from the input.
        #[inline(always)]
        fn plain_str(&mut self) -> Option<&'a str> {
            self.eat(b'"')?;
            let start = self.i;
            let rest = self.b.get(start..)?;
            let len = quote_or_backslash(rest)?;
            if rest[len] != b'"' {
                return None;
            }
            let text = std::str::from_utf8(&rest[..len]).ok()?;
            self.i = start + len + 1;
            Some(text)
        }

        /// A string or `null`.
        #[inline(always)]
        fn opt_str(&mut self) -> Option<Option<&'a str>> {
            if self.peek()? == b'n' {
                self.literal(b"null")?;
                return Some(None);
            }
            self.plain_str().map(Some)
        }

        /// The text of a JSON number (or of a string holding one), or `null`.
        #[inline(always)]
        fn number_text(&mut self) -> Option<Option<&'a str>> {
            match self.peek()? {
                b'n' => {
                    self.literal(b"null")?;
                    Some(None)
                }
                b'"' => self.plain_str().map(Some),
                _ => {
                    let start = self.i;
                    while self.b.get(self.i).is_some_and(|c| {
                        matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
                    }) {
                        self.i += 1;
                    }
                    (self.i > start)
                        .then(|| std::str::from_utf8(&self.b[start..self.i]).ok())
                        .flatten()
                        .map(Some)
                }
            }
        }

        /// Skips any JSON value (nested ones included).
        #[inline(always)]
        fn skip_value(&mut self) -> Option<()> {
            match self.peek()? {
                b'"' => self.skip_string(),
                b'{' | b'[' => {
                    let mut depth = 0usize;
                    loop {
                        match self.b.get(self.i)? {
                            b'"' => {
                                self.skip_string()?;
                                continue;
                            }
                            b'{' | b'[' => depth += 1,
                            b'}' | b']' => {
                                depth -= 1;
                                if depth == 0 {
                                    self.i += 1;
                                    return Some(());
                                }
                            }
                            _ => {}
                        }
                        self.i += 1;
                    }
                }
                _ => {
                    let start = self.i;
                    while self.b.get(self.i).is_some_and(|c| {
                        !matches!(c, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t')
                    }) {
                        self.i += 1;
                    }
                    (self.i > start).then_some(())
                }
            }
        }

        #[inline(always)]
        fn skip_string(&mut self) -> Option<()> {
            self.eat(b'"')?;
            loop {
                let rest = self.b.get(self.i..)?;
                let at = quote_or_backslash(rest)?;
                if rest[at] == b'"' {
                    self.i += at + 1;
                    return Some(());
                }
                self.i += at + 2;
            }
        }
    }

    #[inline(always)]
    fn money(text: Option<&str>) -> Option<Micros> {
        match text {
            None => Some(Micros::ZERO),
            Some(t) if t.trim().is_empty() => Some(Micros::ZERO),
            Some(t) => Micros::parse_plain(t.as_bytes()).or_else(|| t.parse().ok()),
        }
    }

    #[cfg(all(test, not(target_arch = "wasm32")))]
    pub(super) fn quote_or_backslash_for_tests(bytes: &[u8]) -> Option<usize> {
        quote_or_backslash(bytes)
    }

    pub(super) fn summarize(json: &[u8], granularity: Granularity) -> Option<UsageSummary> {
        let mut s = Scanner { b: json, i: 0 };
        let mut rollup = UsageRollup::new(granularity);
        s.eat(b'[')?;
        if s.peek()? == b']' {
            s.i += 1;
        } else {
            loop {
                s.eat(b'{')?;
                let mut row = UsageRow::default();
                if s.peek()? == b'}' {
                    s.i += 1;
                } else {
                    loop {
                        let key = s.plain_str()?;
                        s.eat(b':')?;
                        // Most keys are skipped: compare lengths before letters.
                        let k =
                            |name: &str| key.len() == name.len() && key.eq_ignore_ascii_case(name);
                        if k("category") {
                            row.category = s.opt_str()?.unwrap_or("");
                        } else if k("startDate") {
                            row.start_date = s.opt_str()?;
                        } else if k("count") {
                            row.count = match s.number_text()? {
                                None => 0,
                                Some(t) => t.parse().ok()?,
                            };
                        } else if k("usage") {
                            row.usage = s.number_text()?;
                        } else if k("price") {
                            row.price = money(s.number_text()?)?;
                        } else if k("countUnit") {
                            row.count_unit = s.opt_str()?;
                        } else if k("usageUnit") {
                            row.usage_unit = s.opt_str()?;
                        } else if k("priceUnit") {
                            row.price_unit = s.opt_str()?;
                        } else {
                            s.skip_value()?;
                        }
                        match s.peek()? {
                            b',' => s.i += 1,
                            b'}' => {
                                s.i += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
                rollup.add(row);
                match s.peek()? {
                    b',' => s.i += 1,
                    b']' => {
                        s.i += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        s.ws();
        (s.i == json.len()).then(|| rollup.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    // On wasm32 the same tests run under wasm-bindgen-test (in Node and in headless Chromium).
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn rec(cat: &str, day: &str, count: i64, usage: &str, price: &str) -> UsageRecordInfo {
        UsageRecordInfo {
            category: Some(cat.into()),
            start_date: Some(day.into()),
            end_date: Some(day.into()),
            count,
            usage: Some(usage.into()),
            price: price.parse().unwrap(),
            price_unit: Some("usd".into()),
            ..Default::default()
        }
    }

    fn cust(id: &str, cost: &str, rec: bool) -> BillingCustomerInfo {
        BillingCustomerInfo {
            customer_id: Some(id.into()),
            international_costs: cost.parse().unwrap(),
            has_call_recording: rec,
        }
    }

    #[test]
    fn totals_merge_and_top() {
        let a = BillingInfo {
            customers: vec![cust("c1", "1.10", false), cust("c2", "0", true)],
        };
        let b = BillingInfo {
            customers: vec![cust("c1", "2.20", true), cust("c3", "5", false)],
        };
        let t = billing_totals(&a);
        assert_eq!(t.customers_billed, 2);
        assert_eq!(t.customers_with_recording, 1);
        assert_eq!(t.customers_with_international, 1);
        assert_eq!(t.international_costs.to_string(), "1.1");
        let m = merge_billing(&[a, b]);
        assert_eq!(m.customers.len(), 3);
        assert_eq!(m.customers[0], cust("c1", "3.30", true));
        assert_eq!(billing_totals(&m).international_costs.to_string(), "8.3");
        let top = top_customers(&m, 2);
        assert_eq!(
            top.iter()
                .map(|c| c.customer_id.clone().unwrap())
                .collect::<Vec<_>>(),
            ["c3", "c1"]
        );
    }

    #[test]
    fn categories_nest() {
        assert!(is_subcategory("calls-inbound", "calls"));
        assert!(!is_subcategory("callsx", "calls"));
        assert!(!is_subcategory("calls", "calls"));
        assert!(is_subcategory("sms", "totalprice"));
        assert_eq!(
            leaf_free_categories(&["calls", "calls-inbound", "sms-outbound", "recordings"]),
            ["calls", "sms-outbound", "recordings"]
        );
    }

    #[test]
    fn grand_total_prefers_totalprice_and_never_double_counts() {
        let mut records = vec![
            rec("calls", "2026-01-01", 3, "10", "3"),
            rec("calls-inbound", "2026-01-01", 1, "4", "1"),
            rec("calls-outbound", "2026-01-01", 2, "6", "2"),
            rec("sms-outbound", "2026-01-01", 5, "5", "0.0375"),
        ];
        assert_eq!(grand_total(&records).to_string(), "3.0375");
        records.push(rec("totalprice", "2026-01-01", 0, "0", "3.04"));
        assert_eq!(grand_total(&records).to_string(), "3.04");
    }

    #[test]
    fn rolls_up_by_period() {
        let records = vec![
            rec("calls", "2026-01-30", 1, "1.5", "0.10"),
            rec("calls", "2026-01-31", 1, "2.25", "0.20"),
            rec("calls", "2026-02-01", 1, "1", "0.30"),
            rec("calls-inbound", "2026-02-01", 1, "1", "0.30"),
            rec("sms", "2026-02-02", 2, "2", "0.02"),
        ];
        let monthly = summarize_usage(&records, Granularity::Monthly);
        assert_eq!(monthly.records, 5);
        assert_eq!(monthly.periods.len(), 2);
        assert_eq!(
            monthly.periods[0].period_start.as_deref(),
            Some("2026-01-01")
        );
        assert_eq!(monthly.periods[0].total_price.to_string(), "0.3");
        assert_eq!(monthly.periods[1].total_price.to_string(), "0.32");
        assert_eq!(monthly.total_price.to_string(), "0.62");
        let calls = &monthly.categories[0];
        assert_eq!(calls.category, "calls");
        assert_eq!(calls.count, 3);
        assert_eq!(calls.usage, "4.75");
        assert_eq!(calls.price_unit.as_deref(), Some("usd"));

        let weekly = summarize_usage(&records, Granularity::Weekly);
        // 2026-01-30 (Fri) .. 2026-02-01 (Sun) is one ISO week; 2026-02-02 starts the next.
        assert_eq!(weekly.periods.len(), 2);
        assert_eq!(
            weekly.periods[0].period_start.as_deref(),
            Some("2026-01-26")
        );
        let daily = summarize_usage(&records, Granularity::Daily);
        assert_eq!(daily.periods.len(), 4);
        let all = summarize_usage(&records, Granularity::All);
        assert!(all.periods.is_empty());
        assert_eq!(all.total_price, monthly.total_price);
    }

    #[test]
    fn json_fast_path_matches_the_dto_path() {
        let records = vec![
            rec("calls", "2026-01-30", 1, "1.5", "0.10"),
            rec("calls-outbound", "2026-01-30", 1, "1.5", "0.10"),
            rec("sms", "2026-02-02", 2, "x", "0.02"),
        ];
        let json = serde_json::to_vec(&records).unwrap();
        for g in [Granularity::All, Granularity::Daily, Granularity::Monthly] {
            assert_eq!(
                summarize_usage_json(&json, g).unwrap(),
                summarize_usage(&records, g)
            );
        }
        let s = summarize_usage_json(&json, Granularity::All).unwrap();
        assert_eq!(s.unreadable_usage, 1);
        assert!(summarize_usage_json(b"{not json", Granularity::All).is_err());
        assert!(summarize_usage_json(b"[{\"price\":\"abc\"}]", Granularity::All).is_err());
        // Escaped strings are decoded, not borrowed: still correct.
        let escaped = br#"[{"category":"c\u0061lls","price":1}]"#;
        assert!(
            scan::summarize(escaped, Granularity::All).is_none(),
            "escapes take the general path"
        );
        assert_eq!(
            summarize_usage_json(escaped, Granularity::All)
                .unwrap()
                .categories[0]
                .category,
            "calls"
        );
    }
}

#[cfg(test)]
mod scan_tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn the_scanner_reads_what_servers_send() {
        let pretty = br#"
          [ { "accountSid" : "AC1", "category" : "calls", "count" : 3, "countUnit": "calls",
              "description": "Voice, \"all\"", "nested": {"a": [1, {"b": "]"}]}, "flag": true,
              "endDate": "2026-01-31", "price": -0.0085, "priceUnit": "usd",
              "startDate": "2026-01-01", "usage": "12.5", "usageUnit": "minutes", "uri": null },
            {"Category": "sms", "Count": 2, "Price": "0.0158", "StartDate": "2026-01-02", "Usage": 2} ]
        "#;
        let fast = scan::summarize(pretty, Granularity::Daily).expect("scanner path");
        assert_eq!(fast.records, 2);
        assert_eq!(fast.categories[0].category, "calls");
        assert_eq!(fast.categories[0].price, Micros(-8_500));
        assert_eq!(fast.categories[0].usage, "12.5");
        assert_eq!(fast.categories[1].category, "sms", "PascalCase keys");
        assert_eq!(fast.categories[1].price, Micros(15_800));
        assert_eq!(fast.periods.len(), 2);
        assert_eq!(fast.total_price, Micros(7_300));
        assert_eq!(
            summarize_usage_json(b"[]", Granularity::All)
                .unwrap()
                .records,
            0
        );
        assert_eq!(
            summarize_usage_json(b" [ ] ", Granularity::All)
                .unwrap()
                .records,
            0
        );
        assert_eq!(
            summarize_usage_json(
                br#"[{"price":null,"category":null,"count":null}]"#,
                Granularity::All
            )
            .unwrap()
            .records,
            1
        );
        for bad in [
            &b"["[..],
            b"[{",
            b"[{}",
            b"[{},]",
            b"[1]",
            b"{}",
            b"[{\"a\"}]",
            b"[] x",
            b"",
        ] {
            assert!(
                summarize_usage_json(bad, Granularity::All).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever the split into categories and days, the roll-up's total equals the exact sum of
        /// the top-level records, and per-period totals add up to it.
        #[test]
        fn period_totals_add_up(rows in proptest::collection::vec(
            (prop::sample::select(vec!["calls", "sms", "recordings", "phonenumbers"]), 0i64..60, -5_000_000i64..5_000_000),
            0..300,
        )) {
            let base = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
            let records: Vec<UsageRecordInfo> = rows.iter().map(|(c, d, p)| UsageRecordInfo {
                category: Some(c.to_string()),
                start_date: Some(crate::date_range::ymd(base + chrono::Duration::days(*d))),
                price: Micros(*p),
                count: 1,
                ..Default::default()
            }).collect();
            let expected: i64 = rows.iter().map(|r| r.2).sum();
            for g in [Granularity::All, Granularity::Daily, Granularity::Weekly, Granularity::Monthly] {
                let s = summarize_usage(&records, g);
                prop_assert_eq!(s.total_price, Micros(expected));
                if g != Granularity::All {
                    let by_period: Micros = s.periods.iter().map(|p| p.total_price).sum();
                    prop_assert_eq!(by_period, Micros(expected));
                }
                prop_assert_eq!(s.records as usize, records.len());
            }
        }

        /// The scanner and the serde path agree on any serialized records.
        #[test]
        fn scanner_equals_serde(rows in proptest::collection::vec(
            ("[a-z-]{0,12}", 0i64..400, -9_999_999i64..9_999_999, 0i64..1000, prop::option::of("[0-9]{1,4}(\\.[0-9]{1,3})?")),
            0..60,
        )) {
            let base = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
            let records: Vec<UsageRecordInfo> = rows.iter().map(|(c, d, p, n, u)| UsageRecordInfo {
                category: Some(c.clone()),
                start_date: Some(crate::date_range::ymd(base + chrono::Duration::days(*d))),
                price: Micros(*p),
                count: *n,
                usage: u.clone(),
                ..Default::default()
            }).collect();
            let json = serde_json::to_vec(&records).unwrap();
            for g in [Granularity::All, Granularity::Monthly] {
                let fast = scan::summarize(&json, g);
                prop_assert!(fast.is_some());
                prop_assert_eq!(fast.unwrap(), summarize_usage_json_serde(&json, g).unwrap());
            }
        }

        /// The word-at-a-time search finds what a byte-by-byte search finds.
        #[test]
        fn swar_search_is_exact(bytes in proptest::collection::vec(prop::sample::select(vec![b'a', b'"', b'\\', 0u8, 0x80, 0xff, b'!', b']']), 0..40)) {
            let naive = bytes.iter().position(|c| *c == b'"' || *c == b'\\');
            prop_assert_eq!(scan::quote_or_backslash_for_tests(&bytes), naive);
        }

        /// Hostile bytes: an answer or an error, never a panic.
        #[test]
        fn scanner_survives_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = summarize_usage_json(&bytes, Granularity::Daily);
        }

        #[test]
        fn scanner_survives_json_like_noise(text in "[\\[\\]{}\",:a-z0-9.\\- ]{0,80}") {
            let _ = summarize_usage_json(text.as_bytes(), Granularity::Daily);
        }
    }
}
