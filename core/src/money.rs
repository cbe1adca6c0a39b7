//! Exact money.
//!
//! Amounts are integers of micro-units (millionths of a currency unit) in [`Micros`]. Prices from a
//! carrier have up to 4–6 decimals (`-0.0085`), so cents are too coarse, and floats drift when a
//! million of them are added. Sums stay integer; rounding happens once, at the edge, with
//! [`Micros::round_to`] (half away from zero, the commercial rule).
//!
//! On the wire an amount is a JSON number (`12.5`) or, leniently on input, a decimal string
//! (`"-0.0085"`, what Twilio sends). A JSON number is read through its shortest round-trip decimal
//! text, so `0.1` becomes exactly 100 000 micros, not `0.1000000000000000055…`.
//!
//! ```
//! use evo_billing_core::money::Micros;
//! let sum: Micros = ["0.10", "0.20"].iter().map(|s| s.parse::<Micros>().unwrap()).sum();
//! assert_eq!(sum.to_string(), "0.3"); // 0.1 + 0.2 != 0.3 in floats; here it is.
//! ```

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Micro-units in one currency unit.
pub const MICROS_PER_UNIT: i64 = 1_000_000;

/// An exact amount of money in millionths of a currency unit (the currency is implied by context,
/// see [`Money`] when it must travel with the amount).
///
/// Arithmetic saturates instead of panicking: ±9.2 trillion units is far beyond any bill, and a
/// saturated value is visibly wrong rather than a crash in WebAssembly.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Micros(pub i64);

/// Why a text is not an amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("'{0}' is not a decimal amount (expected digits with an optional sign and point, e.g. -0.0085)")]
    Syntax(String),
    #[error("'{0}' is too large for an amount")]
    Overflow(String),
    #[error("an amount must be a finite number")]
    NotFinite,
    #[error("'{0}' is not a known ISO 4217 currency code (3 letters, e.g. USD)")]
    Currency(String),
}

impl Micros {
    pub const ZERO: Micros = Micros(0);

    /// Whole units and cents, e.g. `Micros::from_units(12, 500_000)` is 12.5.
    pub const fn from_parts(units: i64, micros: i64) -> Micros {
        Micros(units * MICROS_PER_UNIT + micros)
    }

    /// Rounds to `decimals` places (0..=6), half away from zero.
    pub fn round_to(self, decimals: u32) -> Micros {
        if decimals >= 6 {
            return self;
        }
        let step = 10i64.pow(6 - decimals);
        let rem = self.0 % step;
        let base = self.0 - rem;
        let rounded = if rem.abs() * 2 >= step {
            base.saturating_add(step * self.0.signum())
        } else {
            base
        };
        Micros(rounded)
    }

    /// The amount as the nearest `f64`, for charts and the wire. Exact in the sense that matters:
    /// below 2^53 micros (9 billion units) both operands of the division are exact and IEEE
    /// division rounds correctly, so the result is the double nearest the decimal amount, the
    /// same one `JSON.parse` gives for the amount's text.
    pub fn to_f64(self) -> f64 {
        const EXACT: i64 = 1 << 53;
        if self.0.abs() < EXACT {
            self.0 as f64 / MICROS_PER_UNIT as f64
        } else {
            (self.0 / MICROS_PER_UNIT) as f64 + (self.0 % MICROS_PER_UNIT) as f64 / 1e6
        }
    }

    /// Reads an `f64` through its shortest round-trip text (what `JSON.stringify` prints), so
    /// a price that was `0.0085` in the JSON becomes exactly 8 500 micros.
    pub fn from_f64(value: f64) -> Result<Micros, MoneyError> {
        if !value.is_finite() {
            return Err(MoneyError::NotFinite);
        }
        // The same result without the text, when it cannot differ: below 2^40 micros (~1.1
        // million units) the product is off by less than 2^-14 and the shortest text of `value`
        // by less than 1.2e-4 micros, so within 1/1000 of a whole number of micros that number
        // is what the text rounds to (no half to break a tie on). Every price with at most six
        // decimals takes this path: a 10,000-customer answer read in the browser spent half its
        // decoding in the float printer.
        let scaled = value * MICROS_PER_UNIT as f64;
        let whole = scaled.round_ties_even();
        if whole.abs() < (1u64 << 40) as f64 && (scaled - whole).abs() < 1e-3 {
            return Ok(Micros(whole as i64));
        }
        Micros::from_f64_text(value)
    }

    /// [`Micros::from_f64`] the long way. ryu writes the shortest text that reads back to the
    /// same f64 (serde_json uses it too, so the WebAssembly build carries one float printer, not
    /// two), into a stack buffer.
    fn from_f64_text(value: f64) -> Result<Micros, MoneyError> {
        let mut buf = ryu::Buffer::new();
        buf.format_finite(value).parse()
    }

    pub fn saturating_add(self, other: Micros) -> Micros {
        Micros(self.0.saturating_add(other.0))
    }

    pub fn checked_add(self, other: Micros) -> Option<Micros> {
        self.0.checked_add(other.0).map(Micros)
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub fn abs(self) -> Micros {
        Micros(self.0.saturating_abs())
    }

    /// `self × numerator / denominator`, exact in between (128-bit), rounded half away from zero
    /// to the micro, saturating; `None` when the denominator is 0. For scaling an amount by a
    /// ratio of counts, e.g. a month-to-date cost to the whole month (an estimate, not a bill).
    pub fn mul_div(self, numerator: i64, denominator: i64) -> Option<Micros> {
        if denominator == 0 {
            return None;
        }
        let n = i128::from(self.0) * i128::from(numerator);
        let d = i128::from(denominator);
        let (q, r) = (n / d, n % d);
        let away = (r.abs() * 2 >= d.abs()) && r != 0;
        let sign = if (n < 0) != (d < 0) { -1 } else { 1 };
        let q = if away { q + sign } else { q };
        Some(Micros(
            q.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
        ))
    }

    /// Formats with exactly `decimals` places (after rounding), e.g. `12.50`.
    pub fn format_fixed(self, decimals: u32) -> String {
        let decimals = decimals.min(6);
        let r = self.round_to(decimals).0;
        let sign = if r < 0 { "-" } else { "" };
        let abs = r.unsigned_abs();
        let units = abs / MICROS_PER_UNIT as u64;
        if decimals == 0 {
            return format!("{sign}{units}");
        }
        let frac = (abs % MICROS_PER_UNIT as u64) / 10u64.pow(6 - decimals);
        format!("{sign}{units}.{frac:0width$}", width = decimals as usize)
    }
}

impl fmt::Display for Micros {
    /// The shortest exact decimal text: `12.5`, `-0.0085`, `3`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let units = abs / MICROS_PER_UNIT as u64;
        let frac = abs % MICROS_PER_UNIT as u64;
        if frac == 0 {
            return write!(f, "{sign}{units}");
        }
        let digits = format!("{frac:06}");
        write!(f, "{sign}{units}.{}", digits.trim_end_matches('0'))
    }
}

impl Micros {
    /// The fast path of parsing: `[-+]?digits[.digits]` with at most 12 integer digits and 6
    /// decimals (every real price), in integer arithmetic without allocating. `None` for anything
    /// else, which the general parser then handles (exponents, rounding, errors).
    #[inline(always)]
    pub fn parse_plain(bytes: &[u8]) -> Option<Micros> {
        let (negative, digits) = match bytes.first()? {
            b'-' => (true, &bytes[1..]),
            b'+' => (false, &bytes[1..]),
            _ => (false, bytes),
        };
        let mut units: i64 = 0;
        let mut i = 0;
        while i < digits.len() && digits[i].is_ascii_digit() {
            if i == 12 {
                return None;
            }
            units = units * 10 + i64::from(digits[i] - b'0');
            i += 1;
        }
        let int_len = i;
        let mut frac: i64 = 0;
        let mut frac_len = 0;
        if i < digits.len() {
            if digits[i] != b'.' {
                return None;
            }
            i += 1;
            while i < digits.len() && digits[i].is_ascii_digit() {
                if frac_len == 6 {
                    return None;
                }
                frac = frac * 10 + i64::from(digits[i] - b'0');
                frac_len += 1;
                i += 1;
            }
            if i != digits.len() || (int_len == 0 && frac_len == 0) {
                return None;
            }
        } else if int_len == 0 {
            return None;
        }
        for _ in frac_len..6 {
            frac *= 10;
        }
        let v = units * MICROS_PER_UNIT + frac;
        Some(Micros(if negative { -v } else { v }))
    }
}

impl FromStr for Micros {
    type Err = MoneyError;

    /// Parses `12`, `-0.0085`, `+3.50`, `.5`, `1e-3` (exponents appear in JSON numbers). Digits past
    /// the sixth decimal are rounded half away from zero.
    fn from_str(text: &str) -> Result<Micros, MoneyError> {
        if let Some(m) = Micros::parse_plain(text.as_bytes()) {
            return Ok(m);
        }
        let syntax = || MoneyError::Syntax(text.chars().take(64).collect());
        let overflow = || MoneyError::Overflow(text.chars().take(64).collect());
        let s = text.trim();
        let (negative, s) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        let (mantissa, exponent) = match s.find(['e', 'E']) {
            Some(i) => {
                let exp: i32 = s[i + 1..].parse().map_err(|_| syntax())?;
                (&s[..i], exp)
            }
            None => (s, 0),
        };
        let (int_part, frac_part) = match mantissa.find('.') {
            Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
            None => (mantissa, ""),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(syntax());
        }
        if !int_part.bytes().all(|b| b.is_ascii_digit())
            || !frac_part.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(syntax());
        }
        // All significant digits, and where the decimal point sits among them.
        let digits: Vec<u8> = int_part
            .bytes()
            .chain(frac_part.bytes())
            .map(|b| b - b'0')
            .collect();
        let point = int_part.len() as i64 + exponent as i64;
        // Value = digits × 10^(point - len). In micros: digits × 10^(point - len + 6).
        let shift = point - digits.len() as i64 + 6;
        let mut acc: i128 = 0;
        let mut round_up = false;
        for (i, d) in digits.iter().enumerate() {
            // Position of this digit as a power of ten of micros.
            let power = shift + (digits.len() - 1 - i) as i64;
            if power >= 0 {
                if power > 30 {
                    if *d != 0 {
                        return Err(overflow());
                    }
                    continue;
                }
                acc = acc
                    .checked_add(*d as i128 * 10i128.pow(power as u32))
                    .ok_or_else(overflow)?;
            } else if power == -1 {
                round_up = *d >= 5;
            }
        }
        if round_up {
            acc += 1;
        }
        let value = i64::try_from(acc).map_err(|_| overflow())?;
        Ok(Micros(if negative { -value } else { value }))
    }
}

impl Add for Micros {
    type Output = Micros;
    fn add(self, rhs: Micros) -> Micros {
        self.saturating_add(rhs)
    }
}

impl AddAssign for Micros {
    fn add_assign(&mut self, rhs: Micros) {
        *self = self.saturating_add(rhs);
    }
}

impl Sub for Micros {
    type Output = Micros;
    fn sub(self, rhs: Micros) -> Micros {
        Micros(self.0.saturating_sub(rhs.0))
    }
}

impl Neg for Micros {
    type Output = Micros;
    fn neg(self) -> Micros {
        Micros(self.0.saturating_neg())
    }
}

impl Sum for Micros {
    fn sum<I: Iterator<Item = Micros>>(iter: I) -> Micros {
        iter.fold(Micros::ZERO, Add::add)
    }
}

impl<'a> Sum<&'a Micros> for Micros {
    fn sum<I: Iterator<Item = &'a Micros>>(iter: I) -> Micros {
        iter.copied().sum()
    }
}

impl Serialize for Micros {
    /// A JSON number whose shortest text is the exact amount (`12.5`, `-0.0085`).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0 % MICROS_PER_UNIT == 0 {
            serializer.serialize_i64(self.0 / MICROS_PER_UNIT)
        } else {
            serializer.serialize_f64(self.to_f64())
        }
    }
}

impl<'de> Deserialize<'de> for Micros {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Micros, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Micros;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an amount as a number or a decimal string")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Micros, E> {
                v.checked_mul(MICROS_PER_UNIT)
                    .map(Micros)
                    .ok_or_else(|| E::custom(MoneyError::Overflow(v.to_string())))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Micros, E> {
                i64::try_from(v)
                    .ok()
                    .and_then(|v| v.checked_mul(MICROS_PER_UNIT))
                    .map(Micros)
                    .ok_or_else(|| E::custom(MoneyError::Overflow(v.to_string())))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Micros, E> {
                Micros::from_f64(v).map_err(E::custom)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Micros, E> {
                if v.trim().is_empty() {
                    return Ok(Micros::ZERO);
                }
                v.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// An ISO 4217 currency code, upper-case (`USD`). Twilio writes it lower-case (`usd`); both parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    pub const USD: Currency = Currency(*b"USD");

    pub fn new(code: &str) -> Result<Currency, MoneyError> {
        let bytes = code.trim().as_bytes();
        match bytes {
            [a, b, c] if bytes.iter().all(u8::is_ascii_alphabetic) => Ok(Currency([
                a.to_ascii_uppercase(),
                b.to_ascii_uppercase(),
                c.to_ascii_uppercase(),
            ])),
            _ => Err(MoneyError::Currency(code.chars().take(16).collect())),
        }
    }

    pub fn code(&self) -> &str {
        // Always three ASCII letters by construction.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// Twilio's `priceUnit` spelling: lower-case.
    pub fn lower(&self) -> String {
        self.code().to_ascii_lowercase()
    }

    /// Minor-unit digits: the precision amounts are rounded to on the wire.
    pub fn decimals(&self) -> u32 {
        match self.code() {
            "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "UGX" | "XAF" | "XOF" | "PYG" => 0,
            "BHD" | "KWD" | "OMR" | "JOD" | "TND" | "IQD" | "LYD" => 3,
            _ => 2,
        }
    }
}

impl Default for Currency {
    fn default() -> Currency {
        Currency::USD
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Currency, MoneyError> {
        Currency::new(s)
    }
}

/// An amount with its currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Money {
    pub amount: Micros,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount: Micros, currency: Currency) -> Money {
        Money { amount, currency }
    }

    /// Rounded to the currency's minor unit: what goes on the wire and on an invoice.
    pub fn rounded(&self) -> Micros {
        self.amount.round_to(self.currency.decimals())
    }

    /// `12.50 USD`.
    pub fn display(&self) -> String {
        format!(
            "{} {}",
            self.amount.format_fixed(self.currency.decimals()),
            self.currency
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    // On wasm32 the same tests run under wasm-bindgen-test (in Node and in headless Chromium).
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn m(s: &str) -> Micros {
        s.parse().unwrap()
    }

    #[test]
    fn parses_decimal_text() {
        assert_eq!(m("12"), Micros(12_000_000));
        assert_eq!(m("-0.0085"), Micros(-8_500));
        assert_eq!(m("+3.50"), Micros(3_500_000));
        assert_eq!(m(".5"), Micros(500_000));
        assert_eq!(m("5."), Micros(5_000_000));
        assert_eq!(m("1e-3"), Micros(1_000));
        assert_eq!(m("1.5E2"), Micros(150_000_000));
        assert_eq!(m("0.0000005"), Micros(1));
        assert_eq!(m("-0.0000005"), Micros(-1));
        assert_eq!(m("0.00000049"), Micros(0));
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "-",
            ".",
            "1.2.3",
            "abc",
            "1,5",
            "--1",
            "1e",
            "NaN",
            "0x10",
            "1e99999999999",
        ] {
            assert!(bad.parse::<Micros>().is_err(), "{bad:?} should not parse");
        }
        assert!(matches!(
            "99999999999999999999".parse::<Micros>(),
            Err(MoneyError::Overflow(_))
        ));
        assert!(Micros::from_f64(f64::NAN).is_err());
        assert!(Micros::from_f64(f64::INFINITY).is_err());
    }

    #[test]
    fn displays_shortest_exact_text() {
        assert_eq!(Micros(12_500_000).to_string(), "12.5");
        assert_eq!(Micros(-8_500).to_string(), "-0.0085");
        assert_eq!(Micros(3_000_000).to_string(), "3");
        assert_eq!(Micros(0).to_string(), "0");
        assert_eq!(Micros(-1).to_string(), "-0.000001");
    }

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(m("0.125").round_to(2), m("0.13"));
        assert_eq!(m("-0.125").round_to(2), m("-0.13"));
        assert_eq!(m("0.1249").round_to(2), m("0.12"));
        assert_eq!(m("2.5").round_to(0), m("3"));
        assert_eq!(m("1.23456").format_fixed(2), "1.23");
        assert_eq!(m("-0.005").format_fixed(2), "-0.01");
        assert_eq!(m("7").format_fixed(2), "7.00");
        assert_eq!(m("7.4").format_fixed(0), "7");
    }

    #[test]
    fn floats_are_read_through_their_shortest_text() {
        assert_eq!(Micros::from_f64(0.1).unwrap(), Micros(100_000));
        assert_eq!(Micros::from_f64(0.0085).unwrap(), Micros(8_500));
        assert_eq!(Micros::from_f64(-12.34).unwrap(), m("-12.34"));
        assert_eq!(Micros::from_f64(1e-7).unwrap(), Micros(0));
        assert_eq!(m("0.3").to_f64(), 0.3);
    }

    #[test]
    fn json_round_trip() {
        let v: Vec<Micros> = serde_json::from_str(r#"[0.1, 2, "-0.0085", "", 1e2]"#).unwrap();
        assert_eq!(v, vec![m("0.1"), m("2"), m("-0.0085"), Micros(0), m("100")]);
        assert_eq!(serde_json::to_string(&v).unwrap(), "[0.1,2,-0.0085,0,100]");
        assert!(serde_json::from_str::<Micros>("true").is_err());
        assert!(serde_json::from_str::<Micros>(r#""x""#).is_err());
    }

    #[test]
    fn mul_div_rounds_half_away_from_zero_and_saturates() {
        let m = |s: &str| s.parse::<Micros>().unwrap();
        assert_eq!(m("10").mul_div(31, 10), Some(m("31")));
        // 1 micro × 1 / 2 = 0.5 micro → 1; −0.5 → −1.
        assert_eq!(Micros(1).mul_div(1, 2), Some(Micros(1)));
        assert_eq!(Micros(-1).mul_div(1, 2), Some(Micros(-1)));
        assert_eq!(Micros(1).mul_div(1, 3), Some(Micros(0)));
        assert_eq!(Micros(5).mul_div(-1, 2), Some(Micros(-3)));
        assert_eq!(Micros(100).mul_div(1, 0), None);
        assert_eq!(Micros(i64::MAX).mul_div(3, 1), Some(Micros(i64::MAX)));
        assert_eq!(Micros(i64::MIN).mul_div(3, 1), Some(Micros(i64::MIN)));
    }

    #[test]
    fn saturates_instead_of_panicking() {
        assert_eq!(Micros(i64::MAX) + Micros(1), Micros(i64::MAX));
        assert_eq!(-Micros(i64::MIN), Micros(i64::MAX));
        assert_eq!(Micros(i64::MIN).abs(), Micros(i64::MAX));
        let _ = Micros(i64::MAX).round_to(0);
        let _ = Micros(i64::MIN).round_to(2);
    }

    #[test]
    fn currencies() {
        assert_eq!(Currency::new("usd").unwrap(), Currency::USD);
        assert_eq!(Currency::USD.lower(), "usd");
        assert_eq!(Currency::new("JPY").unwrap().decimals(), 0);
        assert!(Currency::new("US").is_err());
        assert!(Currency::new("U$D").is_err());
        assert!(Currency::new("ДОЛ").is_err());
        let money = Money::new(m("1234.567"), Currency::USD);
        assert_eq!(money.display(), "1234.57 USD");
        assert_eq!(money.rounded(), m("1234.57"));
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The sum of prices equals the exact decimal sum, computed independently in i128 cents.
        #[test]
        fn sums_are_exact(cents in proptest::collection::vec(-10_000_000i64..10_000_000, 0..2000)) {
            let total: Micros = cents
                .iter()
                .map(|c| format!("{}{}.{:02}", if *c < 0 { "-" } else { "" }, c.abs() / 100, c.abs() % 100).parse::<Micros>().unwrap())
                .sum();
            let expected: i128 = cents.iter().map(|c| *c as i128).sum();
            prop_assert_eq!(total.0 as i128, expected * 10_000);
        }

        /// Display and parse are inverse for every amount.
        #[test]
        fn text_round_trip(v in any::<i64>()) {
            let text = Micros(v).to_string();
            prop_assert_eq!(text.parse::<Micros>().unwrap(), Micros(v));
        }

        /// Through f64 (the JSON wire), every amount of up to 15 significant digits is exact.
        #[test]
        fn f64_round_trip(v in -999_999_999_999_999i64..999_999_999_999_999) {
            prop_assert_eq!(Micros::from_f64(Micros(v).to_f64()).unwrap(), Micros(v));
        }

        /// The short way of reading an f64 gives what its shortest text gives: whole micros,
        /// amounts with more decimals (ties at half a micro among them), any bits at all.
        #[test]
        fn f64_short_way_equals_text(
            v in -2_000_000_000_000i64..2_000_000_000_000,
            tenths in 0i64..10,
            bits in any::<u64>(),
            scale in 0u32..12,
        ) {
            let whole = Micros(v).to_f64();
            prop_assert_eq!(Micros::from_f64(whole), Micros::from_f64_text(whole));
            // The doubles next to a whole amount: their shortest texts carry many digits.
            let whole_bits = whole.to_bits();
            for near in [whole_bits.wrapping_add(1), whole_bits.wrapping_sub(1)].map(f64::from_bits) {
                if near.is_finite() {
                    prop_assert_eq!(Micros::from_f64(near), Micros::from_f64_text(near));
                }
            }
            let finer = (v as f64 * 10.0 + tenths as f64) / 1e7;
            prop_assert_eq!(Micros::from_f64(finer), Micros::from_f64_text(finer));
            let half = (v as f64 + 0.5) / 1e6;
            prop_assert_eq!(Micros::from_f64(half), Micros::from_f64_text(half));
            let any = f64::from_bits(bits);
            if any.is_finite() {
                prop_assert_eq!(Micros::from_f64(any), Micros::from_f64_text(any));
                let small = any / 10f64.powi(scale as i32 * 30);
                prop_assert_eq!(Micros::from_f64(small), Micros::from_f64_text(small));
            }
            let decimal = v as f64 / 10f64.powi(scale as i32);
            prop_assert_eq!(Micros::from_f64(decimal), Micros::from_f64_text(decimal));
        }

        /// Any text at all: a result or an error, never a panic.
        #[test]
        fn hostile_text(s in ".{0,40}") {
            let _ = s.parse::<Micros>();
        }

        #[test]
        fn rounding_stays_close(v in -1_000_000_000_000i64..1_000_000_000_000, d in 0u32..=6) {
            let r = Micros(v).round_to(d);
            let step = 10i64.pow(6 - d);
            prop_assert!((r.0 - v).abs() * 2 <= step);
            prop_assert_eq!(r.0 % step, 0);
        }
    }
}
