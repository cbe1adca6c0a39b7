//! The calendar of the roll-ups, and how a date range is read from them.
//!
//! Roll-up rows exist per period of four tiers: days, ISO weeks (Monday first), calendar months
//! and calendar years; a row holds the sums of its period's days. A range is answered by adding
//! and subtracting a few such rows ([`cover`]): whole years, whole months and whole weeks inside
//! the range, single days at its ragged ends; and where a period sticks out of the range only a
//! little, the whole period *minus* the days outside (`M(Nov) − Nov 1` reads 2 rows where `Nov
//! 2..30` reads 29). Days without data (outside the account's first and last day with data) cost
//! nothing, so a range that ends today reads this month's row whole. The cover relies on those
//! bounds (a period counts as whole when the range holds all its days *with data*), so a reader
//! takes the bounds and the rows in one snapshot ([`super::reads`]).

use chrono::{Datelike, NaiveDate};

use super::days::{date_of_day, day_number};

/// A roll-up tier; its number is what the tables store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    Day = 0,
    Week = 1,
    Month = 2,
    Year = 3,
}

impl Tier {
    pub const ALL: [Tier; 4] = [Tier::Day, Tier::Week, Tier::Month, Tier::Year];

    pub fn number(self) -> i64 {
        self as i64
    }

    /// The first day of the period of this tier that contains `day`.
    pub fn start(self, day: i64) -> i64 {
        match self {
            Tier::Day => day,
            // 1970-01-05 (day 4) is a Monday.
            Tier::Week => day - (day - 4).rem_euclid(7),
            Tier::Month => {
                let d = date_of_day(day);
                day_number(d.with_day(1).unwrap_or(d))
            }
            Tier::Year => {
                let d = date_of_day(day);
                day_number(NaiveDate::from_ymd_opt(d.year(), 1, 1).unwrap_or(d))
            }
        }
    }

    /// The last day of the period of this tier that starts on `start`.
    pub fn end(self, start: i64) -> i64 {
        match self {
            Tier::Day => start,
            Tier::Week => start + 6,
            Tier::Month => {
                let d = date_of_day(start);
                let next = if d.month() == 12 {
                    NaiveDate::from_ymd_opt(d.year() + 1, 1, 1)
                } else {
                    NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1)
                };
                next.map_or(start, |n| day_number(n) - 1)
            }
            Tier::Year => {
                let d = date_of_day(start);
                NaiveDate::from_ymd_opt(d.year() + 1, 1, 1).map_or(start, |n| day_number(n) - 1)
            }
        }
    }

    /// The next period's start.
    fn next(self, start: i64) -> i64 {
        self.end(start) + 1
    }
}

/// One term of a cover: `sign` × the rows of `tier` whose period starts in `first..=last`
/// (several only for days: a run of days is one scan).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term {
    pub tier: Tier,
    pub first: i64,
    pub last: i64,
    /// +1 or −1.
    pub sign: i64,
}

/// Inclusive day numbers.
type Span = (i64, i64);

pub fn clip(a: Span, b: Span) -> Option<Span> {
    let s = (a.0.max(b.0), a.1.min(b.1));
    (s.0 <= s.1).then_some(s)
}

/// What a cover minimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Costs {
    /// Rows read per key: every term is scanned (a read of one customer, a small account).
    Rows,
    /// A whole-account read that takes seals ([`super::seals`]): a period that ended before
    /// `today` is one sealed value, and so is a run of a year's months from January (a
    /// prefix, [`Tier::Month`] with `first` on January 1); a period not ended yet is scanned,
    /// which costs about [`OPEN_COST`] seals.
    Sealed { today: i64 },
}

/// A scanned period's cost in sealed values: scanning and packing 10,000 rows on PostgreSQL
/// takes about 4 ms, fetching a seal of them about 1 ms.
const OPEN_COST: i64 = 4;

/// Is `t` a run of months (a year's prefix)?
pub fn is_month_run(t: &Term) -> bool {
    t.tier == Tier::Month && t.first < t.last
}

/// The starts of the periods of a term, in order.
pub fn starts(t: &Term) -> impl Iterator<Item = i64> + '_ {
    std::iter::successors(Some(t.first), move |s| Some(t.tier.next(*s)))
        .take_while(move |s| *s <= t.last)
}

/// What a list of terms costs, counting only days with data (see [`Costs`]).
fn cost(terms: &[Term], data: Span, costs: Costs) -> i64 {
    let days = |t: &Term| clip((t.first, t.last), data).map_or(0, |(a, b)| b - a + 1);
    terms
        .iter()
        .map(|t| match (costs, t.tier) {
            (Costs::Rows, Tier::Day) => days(t),
            (Costs::Rows, _) => starts(t).count() as i64,
            (Costs::Sealed { today }, Tier::Day) => {
                let closed =
                    clip((t.first, t.last.min(today - 1)), data).map_or(0, |(a, b)| b - a + 1);
                closed + (days(t) - closed) * OPEN_COST
            }
            (Costs::Sealed { today }, tier) if tier.end(t.last) < today => 1,
            (Costs::Sealed { .. }, _) => starts(t).count() as i64 * OPEN_COST,
        })
        .sum()
}

fn negate(terms: Vec<Term>) -> Vec<Term> {
    terms
        .into_iter()
        .map(|t| Term { sign: -t.sign, ..t })
        .collect()
}

/// The terms whose signed sum is the sum over `range` (inclusive day numbers), for an account
/// whose data lies within `data` (its first and last day with data). Empty when the range holds
/// no data.
pub fn cover(range: Span, data: Span, costs: Costs) -> Vec<Term> {
    let Some(span) = clip(range, data) else {
        return Vec::new();
    };
    join_day_runs(cover_tier(Tier::Year, span, data, costs))
}

/// Joins adjacent runs of days of the same sign into one term (one scan), keeping the order.
fn join_day_runs(terms: Vec<Term>) -> Vec<Term> {
    let mut out: Vec<Term> = Vec::with_capacity(terms.len());
    for t in terms {
        match out.last_mut() {
            Some(last)
                if last.tier == Tier::Day
                    && t.tier == Tier::Day
                    && last.sign == t.sign
                    && last.last + 1 == t.first =>
            {
                last.last = t.last;
            }
            _ => out.push(t),
        }
    }
    out
}

/// Covers `span` with the periods of `tier` and the tiers below it.
fn cover_tier(tier: Tier, span: Span, data: Span, costs: Costs) -> Vec<Term> {
    if tier == Tier::Week || tier == Tier::Day {
        return cover_days(span, data, costs);
    }
    let below = if tier == Tier::Year {
        Tier::Month
    } else {
        Tier::Week
    };
    let mut out = Vec::new();
    // Adjacent pieces read through the tiers below are covered together, so a week that
    // straddles two cut months is one row instead of a row minus days in each.
    let mut pending: Option<Span> = None;
    let flush = |pending: &mut Option<Span>, out: &mut Vec<Term>| {
        if let Some(p) = pending.take() {
            out.extend(cover_tier(below, p, data, costs));
        }
    };
    let mut start = tier.start(span.0);
    while start <= span.1 {
        let period = (start, tier.end(start));
        if let Some(piece) = clip(period, span) {
            let this = Term {
                tier,
                first: start,
                last: start,
                sign: 1,
            };
            // What of the period holds data; the period's row sums exactly that.
            let full = clip(period, data).unwrap_or(piece);
            if piece == full {
                flush(&mut pending, &mut out);
                out.push(this);
            } else {
                let direct = cover_tier(below, piece, data, costs);
                let mut whole = vec![this];
                // The period's days outside the piece, subtracted (even those without data as
                // far as `data` knows: the sum stays right if it is stale).
                if piece.0 > period.0 {
                    whole.extend(negate(cover_tier(
                        below,
                        (period.0, piece.0 - 1),
                        data,
                        costs,
                    )));
                }
                if piece.1 < period.1 {
                    whole.extend(negate(cover_tier(
                        below,
                        (piece.1 + 1, period.1),
                        data,
                        costs,
                    )));
                }
                let prefix = (tier == Tier::Year && piece.0 == full.0)
                    .then(|| year_prefix(piece, data, costs))
                    .flatten();
                let (whole_cost, direct_cost) =
                    (cost(&whole, data, costs), cost(&direct, data, costs));
                match prefix {
                    Some((run, rest, c)) if c < whole_cost.min(direct_cost) => {
                        flush(&mut pending, &mut out);
                        out.push(run);
                        pending = rest;
                    }
                    _ if whole_cost < direct_cost => {
                        flush(&mut pending, &mut out);
                        out.extend(whole);
                    }
                    _ => pending = Some(pending.map_or(piece, |p| (p.0, piece.1))),
                }
            }
        }
        start = tier.next(start);
    }
    flush(&mut pending, &mut out);
    out
}

/// For a piece of a year from its first day with data to a day before its last: the run of its
/// whole months from January that have ended, the rest of the piece after them, and what the
/// two cost. Only where seals are taken ([`Costs::Sealed`]), and for two months or more.
fn year_prefix(piece: Span, data: Span, costs: Costs) -> Option<(Term, Option<Span>, i64)> {
    let Costs::Sealed { today } = costs else {
        return None;
    };
    let month = Tier::Month.start(piece.1);
    let last = if Tier::Month.end(month) == piece.1 {
        month
    } else {
        Tier::Month.start(month - 1)
    };
    let first = Tier::Year.start(piece.0);
    if last <= first || Tier::Month.end(last) >= today {
        return None;
    }
    let run = Term {
        tier: Tier::Month,
        first,
        last,
        sign: 1,
    };
    let rest = clip((Tier::Month.end(last) + 1, piece.1), piece);
    let rest_cost = rest.map_or(0, |r| {
        cost(&cover_tier(Tier::Month, r, data, costs), data, costs)
    });
    Some((run, rest, 1 + rest_cost))
}

/// Covers `span` with ISO weeks and runs of days: a week inside the span is its row, and a week
/// the span cuts is its days, or its row minus the days outside when that reads fewer rows (a
/// week cut to 5 days reads 3 rows where its days are 5).
fn cover_days(span: Span, data: Span, costs: Costs) -> Vec<Term> {
    let mut out = Vec::new();
    let mut start = Tier::Week.start(span.0);
    while start <= span.1 {
        let week = (start, start + 6);
        let Some(piece) = clip(week, span) else {
            break;
        };
        let whole_week = Term {
            tier: Tier::Week,
            first: start,
            last: start,
            sign: 1,
        };
        let direct = vec![day_run(piece.0, piece.1)];
        let terms = match clip(week, data) {
            // No data in the week (as far as `data` knows): its days, which read nothing.
            None => direct,
            Some(full) if full == piece => vec![whole_week],
            Some(_) => {
                let mut whole = vec![whole_week];
                if piece.0 > week.0 {
                    whole.push(Term {
                        sign: -1,
                        ..day_run(week.0, piece.0 - 1)
                    });
                }
                if piece.1 < week.1 {
                    whole.push(Term {
                        sign: -1,
                        ..day_run(piece.1 + 1, week.1)
                    });
                }
                if cost(&whole, data, costs) < cost(&direct, data, costs) {
                    whole
                } else {
                    direct
                }
            }
        };
        out.extend(terms);
        start += 7;
    }
    out
}

fn day_run(first: i64, last: i64) -> Term {
    Term {
        tier: Tier::Day,
        first,
        last,
        sign: 1,
    }
}

/// How many period rows per key the cover of `range` reads (for tests and benchmarks).
pub fn rows_read(range: Span, data: Span) -> i64 {
    cost(&cover(range, data, Costs::Rows), data, Costs::Rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> i64 {
        day_number(NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap())
    }

    /// Sum over the cover of `range`, with `per_day[i]` the value of day `base + i`, each tier's
    /// row computed as the sum of its days: must equal the direct sum.
    fn check(range: Span, data: Span, value: impl Fn(i64) -> i64) -> Result<(), String> {
        check_with(range, data, Costs::Rows, value)
    }

    fn check_with(
        range: Span,
        data: Span,
        costs: Costs,
        value: impl Fn(i64) -> i64,
    ) -> Result<(), String> {
        let terms = cover(range, data, costs);
        let row = |tier: Tier, start: i64| -> i64 {
            (start..=tier.end(start))
                .filter(|day| clip((*day, *day), data).is_some())
                .map(&value)
                .sum()
        };
        let got: i64 = terms
            .iter()
            .map(|t| {
                let rows: i64 = starts(t).map(|s| row(t.tier, s)).sum();
                t.sign * rows
            })
            .sum();
        let want: i64 = clip(range, data).map_or(0, |(a, b)| (a..=b).map(&value).sum());
        if got == want {
            Ok(())
        } else {
            Err(format!(
                "{range:?} in {data:?}: {got} != {want} via {terms:?}"
            ))
        }
    }

    #[test]
    fn periods() {
        assert_eq!(Tier::Week.start(d("2026-12-02")), d("2026-11-30"));
        assert_eq!(Tier::Week.start(d("2026-11-30")), d("2026-11-30"));
        assert_eq!(Tier::Month.start(d("2026-12-02")), d("2026-12-01"));
        assert_eq!(Tier::Month.end(d("2026-02-01")), d("2026-02-28"));
        assert_eq!(Tier::Month.end(d("2024-02-01")), d("2024-02-29"));
        assert_eq!(Tier::Month.end(d("2026-12-01")), d("2026-12-31"));
        assert_eq!(Tier::Year.start(d("2026-07-14")), d("2026-01-01"));
        assert_eq!(Tier::Year.end(d("2024-01-01")), d("2024-12-31"));
        assert_eq!(Tier::Week.start(0), -3);
    }

    #[test]
    fn common_ranges_read_few_rows() {
        // 13 months of data, as the demo has: 2025-11-01 .. 2026-12-01 (today).
        let data = (d("2025-11-01"), d("2026-12-01"));
        let rows = |a: &str, b: &str| rows_read((d(a), d(b)), data);
        assert_eq!(rows("2026-10-01", "2026-10-31"), 1, "a calendar month");
        assert_eq!(
            rows("2026-12-01", "2026-12-01"),
            1,
            "today: this month's row"
        );
        assert_eq!(rows("2026-11-01", "2026-12-01"), 2, "this and last month");
        assert_eq!(rows("2026-01-01", "2026-12-01"), 1, "year to date");
        assert_eq!(rows("2025-12-02", "2026-12-01"), 3, "365 days to today");
        assert_eq!(
            rows("2025-12-01", "2026-12-01"),
            2,
            "last 12 months and this one"
        );
        assert_eq!(rows("2026-11-02", "2026-12-01"), 3, "last 30 days");
        assert_eq!(rows("2026-10-01", "2026-12-01"), 3, "quarter to date");
        assert_eq!(
            rows("2026-03-10", "2026-04-20"),
            10,
            "an arbitrary past range"
        );
        assert_eq!(rows("2025-11-17", "2026-11-16"), 8, "an arbitrary year");
        // Weeks the range cuts: Mon 2026-11-02 .. Fri 11-06 is the week minus its weekend.
        assert_eq!(rows("2026-11-02", "2026-11-06"), 3, "a working week");
        assert_eq!(
            rows("2026-11-03", "2026-11-05"),
            3,
            "three days: their own rows"
        );
        // Two cut months: the week across their boundary (Oct 26 .. Nov 1) is one row.
        assert_eq!(
            rows("2026-10-07", "2026-11-06"),
            9,
            "31 days ending on the 6th"
        );
        assert_eq!(
            rows("2025-11-07", "2026-11-06"),
            14,
            "365 days ending on the 6th"
        );
        assert_eq!(rows("2020-01-01", "2020-12-31"), 0, "no data");
    }

    #[test]
    fn covers_are_exact_on_examples() {
        let data = (d("2025-11-01"), d("2026-12-01"));
        for (a, b) in [
            ("2026-10-01", "2026-10-31"),
            ("2025-12-02", "2026-12-01"),
            ("2026-03-10", "2026-04-20"),
            ("2026-02-27", "2026-03-02"),
            ("2025-01-01", "2027-12-31"),
        ] {
            check((d(a), d(b)), data, |day| day % 97 + 1).unwrap();
        }
    }

    #[test]
    fn sealed_covers_avoid_open_periods() {
        // Today 2026-12-07; data from 2025-12-01 (the benchmark's shape).
        let today = d("2026-12-07");
        let data = (d("2025-12-01"), today);
        let sealed = Costs::Sealed { today };
        let cover_of = |a: &str, b: &str| cover((d(a), d(b)), data, sealed);
        // The 365 days to the 6th of last month: this year's months to October as one prefix,
        // and nothing that has not ended.
        let terms = cover_of("2025-11-07", "2026-11-06");
        assert!(
            terms.contains(&Term {
                tier: Tier::Month,
                first: d("2026-01-01"),
                last: d("2026-10-01"),
                sign: 1
            }),
            "{terms:?}"
        );
        for t in &terms {
            assert!(
                t.tier.end(t.last) < today,
                "{t:?} has not ended in {terms:?}"
            );
        }
        assert!(cost(&terms, data, sealed) <= 6, "{terms:?}");
        // Where the rows-counting cover is as good, the same cover.
        for (a, b) in [
            ("2026-10-01", "2026-10-31"),
            ("2025-12-08", "2026-12-07"),
            ("2026-11-07", "2026-12-07"),
        ] {
            assert_eq!(
                cover((d(a), d(b)), data, sealed),
                cover((d(a), d(b)), data, Costs::Rows),
                "{a}..{b}"
            );
        }
        // The year to yesterday: January to November as one prefix, then December's days;
        // nothing open. No prefix where rows are counted.
        let terms = cover_of("2026-01-01", "2026-12-06");
        assert_eq!(
            terms.iter().filter(|t| is_month_run(t)).count(),
            1,
            "{terms:?}"
        );
        assert!(
            terms.iter().all(|t| t.tier.end(t.last) < today),
            "{terms:?}"
        );
        assert!(cover((d("2025-11-07"), d("2026-11-06")), data, Costs::Rows)
            .iter()
            .all(|t| !is_month_run(t)));
    }

    proptest! {
        #[test]
        fn sealed_covers_are_exact(
            a in 0i64..1500, len in 0i64..900,
            lo in 0i64..1500, span in 0i64..1200,
            today in 0i64..3000, seed in 1i64..1000,
        ) {
            let base = d("2024-01-01");
            let range = (base + a, base + a + len);
            let data = (base + lo, base + lo + span);
            let costs = Costs::Sealed { today: base + today };
            let value = |day: i64| (day * seed) % 1009 - 500;
            prop_assert!(check_with(range, data, costs, value).is_ok(),
                "{}", check_with(range, data, costs, value).unwrap_err());
        }

        #[test]
        fn covers_are_exact(
            a in 0i64..1500, len in 0i64..900,
            lo in 0i64..1500, span in 0i64..1200,
            seed in 1i64..1000,
        ) {
            let base = d("2024-01-01");
            let range = (base + a, base + a + len);
            let data = (base + lo, base + lo + span);
            prop_assert!(check(range, data, |day| (day * seed) % 1009 - 500).is_ok(),
                "{}", check(range, data, |day| (day * seed) % 1009 - 500).unwrap_err());
        }

        #[test]
        fn reads_stay_bounded(a in 0i64..1500, len in 0i64..3660) {
            let base = d("2020-01-01");
            let data = (base, base + 4000);
            let rows = rows_read((base + a, base + a + len), data);
            // At each end a cut month (its weeks, each whole or cut to at most 4 rows) and a few
            // months; the years between. 34 is the most found trying every start with lengths
            // in steps of 7 days, and every length with starts in steps of 3.
            prop_assert!(rows <= 34, "{rows} rows for {len} days");
        }
    }
}
