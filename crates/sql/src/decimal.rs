//! Exact decimals: the one place that reads, checks, rounds and writes `decimal` values.
//!
//! A decimal travels as a JSON number whose digits are kept as written (serde_json's
//! `arbitrary_precision`), is checked against its field's `decimal(p, s)` here, and is
//! stored without passing through a float: PostgreSQL binds it as `numeric`
//! ([`BigDecimal`]); SQLite, which has no exact decimal type, stores its canonical text
//! and compares it through the [`SQLITE_COLLATION`] collation ([`compare_text`]).
//!
//! The canonical text of a decimal is plain notation (`-12.50`, never an exponent), with
//! no leading zeros, no sign on zero and, for a field with a scale, exactly that many
//! digits after the point, as PostgreSQL prints `numeric(p, s)`: `1.5` in a
//! `decimal(10, 2)` is `1.50`. A field without precision keeps the scale it was given
//! (`1.50` stays `1.50`), as PostgreSQL's unconstrained `numeric` does.
//!
//! ```
//! use tessera_sql::decimal;
//! assert_eq!(decimal::canonical("1.5", Some((10, 2))).as_deref(), Ok("1.50"));
//! assert!(decimal::canonical("1.555", Some((10, 2))).is_err());
//! assert_eq!(decimal::compare_text("10.5", "9.75"), std::cmp::Ordering::Greater);
//! ```

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use bigdecimal::num_bigint::{BigInt, Sign};
pub use bigdecimal::BigDecimal;
use bigdecimal::RoundingMode;
use serde_json::{Number, Value as Json};

/// The SQLite collation that orders canonical decimal text by value. Every SQLite
/// connection Tessera opens registers it; the SQLite dialect applies it to decimal
/// columns where they are compared or sorted.
pub const SQLITE_COLLATION: &str = "tessera_decimal";

/// PostgreSQL's limits for `numeric`: digits before the point and after it.
const MAX_INTEGER_DIGITS: u64 = 131_072;
const MAX_SCALE: i64 = 16_383;

/// Why a value is not a decimal of its field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecimalError {
    /// Not a decimal number at all (`abc`, `NaN`, `1e`).
    NotANumber,
    /// Beyond what any decimal holds (PostgreSQL's limits for `numeric`).
    OutOfRange { value: String },
    /// More digits before the point than `decimal(precision, scale)` has room for.
    TooManyIntegerDigits {
        value: String,
        digits: u64,
        precision: u32,
        scale: u32,
    },
    /// More (non-zero) digits after the point than the field's scale.
    TooManyFractionDigits {
        value: String,
        digits: u64,
        precision: u32,
        scale: u32,
    },
}

impl fmt::Display for DecimalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecimalError::NotANumber => f.write_str("not a decimal number"),
            DecimalError::OutOfRange { value } => write!(
                f,
                "{value} is out of range for decimals ({MAX_INTEGER_DIGITS} digits before the point, {MAX_SCALE} after)"
            ),
            DecimalError::TooManyIntegerDigits {
                value,
                digits,
                precision,
                scale,
            } => write!(
                f,
                "{value} is out of range for type decimal({precision}, {scale}): it has {digits} digit{} before the decimal point, at most {} fit",
                plural(*digits),
                precision - scale
            ),
            DecimalError::TooManyFractionDigits {
                value,
                digits,
                precision,
                scale,
            } => write!(
                f,
                "{value} has more decimal places than type decimal({precision}, {scale}) keeps: {digits} digit{} after the decimal point, at most {scale}",
                plural(*digits)
            ),
        }
    }
}

impl std::error::Error for DecimalError {}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Reads a decimal written in plain or scientific notation (`12.5`, `-0.5`, `.5`, `1e3`,
/// `+7`); surrounding whitespace is ignored. `NaN`, infinities and values beyond
/// PostgreSQL's limits are refused.
pub fn parse(text: &str) -> Result<BigDecimal, DecimalError> {
    let text = text.trim();
    let value = read(text)?;
    if value.fractional_digit_count() > MAX_SCALE || integer_digits(&value) > MAX_INTEGER_DIGITS {
        return Err(DecimalError::OutOfRange {
            value: text.to_owned(),
        });
    }
    Ok(value)
}

/// A decimal of the shape `[+-]?(d+(.d*)?|.d+)([eE][+-]?d+)?`, with a scale of 0 or
/// more; refused for any other text and for exponents so large that the number's digits
/// could not be held.
fn read(text: &str) -> Result<BigDecimal, DecimalError> {
    let not_a_number = || DecimalError::NotANumber;
    let bytes = text.as_bytes();
    // An optional `+` or `-` at `i`; whether it was `-`.
    let sign = |i: &mut usize| match bytes.get(*i) {
        Some(b'-') => {
            *i += 1;
            true
        }
        Some(b'+') => {
            *i += 1;
            false
        }
        _ => false,
    };
    let mut i = 0;
    let negative = sign(&mut i);
    let run = |i: &mut usize| {
        let start = *i;
        while bytes.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        &text[start..*i]
    };
    let whole = run(&mut i);
    let fraction = if bytes.get(i) == Some(&b'.') {
        i += 1;
        run(&mut i)
    } else {
        ""
    };
    if whole.is_empty() && fraction.is_empty() {
        return Err(not_a_number());
    }
    let mut exponent: i64 = 0;
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        let negative_exponent = sign(&mut i);
        let digits = run(&mut i);
        if digits.is_empty() {
            return Err(not_a_number());
        }
        exponent = digits.bytes().fold(0i64, |n, d| {
            n.saturating_mul(10).saturating_add(i64::from(d - b'0'))
        });
        if negative_exponent {
            exponent = -exponent;
        }
    }
    if i != bytes.len() {
        return Err(not_a_number());
    }
    // A huge exponent would make a huge number of digits: refuse it before building it.
    let limit = MAX_INTEGER_DIGITS + MAX_SCALE as u64 + text.len() as u64;
    if exponent.unsigned_abs() > limit {
        return Err(DecimalError::OutOfRange {
            value: text.to_owned(),
        });
    }
    let mut digits = String::with_capacity(whole.len() + fraction.len() + 1);
    if negative {
        digits.push('-');
    }
    digits.push_str(whole);
    digits.push_str(fraction);
    let int = BigInt::from_str(&digits).map_err(|_| not_a_number())?;
    let value = BigDecimal::new(int, fraction.len() as i64 - exponent);
    Ok(if value.fractional_digit_count() < 0 {
        value.with_scale(0)
    } else {
        value
    })
}

/// The number of digits before the point (0 for `0.5`).
fn integer_digits(value: &BigDecimal) -> u64 {
    if value.is_zero_value() {
        return 0;
    }
    let digits = value.digits() as i64;
    (digits - value.fractional_digit_count()).max(0) as u64
}

trait ZeroValue {
    fn is_zero_value(&self) -> bool;
}

impl ZeroValue for BigDecimal {
    fn is_zero_value(&self) -> bool {
        self.sign() == Sign::NoSign
    }
}

/// `value` as a decimal of a field declared `decimal(precision, scale)` (`limits`), or of
/// an unconstrained `decimal` (`None`): brought to the field's scale, refused when digits
/// would be lost (non-zero digits beyond the scale) or do not fit before the point.
pub fn fit(value: BigDecimal, limits: Option<(u32, u32)>) -> Result<BigDecimal, DecimalError> {
    let Some((precision, scale)) = limits else {
        return Ok(value);
    };
    let s = i64::from(scale);
    let scaled = if value.fractional_digit_count() > s {
        let rounded = value.with_scale(s);
        if rounded != value {
            return Err(DecimalError::TooManyFractionDigits {
                value: to_text(&value),
                digits: trimmed_scale(&value),
                precision,
                scale,
            });
        }
        rounded
    } else {
        value.with_scale(s)
    };
    let digits = integer_digits(&scaled);
    if digits > u64::from(precision.saturating_sub(scale)) {
        return Err(DecimalError::TooManyIntegerDigits {
            value: to_text(&scaled),
            digits,
            precision,
            scale,
        });
    }
    Ok(scaled)
}

/// The digits after the point that are not trailing zeros.
fn trimmed_scale(value: &BigDecimal) -> u64 {
    let text = to_text(value);
    match text.split_once('.') {
        Some((_, fraction)) => fraction.trim_end_matches('0').len() as u64,
        None => 0,
    }
}

/// `value` rounded (half away from zero) to the scale of `limits`; unchanged without
/// one. For values read back from storage that did not keep them exactly (floats).
pub fn round(value: BigDecimal, limits: Option<(u32, u32)>) -> BigDecimal {
    match limits {
        Some((_, scale)) => value.with_scale_round(i64::from(scale), RoundingMode::HalfUp),
        None => value,
    }
}

/// The canonical text of `value`: plain notation, every digit of its scale.
pub fn to_text(value: &BigDecimal) -> String {
    let (int, scale) = value.as_bigint_and_exponent();
    let negative = int.sign() == Sign::Minus;
    let digits = int.magnitude().to_string();
    let mut out = String::with_capacity(digits.len() + 3);
    if negative {
        out.push('-');
    }
    if scale <= 0 {
        out.push_str(&digits);
        if digits != "0" {
            out.extend(std::iter::repeat_n('0', scale.unsigned_abs() as usize));
        }
        return out;
    }
    let scale = scale as usize;
    if digits.len() > scale {
        let (whole, fraction) = digits.split_at(digits.len() - scale);
        out.push_str(whole);
        out.push('.');
        out.push_str(fraction);
    } else {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', scale - digits.len()));
        out.push_str(&digits);
    }
    out
}

/// The canonical text of `text` as a decimal of a field with `limits`.
pub fn canonical(text: &str, limits: Option<(u32, u32)>) -> Result<String, DecimalError> {
    fit(parse(text)?, limits).map(|value| to_text(&value))
}

/// A canonical text as a JSON number with the same digits (`1.50` stays `1.50`).
pub fn to_json(text: &str) -> Json {
    Number::from_str(text)
        .map(Json::Number)
        .unwrap_or_else(|_| Json::String(text.to_owned()))
}

/// The text of a JSON number or string holding a decimal.
pub fn json_text(value: &Json) -> Option<String> {
    match value {
        Json::Number(n) => Some(n.to_string()),
        Json::String(s) => Some(s.trim().to_owned()),
        _ => None,
    }
}

/// Compares a JSON number (other values: `None`) with a bound of the schema (`@min`, `@max`) exactly: the bound
/// as it is written in shortest form, the number with all its digits.
pub fn compare_with(value: &Json, bound: f64) -> Option<Ordering> {
    let Json::Number(n) = value else {
        return None;
    };
    let value = parse(&n.to_string()).ok()?;
    if !bound.is_finite() {
        return Some(if bound > 0.0 {
            Ordering::Less
        } else {
            Ordering::Greater
        });
    }
    let bound = BigDecimal::from_str(&format!("{bound}")).ok()?;
    Some(value.cmp(&bound))
}

/// A decimal text as a field's value read back from storage: its canonical form at the
/// field's scale (rounded, for floats stored by older versions), or `None` when the text
/// is no decimal.
pub fn from_storage(text: &str, limits: Option<(u32, u32)>) -> Option<String> {
    let value = parse(text).ok()?;
    Some(to_text(&round(value, limits)))
}

/// Orders two decimal texts by value: the [`SQLITE_COLLATION`] collation. Texts that are
/// no decimal sort after every decimal, by their bytes; equal values in different forms
/// (`1.5`, `1.50`) are equal. Never panics (SQLite calls it).
pub fn compare_text(a: &str, b: &str) -> Ordering {
    match (Plain::read(a), Plain::read(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => match (read(a).ok(), read(b).ok()) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => a.as_bytes().cmp(b.as_bytes()),
        },
    }
}

/// `options` with the [`SQLITE_COLLATION`] collation registered: every SQLite connection
/// that reads or writes decimals opens with it.
pub fn with_sqlite_collation(
    options: sqlx::sqlite::SqliteConnectOptions,
) -> sqlx::sqlite::SqliteConnectOptions {
    options.collation(SQLITE_COLLATION, compare_text)
}

/// A decimal in plain notation, read without allocating: the fast path of
/// [`compare_text`].
#[derive(Debug)]
struct Plain<'a> {
    negative: bool,
    /// Digits before the point, leading zeros removed.
    whole: &'a str,
    /// Digits after the point, trailing zeros removed.
    fraction: &'a str,
}

impl<'a> Plain<'a> {
    fn read(text: &'a str) -> Option<Plain<'a>> {
        let (negative, rest) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (whole, fraction) = rest.split_once('.').unwrap_or((rest, ""));
        if (whole.is_empty() && fraction.is_empty())
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !fraction.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let whole = whole.trim_start_matches('0');
        let fraction = fraction.trim_end_matches('0');
        Some(Plain {
            // Zero has no sign.
            negative: negative && !(whole.is_empty() && fraction.is_empty()),
            whole,
            fraction,
        })
    }

    fn magnitude_cmp(&self, other: &Plain<'_>) -> Ordering {
        self.whole
            .len()
            .cmp(&other.whole.len())
            .then_with(|| self.whole.cmp(other.whole))
            .then_with(|| self.fraction.cmp(other.fraction))
    }

    fn cmp(&self, other: &Plain<'_>) -> Ordering {
        match (self.negative, other.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.magnitude_cmp(other),
            (true, true) => other.magnitude_cmp(self),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::{Equal, Greater, Less};

    fn canon(text: &str, limits: Option<(u32, u32)>) -> Result<String, DecimalError> {
        canonical(text, limits)
    }

    #[test]
    fn thirty_digits_are_kept_exactly() {
        let value = "12345678901234567890.1234567890";
        assert_eq!(canon(value, Some((30, 10))).as_deref(), Ok(value));
        assert_eq!(canon(value, None).as_deref(), Ok(value));
        assert_eq!(
            canon("-99999999999999999999.9999999999", Some((30, 10))).as_deref(),
            Ok("-99999999999999999999.9999999999")
        );
    }

    #[test]
    fn the_declared_scale_is_kept() {
        assert_eq!(canon("1.5", Some((10, 2))).as_deref(), Ok("1.50"));
        assert_eq!(canon("10", Some((10, 2))).as_deref(), Ok("10.00"));
        assert_eq!(canon("1.500", Some((10, 2))).as_deref(), Ok("1.50"));
        assert_eq!(canon("7", Some((5, 0))).as_deref(), Ok("7"));
        assert_eq!(canon("1.50", None).as_deref(), Ok("1.50"));
    }

    #[test]
    fn notation_is_plain_without_leading_zeros_or_signed_zero() {
        assert_eq!(canon("1e3", None).as_deref(), Ok("1000"));
        assert_eq!(canon("1.5E-3", None).as_deref(), Ok("0.0015"));
        assert_eq!(canon("+007.25", None).as_deref(), Ok("7.25"));
        assert_eq!(canon(".5", Some((3, 2))).as_deref(), Ok("0.50"));
        assert_eq!(canon("5.", None).as_deref(), Ok("5"));
        assert_eq!(canon("-0.00", Some((4, 2))).as_deref(), Ok("0.00"));
        assert_eq!(canon("-0", None).as_deref(), Ok("0"));
        assert_eq!(canon(" 2.5 ", None).as_deref(), Ok("2.5"));
    }

    #[test]
    fn what_is_not_a_decimal_is_refused() {
        for text in [
            "", "abc", "NaN", "Infinity", "-inf", "1e", "1.2.3", "--1", "1,5", "0x10", ".",
        ] {
            assert_eq!(canon(text, None), Err(DecimalError::NotANumber), "{text}");
        }
        assert!(matches!(
            canon("1e999999999999", None),
            Err(DecimalError::OutOfRange { .. })
        ));
        assert!(matches!(
            canon("1e-20000", None),
            Err(DecimalError::OutOfRange { .. })
        ));
    }

    #[test]
    fn precision_and_scale_are_enforced_without_rounding() {
        let error = canon("123456789012345678901.5", Some((30, 10))).expect_err("too big");
        assert_eq!(
            error.to_string(),
            "123456789012345678901.5000000000 is out of range for type decimal(30, 10): it has 21 digits before the decimal point, at most 20 fit"
        );
        let error = canon("1.005", Some((10, 2))).expect_err("too precise");
        assert_eq!(
            error.to_string(),
            "1.005 has more decimal places than type decimal(10, 2) keeps: 3 digits after the decimal point, at most 2"
        );
        assert!(canon("0.5", Some((2, 2))).is_ok());
        assert!(canon("1", Some((2, 2))).is_err());
        assert!(canon("99.99", Some((4, 2))).is_ok());
        assert!(canon("100", Some((4, 2))).is_err());
    }

    #[test]
    fn json_numbers_keep_their_digits() {
        let json = to_json("12345678901234567890.1234567890");
        assert_eq!(json.to_string(), "12345678901234567890.1234567890");
        assert_eq!(to_json("1.50").to_string(), "1.50");
        let parsed: Json = serde_json::from_str("[0.10000000000000000000000000001]").expect("json");
        assert_eq!(
            json_text(&parsed[0]).as_deref(),
            Some("0.10000000000000000000000000001")
        );
    }

    #[test]
    fn stored_values_come_back_at_the_field_scale() {
        assert_eq!(from_storage("1.5", Some((10, 2))).as_deref(), Some("1.50"));
        assert_eq!(
            from_storage("0.30000000000000004", Some((10, 2))).as_deref(),
            Some("0.30")
        );
        assert_eq!(
            from_storage("2.675", Some((10, 2))).as_deref(),
            Some("2.68")
        );
        assert_eq!(
            from_storage("-2.675", Some((10, 2))).as_deref(),
            Some("-2.68")
        );
        assert_eq!(
            from_storage("1.0e+20", None).as_deref(),
            Some("100000000000000000000")
        );
        assert_eq!(from_storage("x", None), None);
    }

    #[test]
    fn the_collation_orders_by_value() {
        assert_eq!(compare_text("10.5", "9.75"), Greater);
        assert_eq!(compare_text("-10.5", "-9.75"), Less);
        assert_eq!(compare_text("-0.5", "0.25"), Less);
        assert_eq!(compare_text("1.5", "1.50"), Equal);
        assert_eq!(compare_text("0.00", "-0"), Equal);
        assert_eq!(compare_text("0.5", "0.51"), Less);
        assert_eq!(compare_text("100", "99.999"), Greater);
        assert_eq!(compare_text("007", "7.0"), Equal);
        assert_eq!(compare_text("1e3", "999"), Greater);
        assert_eq!(
            compare_text(
                "12345678901234567890.1234567891",
                "12345678901234567890.123456789"
            ),
            Greater
        );
        // Texts that are no decimal sort last, among themselves by their bytes.
        assert_eq!(compare_text("abc", "1"), Greater);
        assert_eq!(compare_text("1", "abc"), Less);
        assert_eq!(compare_text("abc", "abd"), Less);
        assert_eq!(compare_text("", "-"), Less);
    }

    #[test]
    fn the_collation_is_a_total_order() {
        let mut values = vec![
            "3", "-1", "0", "1e1", "abc", "-0.5", "2.50", "2.5", "", "-", "10", "9.99", "-10",
        ];
        values.sort_by(|a, b| compare_text(a, b));
        assert_eq!(
            values,
            ["-10", "-1", "-0.5", "0", "2.50", "2.5", "3", "9.99", "1e1", "10", "", "-", "abc"]
        );
        for a in &values {
            for b in &values {
                assert_eq!(compare_text(a, b), compare_text(b, a).reverse(), "{a} {b}");
            }
        }
    }

    #[test]
    fn bounds_compare_exactly() {
        let just_above = to_json("100000.0000000000000000001");
        assert_eq!(compare_with(&just_above, 100000.0), Some(Greater));
        assert_eq!(compare_with(&to_json("0.1"), 0.1), Some(Equal));
        assert_eq!(compare_with(&serde_json::json!(-3), 0.0), Some(Less));
        assert_eq!(compare_with(&serde_json::json!("x"), 0.0), None);
    }
}
