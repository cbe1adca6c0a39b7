//! The month-end projection shown when the range includes today: the month's cost so far,
//! scaled to the whole month at the same rate per second elapsed. An estimate, labelled so; the
//! arithmetic is core's exact [`Micros::mul_div`].

use chrono::NaiveDate;
use evo_billing_core::date_range::{DateRange, Granularity};
use evo_billing_core::money::Micros;

const DAY_SECS: i64 = 86_400;

/// A month-end estimate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Projection {
    /// The calendar month of today.
    pub month: DateRange,
    /// Seconds of the month elapsed (UTC), today's included.
    pub elapsed_secs: i64,
    /// What the month has cost so far.
    pub month_to_date: Micros,
    /// The estimate for the whole month.
    pub projected: Micros,
}

impl Projection {
    /// Days of the month elapsed, today counted as begun.
    pub fn elapsed_days(&self) -> i64 {
        (self.elapsed_secs + DAY_SECS - 1) / DAY_SECS
    }
}

/// Does the range call for a projection? Only when it includes today.
pub fn applies(range: DateRange, today: NaiveDate) -> bool {
    range.contains(today)
}

/// Projects `month_to_date` (the cost of the 1st of today's month through now) to the month's
/// end. `secs_into_today` is the time of day in UTC (0..86,400); the first hour of a month is
/// counted as one hour, so a projection never divides by nothing.
pub fn month_end(today: NaiveDate, secs_into_today: i64, month_to_date: Micros) -> Projection {
    let month = Granularity::Monthly.period_of(today);
    let days_before_today = DateRange::new(month.start(), today)
        .map(|r| r.days() - 1)
        .unwrap_or(0);
    let elapsed_secs = days_before_today * DAY_SECS + secs_into_today.clamp(3_600, DAY_SECS);
    let projected = month_to_date
        .mul_div(month.days() * DAY_SECS, elapsed_secs)
        .unwrap_or(month_to_date);
    Projection {
        month,
        elapsed_secs,
        month_to_date,
        projected,
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
    fn scales_to_the_whole_month() {
        // 10 whole days of a 30-day month cost 100 → 300.
        let p = month_end(day("2026-11-11"), 0, m("100"));
        assert_eq!(p.month.days(), 30);
        // At 00:00 the first hour of the 11th counts: 10 days + 1 hour elapsed.
        assert_eq!(p.elapsed_secs, 10 * 86_400 + 3_600);
        let p = month_end(day("2026-11-10"), 86_400, m("100"));
        assert_eq!(p.elapsed_days(), 10);
        assert_eq!(p.projected, m("300"));
        // Half-way through the last day of a 31-day month: 31/30.5 of the cost so far.
        let p = month_end(day("2026-12-31"), 43_200, m("61"));
        assert_eq!(p.projected, m("62"));
        // Exact to the micro, rounded half away from zero.
        let p = month_end(day("2026-02-14"), 86_400, m("0.000001"));
        assert_eq!(p.projected, Micros(2));
    }

    #[test]
    fn nothing_spent_projects_nothing_and_ranges_decide() {
        assert_eq!(
            month_end(day("2026-01-01"), 10, Micros::ZERO).projected,
            Micros::ZERO
        );
        let r = DateRange::parse("2026-11-01", "2026-11-30").unwrap();
        assert!(applies(r, day("2026-11-30")));
        assert!(!applies(r, day("2026-12-01")));
    }
}
