//! How figures read: money through core's [`Money`] (the currency's precision, half away from
//! zero), with digit groups; counts with digit groups; changes against the previous period.

use evo_billing_core::money::{Currency, Micros, Money};

/// Inserts `,` between groups of three digits of the integer part of a decimal text
/// (`-1234567.50` → `-1,234,567.50`).
pub fn group_digits(text: &str) -> String {
    let (sign, rest) = match text.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", text),
    };
    let (int, frac) = match rest.find('.') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let mut out = String::with_capacity(text.len() + int.len() / 3);
    out.push_str(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out.push_str(frac);
    out
}

/// `1,234.50 USD`: rounded to the currency's minor unit by core.
pub fn money(amount: Micros, currency: Currency) -> String {
    let text = Money::new(amount, currency).display();
    match text.split_once(' ') {
        Some((number, code)) => format!("{} {code}", group_digits(number)),
        None => text,
    }
}

/// The amount alone, rounded as [`money`] does (tables with the currency in the header).
pub fn amount(amount: Micros, currency: Currency) -> String {
    group_digits(&amount.format_fixed(currency.decimals()))
}

/// `12,345`.
pub fn count(n: i64) -> String {
    group_digits(&n.to_string())
}

/// A change from the previous period: direction and text, e.g. `+12.5%`, `−3.0%`, `new`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// -1 down, 0 same, 1 up.
    pub direction: i8,
    pub text: String,
}

/// The relative change from `previous` to `current` (both in one integer unit: micros or
/// counts), to one decimal, rounded half away from zero.
pub fn change(current: i64, previous: i64) -> Change {
    let direction = (current.cmp(&previous)) as i8;
    if previous == 0 {
        let text = if current == 0 { "no change" } else { "new" };
        return Change {
            direction,
            text: text.into(),
        };
    }
    let diff = i128::from(current) - i128::from(previous);
    let per_mille_x2 = diff * 2000 / i128::from(previous).abs();
    let per_mille = (per_mille_x2 + per_mille_x2.signum()) / 2;
    let sign = match per_mille.signum() {
        1 => "+",
        -1 => "−",
        _ => "±",
    };
    let abs = per_mille.unsigned_abs();
    Change {
        direction,
        text: format!(
            "{sign}{}.{}%",
            group_digits(&(abs / 10).to_string()),
            abs % 10
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn money_is_cores_rounding_with_groups() {
        let usd = Currency::USD;
        assert_eq!(
            money("1234567.125".parse().unwrap(), usd),
            "1,234,567.13 USD"
        );
        assert_eq!(money("-0.005".parse().unwrap(), usd), "-0.01 USD");
        assert_eq!(
            money("999".parse().unwrap(), Currency::new("JPY").unwrap()),
            "999 JPY"
        );
        assert_eq!(
            amount("1000.1".parse().unwrap(), Currency::new("kwd").unwrap()),
            "1,000.100"
        );
        assert_eq!(count(1_000_000), "1,000,000");
        assert_eq!(count(-12), "-12");
        assert_eq!(group_digits("123"), "123");
    }

    #[test]
    fn changes() {
        assert_eq!(change(110, 100).text, "+10.0%");
        assert_eq!(
            change(90, 100),
            Change {
                direction: -1,
                text: "−10.0%".into()
            }
        );
        assert_eq!(change(1, 3).text, "−66.7%");
        assert_eq!(change(2, 3).text, "−33.3%");
        assert_eq!(change(5, 0).text, "new");
        assert_eq!(change(0, 0).text, "no change");
        assert_eq!(change(100, 100).text, "±0.0%");
        assert_eq!(change(30_000, 1).text, "+2,999,900.0%");
    }
}

/// `part` as a share of `whole`, to one decimal (`12.5%`); `–` when the whole is zero.
pub fn share(part: i64, whole: i64) -> String {
    if whole == 0 {
        return "–".into();
    }
    let x2 = i128::from(part) * 2000 / i128::from(whole);
    let per_mille = (x2 + x2.signum()) / 2;
    let sign = if per_mille < 0 { "-" } else { "" };
    let abs = per_mille.unsigned_abs();
    format!("{sign}{}.{}%", abs / 10, abs % 10)
}

#[cfg(test)]
mod share_tests {
    use super::share;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn shares() {
        assert_eq!(share(1, 8), "12.5%");
        assert_eq!(share(1, 3), "33.3%");
        assert_eq!(share(5, 5), "100.0%");
        assert_eq!(share(5, 0), "–");
    }
}
