//! `long double` increments, as Redis 7.0 does them for INCRBYFLOAT and HINCRBYFLOAT.
//!
//! Redis parses both operands with `strtold`, adds them in C's `long double` (64-bit mantissa on
//! x86-64) and stores the sum printed with `%.17Lf` minus trailing zeros. Doing the same in `f64` would
//! give different digits (`10.5 + 0.1` would not print as `10.6`), and the stored text is what clients
//! and replicas see, so the arithmetic is done by a small C shim (`csrc/ldouble.c`) and this module is
//! its safe face: byte slices in, text out.

use std::os::raw::{c_char, c_int};

/// Redis's bound on long double text (`MAX_LONG_DOUBLE_CHARS`): longer operands are refused, and the
/// longest sum (about 4950 characters near the type's maximum) fits.
const TEXT_MAX: usize = 5 * 1024;

extern "C" {
    fn ferrite_ld_add(
        base: *const c_char,
        base_len: usize,
        incr: *const c_char,
        incr_len: usize,
        out: *mut c_char,
        cap: usize,
    ) -> c_int;
    fn ferrite_ld_seconds_to_ms(text: *const c_char, len: usize, out: *mut i64) -> c_int;
}

/// Why an increment was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LdError {
    /// The stored value is not a number `strtold` accepts as a whole.
    BadBase,
    /// The increment is not a number `strtold` accepts as a whole.
    BadIncrement,
    /// The sum is NaN or infinite.
    NotFinite,
}

/// `base + incr` in `long double`, printed the way Redis stores it (`"10.6"`, `"5000"`, `"0"`).
///
/// Both operands follow Redis's `string2ld`: the whole text must parse (an embedded NUL is refused), no
/// leading blank, no NaN, and a value that overflows or underflows to zero is refused.
pub fn add(base: &[u8], incr: &[u8]) -> Result<Vec<u8>, LdError> {
    let mut out = [0u8; TEXT_MAX];
    // SAFETY: the pointers and lengths describe live slices; the shim reads at most `len` bytes of each
    // operand (copying them into its own bounded buffer) and writes at most `out.len()` bytes to `out`.
    let n = unsafe {
        ferrite_ld_add(
            base.as_ptr() as *const c_char,
            base.len(),
            incr.as_ptr() as *const c_char,
            incr.len(),
            out.as_mut_ptr() as *mut c_char,
            out.len(),
        )
    };
    match n {
        -1 => Err(LdError::BadBase),
        -2 => Err(LdError::BadIncrement),
        -3 => Err(LdError::NotFinite),
        n if n > 0 && (n as usize) < out.len() => Ok(out[..n as usize].to_vec()),
        // No room: cannot happen with TEXT_MAX (the largest finite sum prints shorter); refusing the
        // operand is the safe answer should a platform's long double be wider.
        _ => Err(LdError::BadIncrement),
    }
}

/// Seconds given as text, in milliseconds, the way Redis computes blocking timeouts: parsed like an
/// increment, multiplied by 1000 in `long double` and truncated toward zero; a product outside `i64`
/// becomes `i64::MIN` (what the C conversion yields on x86-64, so callers report "timeout is negative").
pub fn seconds_to_ms(text: &[u8]) -> Result<i64, LdError> {
    let mut ms: i64 = 0;
    // SAFETY: the shim reads at most `text.len()` bytes of `text` and writes one i64 to `ms`.
    let rc = unsafe { ferrite_ld_seconds_to_ms(text.as_ptr() as *const c_char, text.len(), &mut ms) };
    if rc == 0 {
        Ok(ms)
    } else {
        Err(LdError::BadIncrement)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(a: &str, b: &str) -> Result<String, LdError> {
        add(a.as_bytes(), b.as_bytes()).map(|v| String::from_utf8(v).expect("ascii"))
    }

    #[test]
    fn sums_print_like_redis() {
        // Expected texts are what redis-server 7.0 answers to INCRBYFLOAT.
        assert_eq!(sum("10.5", "0.1").as_deref(), Ok("10.6"));
        assert_eq!(sum("0", "5e3").as_deref(), Ok("5000"));
        assert_eq!(sum("0", "1e-400").as_deref(), Ok("0"));
        assert_eq!(sum("0", "-0").as_deref(), Ok("0"));
        assert_eq!(sum("0", "0x10").as_deref(), Ok("16"));
        assert_eq!(sum("0", "1e30").as_deref(), Ok("1000000000000000000024696061952"));
        assert_eq!(sum("3", "-1.5").as_deref(), Ok("1.5"));
        assert_eq!(sum("9223372036854775807", "1").as_deref(), Ok("9223372036854775808"));
    }

    #[test]
    fn refusals() {
        assert_eq!(sum("abc", "1"), Err(LdError::BadBase));
        assert_eq!(sum("1", "abc"), Err(LdError::BadIncrement));
        assert_eq!(sum("1", ""), Err(LdError::BadIncrement));
        assert_eq!(sum("1", " 1"), Err(LdError::BadIncrement));
        assert_eq!(sum("1", "1 "), Err(LdError::BadIncrement));
        assert_eq!(sum("1", "nan"), Err(LdError::BadIncrement));
        assert_eq!(sum("1", "1\u{0}2"), Err(LdError::BadIncrement));
        assert_eq!(sum("1", "1e-5000"), Err(LdError::BadIncrement));
        assert_eq!(sum("1", "1e5000"), Err(LdError::BadIncrement));
        assert_eq!(sum("1", "inf"), Err(LdError::NotFinite));
        assert_eq!(sum("1.18e4932", "1e4932"), Err(LdError::NotFinite));
        assert_eq!(sum("1", &"1".repeat(TEXT_MAX)), Err(LdError::BadIncrement));
    }

    #[test]
    fn huge_sums_fit() {
        let s = sum("1.18e4932", "0").expect("finite");
        assert!(s.starts_with("118000000000000000000") && s.len() == 4933, "{}", s.len());
    }
}
