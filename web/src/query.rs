//! The view's state as it lives in the URL: account, date range (a core [`Preset`] or a custom
//! pair of API dates), text filter, sort, page and granularity. A view can be bookmarked and
//! shared, and back / forward restore it, because nothing of it lives anywhere else.
//!
//! `?account=acc-northwind&range=lastMonth&q=acme&sort=cost&dir=desc&page=2&by=monthly`;
//! a custom range is `from=2026-10-01&to=2026-10-31` (checked by core's [`DateRange::parse`]).
//! Defaults are left out of the URL, so the canonical query of a fresh view is empty.

use chrono::NaiveDate;
use evo_billing_core::client::encode_component;
use evo_billing_core::date_range::{DateRange, Granularity, Preset};

/// The range shown when the URL names none.
pub const DEFAULT_PRESET: Preset = Preset::Last30Days;

/// A date range as the user chose it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeChoice {
    /// Recomputed from today's date whenever the view is shown.
    Preset(Preset),
    /// Two API dates exactly as written in the URL (checked when used, by core).
    Custom { from: String, to: String },
}

impl Default for RangeChoice {
    fn default() -> Self {
        RangeChoice::Preset(DEFAULT_PRESET)
    }
}

impl RangeChoice {
    /// The days of the range, or core's reason why the URL's dates are not a range.
    pub fn resolve(&self, today: NaiveDate) -> Result<DateRange, String> {
        match self {
            RangeChoice::Preset(p) => Ok(p.range(today)),
            RangeChoice::Custom { from, to } => {
                DateRange::parse(from, to).map_err(|e| format!("Date range: {e}."))
            }
        }
    }

    /// The preset this choice is, or produces for `today`.
    pub fn preset(&self, today: NaiveDate) -> Option<Preset> {
        match self {
            RangeChoice::Preset(p) => Some(*p),
            RangeChoice::Custom { .. } => self
                .resolve(today)
                .ok()
                .and_then(|r| Preset::matching(r, today)),
        }
    }
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    #[default]
    Ascending,
    Descending,
}

/// Everything a view shows that the user chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewState {
    /// The account; `None` = the first the user may see.
    pub account: Option<String>,
    pub range: RangeChoice,
    /// Text filter (tables).
    pub filter: String,
    /// Sort column key (each table names its own); `None` = the table's default order.
    pub sort: Option<String>,
    pub direction: Direction,
    /// Page, from 1.
    pub page: u32,
    /// Split of time series (Usage); `None` = the view's default.
    pub granularity: Option<Granularity>,
}

impl Default for ViewState {
    fn default() -> Self {
        ViewState {
            account: None,
            range: RangeChoice::default(),
            filter: String::new(),
            sort: None,
            direction: Direction::Ascending,
            page: 1,
            granularity: None,
        }
    }
}

/// Decodes one `application/x-www-form-urlencoded` component (`+` is a space; bad escapes stay
/// as written).
pub fn decode_component(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Splits a query string (with or without the leading `?`) into decoded pairs.
pub fn parse_query(search: &str) -> Vec<(String, String)> {
    search
        .trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode_component(k), decode_component(v)),
            None => (decode_component(p), String::new()),
        })
        .collect()
}

impl ViewState {
    /// Reads decoded query pairs; unknown keys and unreadable values fall back to defaults
    /// (a hand-edited URL never breaks the page).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> ViewState {
        let mut s = ViewState::default();
        let (mut from, mut to, mut preset) = (None, None, None);
        for (k, v) in pairs {
            let v = v.trim();
            match k {
                "account" if !v.is_empty() => s.account = Some(v.to_string()),
                "range" => preset = Preset::parse(v),
                "from" if !v.is_empty() => from = Some(v.to_string()),
                "to" if !v.is_empty() => to = Some(v.to_string()),
                "q" => s.filter = v.to_string(),
                "sort" if !v.is_empty() => s.sort = Some(v.to_string()),
                "dir" => {
                    s.direction = if v.eq_ignore_ascii_case("desc") {
                        Direction::Descending
                    } else {
                        Direction::Ascending
                    }
                }
                "page" => s.page = v.parse().unwrap_or(0),
                "by" => {
                    s.granularity = Granularity::parse(v).filter(|g| *g != Granularity::All);
                }
                _ => {}
            }
        }
        s.range = match (from, to, preset) {
            (Some(from), Some(to), _) => RangeChoice::Custom { from, to },
            (Some(day), None, _) | (None, Some(day), _) => RangeChoice::Custom {
                from: day.clone(),
                to: day,
            },
            (None, None, Some(p)) => RangeChoice::Preset(p),
            (None, None, None) => RangeChoice::default(),
        };
        s.page = s.page.max(1);
        s
    }

    /// Reads a query string (`?a=b&…`).
    pub fn from_query(search: &str) -> ViewState {
        let pairs = parse_query(search);
        ViewState::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// The canonical query string: `?…`, or empty when everything is a default.
    pub fn to_query(&self) -> String {
        let mut parts: Vec<(&str, String)> = Vec::new();
        if let Some(a) = &self.account {
            parts.push(("account", a.clone()));
        }
        match &self.range {
            RangeChoice::Preset(p) if *p == DEFAULT_PRESET => {}
            RangeChoice::Preset(p) => parts.push(("range", p.name().to_string())),
            RangeChoice::Custom { from, to } => {
                parts.push(("from", from.clone()));
                parts.push(("to", to.clone()));
            }
        }
        if !self.filter.trim().is_empty() {
            parts.push(("q", self.filter.clone()));
        }
        if let Some(sort) = &self.sort {
            parts.push(("sort", sort.clone()));
            if self.direction == Direction::Descending {
                parts.push(("dir", "desc".into()));
            }
        }
        if self.page > 1 {
            parts.push(("page", self.page.to_string()));
        }
        if let Some(g) = self.granularity {
            let name = match g {
                Granularity::Daily => "daily",
                Granularity::Weekly => "weekly",
                Granularity::Monthly => "monthly",
                Granularity::All => "",
            };
            if !name.is_empty() {
                parts.push(("by", name.into()));
            }
        }
        if parts.is_empty() {
            return String::new();
        }
        let joined: Vec<String> = parts
            .iter()
            .map(|(k, v)| format!("{k}={}", encode_component(v)))
            .collect();
        format!("?{}", joined.join("&"))
    }

    /// Another account: back to page 1.
    pub fn with_account(&self, account: &str) -> ViewState {
        ViewState {
            account: Some(account.to_string()),
            page: 1,
            ..self.clone()
        }
    }

    /// Another range: back to page 1.
    pub fn with_range(&self, range: RangeChoice) -> ViewState {
        ViewState {
            range,
            page: 1,
            ..self.clone()
        }
    }

    /// Another filter: back to page 1.
    pub fn with_filter(&self, filter: &str) -> ViewState {
        ViewState {
            filter: filter.to_string(),
            page: 1,
            ..self.clone()
        }
    }

    /// Sort by `key`; the same key again flips the direction. `default_desc`: the direction a
    /// column starts in (amounts: highest first).
    pub fn with_sort(&self, key: &str, default_desc: bool) -> ViewState {
        let direction = if self.sort.as_deref() == Some(key) {
            match self.direction {
                Direction::Ascending => Direction::Descending,
                Direction::Descending => Direction::Ascending,
            }
        } else if default_desc {
            Direction::Descending
        } else {
            Direction::Ascending
        };
        ViewState {
            sort: Some(key.to_string()),
            direction,
            page: 1,
            ..self.clone()
        }
    }

    pub fn with_page(&self, page: u32) -> ViewState {
        ViewState {
            page: page.max(1),
            ..self.clone()
        }
    }

    pub fn with_granularity(&self, granularity: Granularity) -> ViewState {
        ViewState {
            granularity: (granularity != Granularity::All).then_some(granularity),
            ..self.clone()
        }
    }

    /// The state another page keeps when the user moves there: account and range (filters,
    /// sort and page belong to the page they were set on).
    pub fn carried(&self) -> ViewState {
        ViewState {
            account: self.account.clone(),
            range: self.range.clone(),
            ..ViewState::default()
        }
    }
}

/// The split a chart of `range` uses: by day up to two months, by month beyond (a year and a
/// month at most fits one view).
pub fn chart_granularity(range: DateRange) -> Granularity {
    if range.days() <= 62 {
        Granularity::Daily
    } else {
        Granularity::Monthly
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

    #[test]
    fn defaults_make_an_empty_query() {
        assert_eq!(ViewState::from_query("").to_query(), "");
        assert_eq!(ViewState::from_query("?").page, 1);
        assert_eq!(
            ViewState::from_query("").range,
            RangeChoice::Preset(Preset::Last30Days)
        );
    }

    #[test]
    fn every_field_round_trips_through_the_url() {
        let today = day("2026-12-01");
        for range in [
            RangeChoice::Preset(Preset::Today),
            RangeChoice::Preset(Preset::Last12Months),
            RangeChoice::Preset(Preset::QuarterToDate),
            RangeChoice::Custom {
                from: "2026-10-01".into(),
                to: "2026-10-31".into(),
            },
        ] {
            let state = ViewState {
                account: Some("acc &=/?#é north".into()),
                range: range.clone(),
                filter: "Acme & Sons 100%+".into(),
                sort: Some("cost".into()),
                direction: Direction::Descending,
                page: 3,
                granularity: Some(Granularity::Weekly),
            };
            let query = state.to_query();
            assert!(!query.contains(' '), "{query}");
            let back = ViewState::from_query(&query);
            assert_eq!(back, state, "{query}");
            assert_eq!(back.range.resolve(today), range.resolve(today));
        }
    }

    #[test]
    fn bad_values_fall_back_and_bad_dates_report_cores_error() {
        let s = ViewState::from_query("?range=fortnight&page=-4&by=hourly&dir=sideways");
        assert_eq!(s, ViewState::default());
        let s = ViewState::from_query("?from=2026-13-01&to=2026-01-31");
        let err = s.range.resolve(day("2026-12-01")).unwrap_err();
        assert!(err.contains("not a date"), "{err}");
        let s = ViewState::from_query("?from=2026-03-02&to=2026-03-01");
        assert!(s
            .range
            .resolve(day("2026-12-01"))
            .unwrap_err()
            .contains("before"));
        // One day given: a one-day range.
        let s = ViewState::from_query("?from=2026-03-02");
        assert_eq!(s.range.resolve(day("2026-12-01")).unwrap().days(), 1);
    }

    #[test]
    fn a_custom_range_equal_to_a_preset_is_named_by_it() {
        let today = day("2026-12-15");
        let s = ViewState::from_query("?from=2026-12-01&to=2026-12-15");
        assert_eq!(s.range.preset(today), Some(Preset::ThisMonth));
        let s = ViewState::from_query("?from=2026-12-02&to=2026-12-15");
        assert_eq!(s.range.preset(today), None);
    }

    #[test]
    fn changes_reset_the_page_and_sort_toggles() {
        let s = ViewState::from_query("?page=4&sort=name");
        assert_eq!(s.with_filter("x").page, 1);
        assert_eq!(s.with_account("a").page, 1);
        assert_eq!(s.with_range(RangeChoice::Preset(Preset::Today)).page, 1);
        let t = s.with_sort("name", false);
        assert_eq!(t.direction, Direction::Descending);
        assert_eq!(t.with_sort("name", false).direction, Direction::Ascending);
        assert_eq!(s.with_sort("cost", true).direction, Direction::Descending);
        let carried = ViewState::from_query("?account=a&range=today&q=x&page=2").carried();
        assert_eq!(carried.to_query(), "?account=a&range=today");
    }

    #[test]
    fn decoding_is_lenient() {
        assert_eq!(decode_component("a+b%20c%zz%4"), "a b c%zz%4");
        assert_eq!(decode_component("%C3%A9"), "é");
        assert_eq!(
            parse_query("?a=1&&b&c=%3D"),
            [
                ("a".to_string(), "1".to_string()),
                ("b".into(), "".into()),
                ("c".into(), "=".into())
            ]
        );
    }

    #[test]
    fn charts_split_by_day_then_by_month() {
        let r = |a: &str, b: &str| DateRange::parse(a, b).unwrap();
        assert_eq!(
            chart_granularity(r("2026-10-01", "2026-11-30")),
            Granularity::Daily
        );
        assert_eq!(
            chart_granularity(r("2025-12-01", "2026-12-01")),
            Granularity::Monthly
        );
    }
}
