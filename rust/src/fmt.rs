//! Number formatting shared by the printers and the text log writers.

/// `v` with exactly six decimals, rounded as C's `printf("%.6f")` and Python's `'%.6f'` do:
/// the exact binary value rounded half to even. `None` for values this fast path does not
/// cover (NaN, infinities, magnitudes of 2**64 and above); callers fall back to a general
/// formatter for those.
pub fn fixed6(v: f64) -> Option<String> {
    let (negative, micros) = micros(v)?;
    let int_part = micros / 1_000_000;
    let frac_part = micros % 1_000_000;
    let sign = if negative { "-" } else { "" };
    Some(format!("{sign}{int_part}.{frac_part:06}"))
}

/// `(sign, round_half_even(|v| * 10^6))`, computed from the exact binary value; `None` for
/// NaN, infinities and magnitudes of 2^64 and above. The sign is that of `v` (so -0.0 and
/// tiny negative values keep their minus, as printf prints them).
pub fn micros(v: f64) -> Option<(bool, u128)> {
    // Fast path: below 2^51 the product v * 10^6 is within 1/8 of the exact value, so when it
    // lies within 1/4 of an integer the exact value rounds to that integer (timestamps read
    // from six-decimal text always do).
    let x = v * 1e6;
    if x.abs() < 2_251_799_813_685_248.0 {
        // Adding and subtracting 1.5 * 2^52 rounds to an integer (|x| < 2^51), without libm.
        const MAGIC: f64 = 6_755_399_441_055_744.0;
        let r = (x + MAGIC) - MAGIC;
        if (x - r).abs() < 0.25 {
            return Some((v.is_sign_negative(), u128::from(r.abs() as u64)));
        }
    }
    if !v.is_finite() || v.abs() >= 18_446_744_073_709_551_616.0 {
        return None;
    }
    let bits = v.to_bits();
    let negative = bits >> 63 == 1;
    let exp_bits = ((bits >> 52) & 0x7FF) as i32;
    let frac = bits & ((1u64 << 52) - 1);
    // v = mantissa * 2^exp exactly.
    let (mantissa, exp) = if exp_bits == 0 {
        (frac, -1074)
    } else {
        (frac | (1u64 << 52), exp_bits - 1075)
    };
    // micros = round_half_even(v * 10^6), computed exactly in u128.
    let scaled = u128::from(mantissa) * 1_000_000u128;
    let micros: u128 = if exp >= 0 {
        // |v| < 2^64, so scaled << exp < 2^84: no overflow.
        scaled << exp
    } else {
        let shift = (-exp) as u32;
        if shift >= 128 {
            0 // below 2^-75 * 10^6: rounds to zero
        } else {
            let q = scaled >> shift;
            let rem = scaled & ((1u128 << shift) - 1);
            let half = 1u128 << (shift - 1);
            if rem > half || (rem == half && q & 1 == 1) {
                q + 1
            } else {
                q
            }
        }
    };
    Some((negative, micros))
}

#[cfg(test)]
mod tests {
    use super::fixed6;

    #[test]
    fn plain_values() {
        assert_eq!(fixed6(0.0).as_deref(), Some("0.000000"));
        assert_eq!(fixed6(-0.0).as_deref(), Some("-0.000000"));
        assert_eq!(fixed6(1.5).as_deref(), Some("1.500000"));
        assert_eq!(
            fixed6(1795717251.228757).as_deref(),
            Some("1795717251.228757")
        );
        assert_eq!(fixed6(-2.25).as_deref(), Some("-2.250000"));
    }

    #[test]
    fn rounds_the_exact_binary_value_half_to_even() {
        // 0.0000005 is slightly below 5e-7 in binary, so it rounds down; printf agrees.
        assert_eq!(fixed6(0.0000005).as_deref(), Some("0.000000"));
        // 2^-21 = 0.000000476837158203125 rounds to 0.000000; 3 * 2^-21 = 0.00000143... to 0.000001
        assert_eq!(fixed6(2f64.powi(-21)).as_deref(), Some("0.000000"));
        assert_eq!(fixed6(3.0 * 2f64.powi(-21)).as_deref(), Some("0.000001"));
        // Exact ties need a value whose binary expansion ends at the 7th decimal's 5, e.g.
        // k + 2^-1 * 10^-6 has no exact binary form, but 2^-20 * 1.048576 does not either; the
        // ties that exist are multiples of 2^-7 = 0.0078125 (7 decimals, last digit 5).
        assert_eq!(fixed6(0.0078125).as_deref(), Some("0.007812")); // 2 is even: down
        assert_eq!(fixed6(3.0 * 0.0078125).as_deref(), Some("0.023438")); // 7 is odd: up
        assert_eq!(
            fixed6(4503599627370495.5).as_deref(),
            Some("4503599627370495.500000")
        );
    }

    #[test]
    fn agrees_with_std_formatting_on_many_values() {
        // Rust's `{:.6}` also rounds the exact value; use it as an independent check.
        let mut x = 0.123_456_789_f64;
        for _ in 0..10_000 {
            x = (x * 1.618_033_988_749 + 0.000_123) % 3_000_000_000.0;
            assert_eq!(fixed6(x), Some(format!("{x:.6}")), "{x:e}");
            assert_eq!(fixed6(-x / 7.0), Some(format!("{:.6}", -x / 7.0)));
        }
    }

    #[test]
    fn out_of_range_is_left_to_the_caller() {
        assert_eq!(fixed6(f64::NAN), None);
        assert_eq!(fixed6(f64::INFINITY), None);
        assert_eq!(fixed6(1e30), None);
    }
}
