//! Redis's small text helpers, reproduced because their quirks are visible: which values a
//! directive accepts (`string2ll`, `memtoull`, `strtoll`), how a config line splits into
//! arguments (`sdssplitargs`), and how values are quoted when written back (`sdscatrepr`).

/// Redis's `string2ll`: a strict decimal `i64`. No sign but `-`, no leading zeros, no spaces,
/// no empty string; `-0` is refused.
pub fn string2ll(s: &[u8]) -> Option<i64> {
    match s {
        [] => None,
        [b'0'] => Some(0),
        [b'-', rest @ ..] => {
            let (first, _) = rest.split_first()?;
            if !(b'1'..=b'9').contains(first) || !rest.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let mut v: i64 = 0;
            for &d in rest {
                v = v.checked_mul(10)?.checked_sub(i64::from(d - b'0'))?;
            }
            Some(v)
        }
        [first, ..] => {
            if !(b'1'..=b'9').contains(first) || !s.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let mut v: i64 = 0;
            for &d in s {
                v = v.checked_mul(10)?.checked_add(i64::from(d - b'0'))?;
            }
            Some(v)
        }
    }
}

/// C's `isspace` in the "C" locale.
pub fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// glibc `strtoll(s, &end, base)` followed by Redis's usual `*end == '\0'` check: returns the
/// (saturated) value when the whole string was consumed. Leading blanks and a sign are allowed,
/// and an empty string parses as 0, as in C.
pub fn strtoll_full(s: &[u8], base: u32) -> Option<i64> {
    let (v, end) = strtoll(s, base);
    if end == 0 {
        // No digits: strtoll consumed nothing, so `end` points at the start of the string.
        return if s.is_empty() { Some(0) } else { None };
    }
    (end == s.len()).then_some(v)
}

/// C's `strtoll` (and `atoi`/`atoll`, which ignore what follows the number): the (saturated)
/// value of the longest prefix that reads as one, and where it ends (0 when there are no digits:
/// the value is then 0).
pub fn strtoll(s: &[u8], base: u32) -> (i64, usize) {
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits_start = i;
    let mut v: i128 = 0;
    while let Some(d) = s.get(i).and_then(|&b| (b as char).to_digit(base)) {
        v = (v * i128::from(base) + i128::from(d)).min(i128::from(u64::MAX) + 1);
        i += 1;
    }
    if i == digits_start {
        return (0, 0);
    }
    let v = if neg { -v } else { v };
    (v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64, i)
}

/// Redis's `memtoull`: digits followed by an optional unit (`b`, `k`, `kb`, `m`, `mb`, `g`,
/// `gb`, any case). Overflow is not detected (strtoull saturates, the multiply wraps), exactly
/// like Redis, and the empty string is 0.
pub fn memtoull(s: &[u8]) -> Option<u64> {
    if s.first() == Some(&b'-') {
        return None;
    }
    let digits = s.iter().take_while(|b| b.is_ascii_digit()).count();
    let unit = s[digits..].to_ascii_lowercase();
    let mul: u64 = match unit.as_slice() {
        b"" | b"b" => 1,
        b"k" => 1000,
        b"kb" => 1024,
        b"m" => 1000 * 1000,
        b"mb" => 1024 * 1024,
        b"g" => 1000 * 1000 * 1000,
        b"gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if digits >= 128 {
        return None;
    }
    let mut v: u64 = 0;
    for &d in &s[..digits] {
        v = v.saturating_mul(10).saturating_add(u64::from(d - b'0'));
    }
    Some(v.wrapping_mul(mul))
}

/// `rewriteConfigFormatMemory`: the largest of gb/mb/kb that divides the value exactly.
pub fn format_memory(bytes: i64) -> String {
    const GB: i64 = 1024 * 1024 * 1024;
    const MB: i64 = 1024 * 1024;
    const KB: i64 = 1024;
    if bytes != 0 && bytes % GB == 0 {
        format!("{}gb", bytes / GB)
    } else if bytes != 0 && bytes % MB == 0 {
        format!("{}mb", bytes / MB)
    } else if bytes != 0 && bytes % KB == 0 {
        format!("{}kb", bytes / KB)
    } else {
        bytes.to_string()
    }
}

/// Why a line could not be split.
#[derive(Debug, PartialEq, Eq)]
pub struct Unbalanced;

/// Redis's `sdssplitargs` (the inline-command splitter, shared with the protocol crate): blanks
/// separate arguments, `"..."` understands `\n \r \t \b \a`, `\xHH` and `\<any>`, `'...'` understands
/// only `\'`; a closing quote must be followed by a blank or the end. The input ends at a NUL byte.
pub fn split_args(line: &[u8]) -> Result<Vec<Vec<u8>>, Unbalanced> {
    resp::request::split_line(line).map_err(|_| Unbalanced)
}

/// Redis's `sdscatrepr`: a double-quoted, escaped copy of `s`.
pub fn repr(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for &b in s {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            7 => out.push_str("\\a"),
            8 => out.push_str("\\b"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    out
}

/// Redis's `%f` followed by `trimDoubleString`: six decimals, trailing zeros and a trailing
/// point removed.
pub fn format_percentile(v: f64) -> String {
    let s = format!("{v:.6}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Redis's `string2d`: a whole-string `strtod` that refuses leading blanks, NaN and an empty
/// string.
pub fn string2d(s: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(s).ok()?;
    if text.is_empty() || text.starts_with(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    // strtod also takes hex ("0x10", "0x1.8"); Rust's parser takes the rest, "inf" included.
    let (neg, unsigned) = match lower.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, lower.strip_prefix('+').unwrap_or(&lower)),
    };
    let v: f64 = match unsigned.strip_prefix("0x") {
        Some(hex) => {
            let (int, frac) = hex.split_once('.').unwrap_or((hex, ""));
            if int.is_empty() && frac.is_empty() {
                return None;
            }
            let mut v = 0f64;
            for ch in int.chars() {
                v = v * 16.0 + f64::from(ch.to_digit(16)?);
            }
            let mut scale = 1.0 / 16.0;
            for ch in frac.chars() {
                v += f64::from(ch.to_digit(16)?) * scale;
                scale /= 16.0;
            }
            if neg {
                -v
            } else {
                v
            }
        }
        None => lower.parse().ok()?,
    };
    if v.is_nan() {
        return None;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string2ll_is_strict() {
        assert_eq!(string2ll(b"0"), Some(0));
        assert_eq!(string2ll(b"-1"), Some(-1));
        assert_eq!(string2ll(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(string2ll(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"+1",
            b"01",
            b"-0",
            b" 1",
            b"1 ",
            b"9223372036854775808",
            b"1.5",
            b"-",
        ] {
            assert_eq!(string2ll(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn memtoull_units() {
        assert_eq!(memtoull(b"1gb"), Some(1 << 30));
        assert_eq!(memtoull(b"1GB"), Some(1 << 30));
        assert_eq!(memtoull(b"5mb"), Some(5 << 20));
        assert_eq!(memtoull(b"2k"), Some(2000));
        assert_eq!(memtoull(b"3m"), Some(3_000_000));
        assert_eq!(memtoull(b"7b"), Some(7));
        assert_eq!(memtoull(b""), Some(0));
        assert_eq!(memtoull(b"gb"), Some(0));
        assert_eq!(memtoull(b"99999999999999999999"), Some(u64::MAX));
        assert_eq!(memtoull(b"-1"), None);
        assert_eq!(memtoull(b"1.5"), None);
        assert_eq!(memtoull(b" 5"), None);
        assert_eq!(memtoull(b"1tb"), None);
    }

    #[test]
    fn strtoll_like_c() {
        assert_eq!(strtoll_full(b"", 10), Some(0));
        assert_eq!(strtoll_full(b" -5", 10), Some(-5));
        assert_eq!(strtoll_full(b"+5", 10), Some(5));
        assert_eq!(strtoll_full(b"5 ", 10), None);
        assert_eq!(strtoll_full(b"x", 10), None);
        assert_eq!(strtoll_full(b"777", 8), Some(511));
        assert_eq!(strtoll_full(b"8", 8), None);
        assert_eq!(strtoll_full(b"99999999999999999999", 10), Some(i64::MAX));
    }

    #[test]
    fn memory_formatting() {
        assert_eq!(format_memory(0), "0");
        assert_eq!(format_memory(1 << 30), "1gb");
        assert_eq!(format_memory(3 << 20), "3mb");
        assert_eq!(format_memory(2048), "2kb");
        assert_eq!(format_memory(3_000_000), "3000000");
    }

    #[test]
    fn split_args_like_sds() {
        let v = |s: &str| split_args(s.as_bytes());
        assert_eq!(v("a b  c"), Ok(vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]));
        assert_eq!(v("save \"\""), Ok(vec![b"save".to_vec(), b"".to_vec()]));
        assert_eq!(v("x \"a\\x41\\n\""), Ok(vec![b"x".to_vec(), b"aA\n".to_vec()]));
        assert_eq!(v("x 'it\\'s'"), Ok(vec![b"x".to_vec(), b"it's".to_vec()]));
        assert_eq!(v("x ab\"cd\""), Ok(vec![b"x".to_vec(), b"abcd".to_vec()]));
        assert_eq!(v("x \"a\"b"), Err(Unbalanced));
        assert_eq!(v("x \"abc"), Err(Unbalanced));
        assert_eq!(v("x 'abc"), Err(Unbalanced));
        assert_eq!(v("   "), Ok(vec![]));
    }

    #[test]
    fn repr_quotes() {
        assert_eq!(repr(b"dump.rdb"), "\"dump.rdb\"");
        assert_eq!(repr(b"se\"c\\\n\x01"), "\"se\\\"c\\\\\\n\\x01\"");
    }

    #[test]
    fn percentiles() {
        assert_eq!(format_percentile(50.0), "50");
        assert_eq!(format_percentile(99.9), "99.9");
        assert_eq!(format_percentile(0.0), "0");
        assert_eq!(string2d(b"99.9"), Some(99.9));
        assert_eq!(string2d(b"abc"), None);
        assert_eq!(string2d(b""), None);
    }
}
