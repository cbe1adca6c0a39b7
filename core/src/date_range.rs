//! Date ranges, as the API understands them.
//!
//! A range is whole days: `startDate` and `endDate` are both included, so the half-open instant
//! range is `[start 00:00, end + 1 day 00:00)`. The API accepts `YYYY-MM-DD` and ISO-8601
//! date-times (`2026-03-01T17:45:00Z`, `2026-03-01 17:45`, with or without an offset) and uses
//! only the date part: billing has no hourly granularity, so a time never narrows a range.
//!
//! ```
//! use evo_billing_core::date_range::{DateRange, parse_api_date};
//! let start = parse_api_date("2026-03-01T17:45:00Z").unwrap();
//! let end = parse_api_date("2026-03-31").unwrap();
//! let range = DateRange::new(start, end).unwrap();
//! assert_eq!(range.days(), 31);
//! assert!(DateRange::new(end, start).is_err()); // a range cannot be inverted
//! ```

use std::fmt;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// Why a date or a range was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error(
        "'{0}' is not a date: use YYYY-MM-DD or an ISO-8601 date-time such as 2026-03-01T17:45:00Z"
    )]
    Syntax(String),
    #[error("the end date {} is before the start date {}", ymd(*.end), ymd(*.start))]
    Inverted { start: NaiveDate, end: NaiveDate },
    #[error("the range covers {days} days; at most {max} days can be asked for at once")]
    TooLong { days: i64, max: i64 },
}

/// Parses an API date: `YYYY-MM-DD`, optionally followed by `T` or a space and a time
/// (`HH:MM`, `HH:MM:SS`, fractional seconds) and an optional `Z` or `±HH:MM`/`±HHMM` offset.
/// Only the date part is returned; the rest is checked for syntax so garbage is not accepted.
pub fn parse_api_date(text: &str) -> Result<NaiveDate, DateError> {
    let err = || DateError::Syntax(text.chars().take(64).collect());
    let s = text.trim();
    let bytes = s.as_bytes();
    if bytes.len() < 10 || !s.is_char_boundary(10) {
        return Err(err());
    }
    let date_part = &s[..10];
    let shape_ok = date_part.bytes().enumerate().all(|(i, b)| match i {
        4 | 7 => b == b'-',
        _ => b.is_ascii_digit(),
    });
    if !shape_ok {
        return Err(err());
    }
    let num = |r: std::ops::Range<usize>| {
        bytes[r]
            .iter()
            .fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0'))
    };
    let date = NaiveDate::from_ymd_opt(num(0..4) as i32, num(5..7), num(8..10)).ok_or_else(err)?;
    let rest = &s[10..];
    if rest.is_empty() {
        return Ok(date);
    }
    let time = rest
        .strip_prefix('T')
        .or_else(|| rest.strip_prefix('t'))
        .or_else(|| rest.strip_prefix(' '))
        .ok_or_else(err)?;
    if valid_time_and_offset(time) {
        Ok(date)
    } else {
        Err(err())
    }
}

/// `HH:MM[:SS[.fraction]][Z|±HH[:]MM]`.
fn valid_time_and_offset(s: &str) -> bool {
    let b = s.as_bytes();
    let two = |i: usize, max: u8| -> bool {
        b.len() >= i + 2
            && b[i].is_ascii_digit()
            && b[i + 1].is_ascii_digit()
            && (b[i] - b'0') * 10 + (b[i + 1] - b'0') <= max
    };
    if !(two(0, 23) && b.get(2) == Some(&b':') && two(3, 59)) {
        return false;
    }
    let mut i = 5;
    if b.get(i) == Some(&b':') {
        if !two(i + 1, 60) {
            return false;
        }
        i += 3;
        if b.get(i) == Some(&b'.') || b.get(i) == Some(&b',') {
            i += 1;
            let start = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == start || i - start > 9 {
                return false;
            }
        }
    }
    match b.get(i) {
        None => true,
        Some(b'Z') | Some(b'z') => i + 1 == b.len(),
        Some(b'+') | Some(b'-') => {
            let off = &b[i + 1..];
            match off.len() {
                2 => two(i + 1, 14),
                4 => two(i + 1, 14) && two(i + 3, 59),
                5 => two(i + 1, 14) && off[2] == b':' && two(i + 4, 59),
                _ => false,
            }
        }
        Some(_) => false,
    }
}

/// An inclusive range of whole days whose start is never after its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateRange {
    start: NaiveDate,
    end: NaiveDate,
}

impl DateRange {
    /// The range `start..=end`; an error if `end < start`.
    pub fn new(start: NaiveDate, end: NaiveDate) -> Result<DateRange, DateError> {
        if end < start {
            return Err(DateError::Inverted { start, end });
        }
        Ok(DateRange { start, end })
    }

    /// Parses two API dates (see [`parse_api_date`]).
    pub fn parse(start: &str, end: &str) -> Result<DateRange, DateError> {
        DateRange::new(parse_api_date(start)?, parse_api_date(end)?)
    }

    /// One day.
    pub fn day(day: NaiveDate) -> DateRange {
        DateRange {
            start: day,
            end: day,
        }
    }

    pub fn start(&self) -> NaiveDate {
        self.start
    }

    /// The last day, included.
    pub fn end(&self) -> NaiveDate {
        self.end
    }

    /// The first day after the range: the exclusive upper bound for timestamps.
    pub fn end_exclusive(&self) -> NaiveDate {
        self.end.succ_opt().unwrap_or(self.end)
    }

    /// Number of days, both ends included (≥ 1).
    pub fn days(&self) -> i64 {
        (self.end - self.start).num_days() + 1
    }

    /// Refuses a range longer than `max_days`.
    pub fn check_max_days(self, max_days: i64) -> Result<DateRange, DateError> {
        let days = self.days();
        if days > max_days {
            Err(DateError::TooLong {
                days,
                max: max_days,
            })
        } else {
            Ok(self)
        }
    }

    pub fn contains(&self, day: NaiveDate) -> bool {
        self.start <= day && day <= self.end
    }

    /// Every day of the range, in order.
    pub fn iter_days(&self) -> impl Iterator<Item = NaiveDate> {
        let end = self.end;
        self.start.iter_days().take_while(move |d| *d <= end)
    }

    /// The range cut into periods (days, ISO weeks starting Monday, or calendar months); the first
    /// and last pieces are clipped to the range.
    pub fn periods(&self, granularity: Granularity) -> Vec<DateRange> {
        let mut out = Vec::new();
        let mut cursor = self.start;
        loop {
            let period_end = granularity.period_of(cursor).end.min(self.end);
            out.push(DateRange {
                start: cursor,
                end: period_end,
            });
            match period_end.succ_opt() {
                Some(next) if next <= self.end => cursor = next,
                _ => break,
            }
        }
        out
    }

    /// How many periods [`DateRange::periods`] would return, without building them.
    pub fn period_count(&self, granularity: Granularity) -> i64 {
        let week = |d: NaiveDate| i64::from(d.num_days_from_ce() - 1).div_euclid(7);
        let month = |d: NaiveDate| i64::from(d.year()) * 12 + i64::from(d.month0());
        match granularity {
            Granularity::All => 1,
            Granularity::Daily => self.days(),
            Granularity::Weekly => week(self.end) - week(self.start) + 1,
            Granularity::Monthly => month(self.end) - month(self.start) + 1,
        }
    }

    /// The calendar months the range touches, as `(year, month)`.
    pub fn months(&self) -> Vec<(i32, u32)> {
        self.periods(Granularity::Monthly)
            .iter()
            .map(|p| (p.start.year(), p.start.month()))
            .collect()
    }

    /// The range of the same length that ends the day before this one starts (for "compared with
    /// the previous period").
    pub fn previous(&self) -> DateRange {
        let len = Duration::days(self.days());
        let start = self.start.checked_sub_signed(len).unwrap_or(NaiveDate::MIN);
        let end = self.start.pred_opt().unwrap_or(NaiveDate::MIN).max(start);
        DateRange { start, end }
    }

    /// Wire form of the start: `YYYY-MM-DD`.
    pub fn start_text(&self) -> String {
        ymd(self.start)
    }

    /// Wire form of the end: `YYYY-MM-DD`.
    pub fn end_text(&self) -> String {
        ymd(self.end)
    }
}

impl fmt::Display for DateRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start_text(), self.end_text())
    }
}

/// How usage is split over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub enum Granularity {
    /// The whole range as one period (the seed's shape).
    #[default]
    All,
    Daily,
    Weekly,
    Monthly,
}

impl Granularity {
    /// The whole period (day, ISO week Monday–Sunday, calendar month) that contains `day`.
    /// For `All` this is the single day itself; callers treat `All` as "no split".
    pub fn period_of(self, day: NaiveDate) -> DateRange {
        match self {
            Granularity::All | Granularity::Daily => DateRange::day(day),
            Granularity::Weekly => {
                let monday = day - Duration::days(day.weekday().num_days_from_monday() as i64);
                let sunday = monday + Duration::days(6);
                DateRange {
                    start: monday,
                    end: sunday,
                }
            }
            Granularity::Monthly => {
                let first = day.with_day(1).unwrap_or(day);
                DateRange {
                    start: first,
                    end: last_day_of_month(first),
                }
            }
        }
    }

    /// Parses `daily`, `weekly`, `monthly`, `all` (any case); `None` for anything else.
    pub fn parse(text: &str) -> Option<Granularity> {
        match text.trim().to_ascii_lowercase().as_str() {
            "" | "all" | "none" | "total" => Some(Granularity::All),
            "daily" | "day" => Some(Granularity::Daily),
            "weekly" | "week" => Some(Granularity::Weekly),
            "monthly" | "month" => Some(Granularity::Monthly),
            _ => None,
        }
    }
}

fn last_day_of_month(first: NaiveDate) -> NaiveDate {
    let (y, m) = if first.month() == 12 {
        (first.year() + 1, 1)
    } else {
        (first.year(), first.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
        .and_then(|d| d.pred_opt())
        .unwrap_or(first)
}

/// The ranges a dashboard offers, computed from a given "today" (the caller's clock and time zone
/// decide what today is; this module never reads a clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub enum Preset {
    Today,
    Yesterday,
    Last7Days,
    Last30Days,
    ThisMonth,
    LastMonth,
    QuarterToDate,
    YearToDate,
    Last12Months,
}

impl Preset {
    pub const ALL: [Preset; 9] = [
        Preset::Today,
        Preset::Yesterday,
        Preset::Last7Days,
        Preset::Last30Days,
        Preset::ThisMonth,
        Preset::LastMonth,
        Preset::QuarterToDate,
        Preset::YearToDate,
        Preset::Last12Months,
    ];

    /// The range for this preset, given today's date. "Last N days" includes today.
    pub fn range(self, today: NaiveDate) -> DateRange {
        let back = |n: i64| today.checked_sub_signed(Duration::days(n)).unwrap_or(today);
        let (start, end) = match self {
            Preset::Today => (today, today),
            Preset::Yesterday => (back(1), back(1)),
            Preset::Last7Days => (back(6), today),
            Preset::Last30Days => (back(29), today),
            Preset::ThisMonth => (today.with_day(1).unwrap_or(today), today),
            Preset::LastMonth => {
                let first_this = today.with_day(1).unwrap_or(today);
                let last_prev = first_this.pred_opt().unwrap_or(first_this);
                (last_prev.with_day(1).unwrap_or(last_prev), last_prev)
            }
            Preset::QuarterToDate => {
                let q_month = (today.month0() / 3) * 3 + 1;
                (
                    NaiveDate::from_ymd_opt(today.year(), q_month, 1).unwrap_or(today),
                    today,
                )
            }
            Preset::YearToDate => (
                NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today),
                today,
            ),
            Preset::Last12Months => {
                // The first day of the month eleven months before this one.
                let months = today.year() * 12 + today.month0() as i32 - 11;
                let start = NaiveDate::from_ymd_opt(
                    months.div_euclid(12),
                    months.rem_euclid(12) as u32 + 1,
                    1,
                )
                .unwrap_or(today);
                (start, today)
            }
        };
        DateRange { start, end }
    }

    /// The wire name (`last7Days`).
    pub fn name(self) -> &'static str {
        match self {
            Preset::Today => "today",
            Preset::Yesterday => "yesterday",
            Preset::Last7Days => "last7Days",
            Preset::Last30Days => "last30Days",
            Preset::ThisMonth => "thisMonth",
            Preset::LastMonth => "lastMonth",
            Preset::QuarterToDate => "quarterToDate",
            Preset::YearToDate => "yearToDate",
            Preset::Last12Months => "last12Months",
        }
    }

    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            Preset::Today => "Today",
            Preset::Yesterday => "Yesterday",
            Preset::Last7Days => "Last 7 days",
            Preset::Last30Days => "Last 30 days",
            Preset::ThisMonth => "This month",
            Preset::LastMonth => "Last month",
            Preset::QuarterToDate => "Quarter to date",
            Preset::YearToDate => "Year to date",
            Preset::Last12Months => "Last 12 months",
        }
    }

    /// Parses a wire name, case-insensitively.
    pub fn parse(text: &str) -> Option<Preset> {
        Preset::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(text.trim()))
    }

    /// Which preset, if any, produces exactly `range` for `today` (so a URL's dates can show the
    /// preset's name; anything else is a custom range).
    pub fn matching(range: DateRange, today: NaiveDate) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.range(today) == range)
    }
}

/// `YYYY-MM-DD`. (Written by hand: chrono's strftime machinery costs the WebAssembly build ~20 KB.)
pub fn ymd(day: NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", day.year(), day.month(), day.day())
}

/// Monday of the ISO week of `day`.
pub fn week_start(day: NaiveDate) -> NaiveDate {
    day - Duration::days(day.weekday().num_days_from_monday() as i64)
}

/// Is `day` a weekend day (Saturday, Sunday)?
pub fn is_weekend(day: NaiveDate) -> bool {
    matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

#[cfg(test)]
mod tests {
    use super::*;
    // On wasm32 the same tests run under wasm-bindgen-test (in Node and in headless Chromium).
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn d(s: &str) -> NaiveDate {
        parse_api_date(s).unwrap()
    }

    #[test]
    fn accepts_the_documented_forms() {
        for ok in [
            "2026-03-01",
            "2026-03-01T17:45:00Z",
            "2026-03-01T17:45:00",
            "2026-03-01 17:45",
            "2026-03-01T17:45:00.123Z",
            "2026-03-01T23:59:59+05:30",
            "2026-03-01T00:00:00-0800",
            "2026-03-01t00:00z",
            " 2026-03-01 ",
        ] {
            assert_eq!(parse_api_date(ok).unwrap(), d("2026-03-01"), "{ok}");
        }
    }

    #[test]
    fn refuses_everything_else() {
        for bad in [
            "",
            "2026-3-1",
            "2026/03/01",
            "01-03-2026",
            "2026-02-30",
            "2026-13-01",
            "2026-03-01T",
            "2026-03-01Tnoon",
            "2026-03-01T25:00",
            "2026-03-01T10:00:00+",
            "2026-03-01X10:00",
            "2026-03-01T10:00:00Zjunk",
            "２０２６-03-01",
            "2026-03-01T10:00:00.Z",
        ] {
            assert!(parse_api_date(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn a_time_never_narrows_the_range() {
        let r = DateRange::parse("2026-03-01T23:59:00Z", "2026-03-01T00:01:00Z").unwrap();
        assert_eq!(r.days(), 1);
        assert_eq!(r.end_exclusive(), d("2026-03-02"));
    }

    #[test]
    fn cannot_be_inverted() {
        assert!(matches!(
            DateRange::parse("2026-03-02", "2026-03-01"),
            Err(DateError::Inverted { .. })
        ));
    }

    #[test]
    fn max_span() {
        let r = DateRange::parse("2025-01-01", "2026-02-04").unwrap();
        assert_eq!(r.days(), 400);
        assert!(r.check_max_days(400).is_ok());
        let r = DateRange::parse("2025-01-01", "2026-02-05").unwrap();
        assert_eq!(
            r.check_max_days(400),
            Err(DateError::TooLong {
                days: 401,
                max: 400
            })
        );
    }

    #[test]
    fn periods_are_clipped_and_cover_the_range() {
        let r = DateRange::parse("2026-01-30", "2026-03-02").unwrap();
        let months = r.periods(Granularity::Monthly);
        assert_eq!(months.len(), 3);
        assert_eq!(
            months[0],
            DateRange::parse("2026-01-30", "2026-01-31").unwrap()
        );
        assert_eq!(
            months[1],
            DateRange::parse("2026-02-01", "2026-02-28").unwrap()
        );
        assert_eq!(
            months[2],
            DateRange::parse("2026-03-01", "2026-03-02").unwrap()
        );
        assert_eq!(r.months(), vec![(2026, 1), (2026, 2), (2026, 3)]);
        let weeks = r.periods(Granularity::Weekly);
        // 2026-01-30 is a Friday; 2026-03-02 a Monday.
        assert_eq!(weeks.first().unwrap().end(), d("2026-02-01"));
        assert_eq!(weeks.last().unwrap().start(), d("2026-03-02"));
        let total: i64 = weeks.iter().map(|w| w.days()).sum();
        assert_eq!(total, r.days());
        assert_eq!(r.periods(Granularity::Daily).len() as i64, r.days());
        for g in [
            Granularity::All,
            Granularity::Daily,
            Granularity::Weekly,
            Granularity::Monthly,
        ] {
            let n = if g == Granularity::All {
                1
            } else {
                r.periods(g).len() as i64
            };
            assert_eq!(r.period_count(g), n, "{g:?}");
        }
        assert_eq!(r.iter_days().count() as i64, r.days());
    }

    #[test]
    fn presets() {
        let today = d("2026-11-22"); // a Sunday
        let p = |p: Preset| {
            let r = p.range(today);
            (r.start_text(), r.end_text())
        };
        assert_eq!(p(Preset::Today), ("2026-11-22".into(), "2026-11-22".into()));
        assert_eq!(
            p(Preset::Yesterday),
            ("2026-11-21".into(), "2026-11-21".into())
        );
        assert_eq!(
            p(Preset::Last7Days),
            ("2026-11-16".into(), "2026-11-22".into())
        );
        assert_eq!(
            p(Preset::Last30Days),
            ("2026-10-24".into(), "2026-11-22".into())
        );
        assert_eq!(
            p(Preset::ThisMonth),
            ("2026-11-01".into(), "2026-11-22".into())
        );
        assert_eq!(
            p(Preset::LastMonth),
            ("2026-10-01".into(), "2026-10-31".into())
        );
        assert_eq!(
            p(Preset::QuarterToDate),
            ("2026-10-01".into(), "2026-11-22".into())
        );
        assert_eq!(
            p(Preset::YearToDate),
            ("2026-01-01".into(), "2026-11-22".into())
        );
        assert_eq!(
            p(Preset::Last12Months),
            ("2025-12-01".into(), "2026-11-22".into())
        );
        // Edges: January, March 31st, leap years.
        assert_eq!(
            Preset::LastMonth.range(d("2026-01-15")),
            DateRange::parse("2025-12-01", "2025-12-31").unwrap()
        );
        assert_eq!(
            Preset::LastMonth.range(d("2024-03-31")),
            DateRange::parse("2024-02-01", "2024-02-29").unwrap()
        );
        assert_eq!(
            Preset::Last12Months.range(d("2026-12-05")).start(),
            d("2026-01-01")
        );
        assert_eq!(Preset::Last7Days.range(today).days(), 7);
        assert_eq!(Preset::Last30Days.range(today).days(), 30);
        assert_eq!(Preset::parse("LAST7DAYS"), Some(Preset::Last7Days));
        assert_eq!(
            Preset::matching(Preset::ThisMonth.range(today), today),
            Some(Preset::ThisMonth)
        );
    }

    #[test]
    fn previous_period() {
        let r = DateRange::parse("2026-03-01", "2026-03-31").unwrap();
        assert_eq!(
            r.previous(),
            DateRange::parse("2026-01-29", "2026-02-28").unwrap()
        );
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Every valid date, with any valid time and offset, parses to itself.
        #[test]
        fn date_times_parse_to_their_date(
            days in 0i64..(365 * 400),
            h in 0u32..24, m in 0u32..60, s in 0u32..60,
            sep in prop::sample::select(vec!["T", " "]),
            tz in prop::sample::select(vec!["", "Z", "+01:00", "-0530", "+14"]),
        ) {
            let date = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() + Duration::days(days);
            let text = format!("{}{sep}{h:02}:{m:02}:{s:02}{tz}", ymd(date));
            prop_assert_eq!(parse_api_date(&text).unwrap(), date);
            prop_assert_eq!(parse_api_date(&ymd(date)).unwrap(), date);
        }

        /// Arbitrary text never panics.
        #[test]
        fn hostile_text(s in "\\PC{0,30}") {
            let _ = parse_api_date(&s);
        }

        /// Ranges: never inverted, days add up, periods tile the range.
        #[test]
        fn ranges_are_consistent(a in 0i64..3000, b in 0i64..3000) {
            let base = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
            let (x, y) = (base + Duration::days(a), base + Duration::days(b));
            match DateRange::new(x, y) {
                Ok(r) => {
                    prop_assert!(x <= y);
                    prop_assert_eq!(r.days(), b - a + 1);
                    for g in [Granularity::Daily, Granularity::Weekly, Granularity::Monthly] {
                        let ps = r.periods(g);
                        prop_assert_eq!(ps.len() as i64, r.period_count(g));
                        prop_assert_eq!(ps.first().unwrap().start(), x);
                        prop_assert_eq!(ps.last().unwrap().end(), y);
                        prop_assert_eq!(ps.iter().map(|p| p.days()).sum::<i64>(), r.days());
                        for w in ps.windows(2) {
                            prop_assert_eq!(w[0].end().succ_opt().unwrap(), w[1].start());
                        }
                    }
                }
                Err(_) => prop_assert!(y < x),
            }
        }
    }
}
