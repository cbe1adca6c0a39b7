//! The month-end estimate shown when the range includes today: what the month has cost so far,
//! plus the recent daily rate for the time left. The rate is the average of the last 7 full days
//! of usage-driven cost (monthly charges such as number rentals, billed once at the start of the
//! month, are left out of it, so the estimate does not multiply them). An estimate, labelled so;
//! the arithmetic is core's exact [`Micros::mul_div`].

use chrono::NaiveDate;
use evo_billing_core::date_range::{DateRange, Granularity, Preset};
use evo_billing_core::money::Micros;

const DAY_SECS: i64 = 86_400;

/// A month-end estimate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Projection {
    /// The calendar month of today.
    pub month: DateRange,
    /// Seconds of the month elapsed (UTC).
    pub elapsed_secs: i64,
    /// What the month has cost so far.
    pub month_to_date: Micros,
    /// The recent cost per day the rest of the month is estimated at.
    pub daily_rate: Micros,
    /// The estimate for the whole month.
    pub projected: Micros,
}

impl Projection {
    /// Whole days of the month left after today.
    pub fn days_left(&self) -> i64 {
        (self.month.days() * DAY_SECS - self.elapsed_secs) / DAY_SECS
    }

    /// Whole hours left besides [`Self::days_left`] (the rest of today is in the estimate).
    pub fn hours_left(&self) -> i64 {
        (self.month.days() * DAY_SECS - self.elapsed_secs) % DAY_SECS / 3_600
    }
}

/// Does the range call for an estimate? Only when it includes today.
pub fn applies(range: DateRange, today: NaiveDate) -> bool {
    range.contains(today)
}

/// The days the daily rate is taken from: the 7 full days before today.
pub fn rate_window(today: NaiveDate) -> DateRange {
    Preset::Last7Days.range(Preset::Yesterday.range(today).end())
}

/// The estimate: `month_to_date` plus `window_total / window_days` per day for the rest of the
/// month (`secs_into_today`: the UTC time of day, 0..86,400).
pub fn month_end(
    today: NaiveDate,
    secs_into_today: i64,
    month_to_date: Micros,
    window_total: Micros,
    window_days: i64,
) -> Projection {
    let month = Granularity::Monthly.period_of(today);
    let days_before_today = DateRange::new(month.start(), today)
        .map(|r| r.days() - 1)
        .unwrap_or(0);
    let elapsed_secs = days_before_today * DAY_SECS + secs_into_today.clamp(0, DAY_SECS);
    let remaining = (month.days() * DAY_SECS - elapsed_secs).max(0);
    let days = window_days.max(1);
    let daily_rate = window_total.mul_div(1, days).unwrap_or_default();
    let rest = window_total
        .mul_div(remaining, days * DAY_SECS)
        .unwrap_or_default();
    Projection {
        month,
        elapsed_secs,
        month_to_date,
        daily_rate,
        projected: month_to_date.saturating_add(rest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn day(s: &str) -> NaiveDate {
        evo_billing_core::date_range::parse_api_date(s).unwrap()
    }

    fn m(s: &str) -> Micros {
        s.parse().unwrap()
    }

    #[test]
    fn month_so_far_plus_the_recent_rate() {
        // End of 10 Nov (30-day month): 20 days left at 70 / 7 = 10 a day → 100 + 200.
        let p = month_end(day("2026-11-10"), 86_400, m("100"), m("70"), 7);
        assert_eq!(p.month.days(), 30);
        assert_eq!(p.days_left(), 20);
        assert_eq!(p.daily_rate, m("10"));
        assert_eq!(p.projected, m("300"));
        // Noon on the last day of a 31-day month: half a day left.
        let p = month_end(day("2026-12-31"), 43_200, m("61"), m("14"), 7);
        assert_eq!(p.projected, m("62"));
        assert_eq!((p.days_left(), p.hours_left()), (0, 12));
        // The first hour of a month: a lump charge is counted once, not 31 × 24 times.
        let p = month_end(day("2026-12-01"), 3_600, m("60"), Micros::ZERO, 7);
        assert_eq!(p.projected, m("60"));
        // Exact to the micro, rounded half away from zero: 1 µ a week over 30 days left.
        let p = month_end(day("2026-11-01"), 0, Micros::ZERO, Micros(1), 7);
        assert_eq!(p.projected, Micros(4));
    }

    #[test]
    fn windows_and_ranges() {
        let w = rate_window(day("2026-12-01"));
        assert_eq!(
            (w.start_text().as_str(), w.end_text().as_str()),
            ("2026-11-24", "2026-11-30")
        );
        assert_eq!(w.days(), 7);
        let r = DateRange::parse("2026-11-01", "2026-11-30").unwrap();
        assert!(applies(r, day("2026-11-30")));
        assert!(!applies(r, day("2026-12-01")));
        assert_eq!(
            month_end(day("2026-01-01"), 10, Micros::ZERO, Micros::ZERO, 0).projected,
            Micros::ZERO
        );
    }
}
