//! How the store writes time: Unix seconds (UTC) for instants, and day numbers (days since
//! 1970-01-01, UTC) for days, so day arithmetic is integer arithmetic on both backends.

use chrono::NaiveDate;

const EPOCH: NaiveDate = match NaiveDate::from_ymd_opt(1970, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// Days since 1970-01-01.
pub fn day_number(date: NaiveDate) -> i64 {
    (date - EPOCH).num_days()
}

/// The date of a day number.
pub fn date_of_day(day: i64) -> NaiveDate {
    EPOCH
        .checked_add_signed(chrono::Duration::days(day))
        .unwrap_or(NaiveDate::MAX)
}

/// The UTC day of a Unix time.
pub fn day_of_time(unix: i64) -> i64 {
    unix.div_euclid(86_400)
}

/// Now, in Unix seconds.
pub fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        assert_eq!(date_of_day(day_number(d)), d);
        assert_eq!(day_number(EPOCH), 0);
        assert_eq!(day_of_time(-1), -1);
        assert_eq!(day_of_time(86_399), 0);
    }
}
