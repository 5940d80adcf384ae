//! Number formatting shared by replies and stored values, with C's exact output.

/// Append the decimal form of `n`.
#[inline]
pub fn write_i64(out: &mut Vec<u8>, n: i64) {
    let mut b = itoa::Buffer::new();
    out.extend_from_slice(b.format(n).as_bytes());
}

/// A small text buffer on the stack, for `write!`.
#[derive(Default)]
struct StackText {
    buf: [u8; 32],
    len: usize,
}

impl StackText {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl std::fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(std::fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Append `d` formatted as C's `printf("%.17g", d)` (glibc), which is how Redis 7.0 prints doubles
/// (scores, `INCRBYFLOAT`-free paths, RESP3 doubles): 17 significant digits, trailing zeros removed,
/// scientific notation when the exponent is below -4 or at least 17.
pub fn format_double(out: &mut Vec<u8>, d: f64) {
    const P: i32 = 17;
    if d.is_nan() {
        out.extend_from_slice(if d.is_sign_negative() { b"-nan" } else { b"nan" });
        return;
    }
    if d.is_infinite() {
        out.extend_from_slice(if d > 0.0 { b"inf" } else { b"-inf" });
        return;
    }
    if d == 0.0 {
        out.extend_from_slice(if d.is_sign_negative() { b"-0" } else { b"0" });
        return;
    }
    // Integral values below 1e17 print all their digits and nothing else (the exponent is below the
    // precision): the common case of scores, without formatting through a String.
    if d.fract() == 0.0 && d.abs() < 1e17 {
        write_i64(out, d as i64);
        return;
    }
    // Rust's exact formatting is correctly rounded; take its 17 significant digits and exponent
    // (written on the stack: `d.dddddddddddddddde-ddd` is at most 23 bytes).
    let mut sci = StackText::default();
    std::fmt::Write::write_fmt(&mut sci, format_args!("{:.16e}", d.abs())).expect("fits the buffer");
    let sci = sci.as_str();
    let (mantissa, exp) = sci.split_once('e').expect("exponent format has an 'e'");
    let exp: i32 = exp.parse().expect("exponent is an integer");
    let mut digits = [0u8; 17];
    for (d, b) in digits.iter_mut().zip(mantissa.bytes().filter(|b| b.is_ascii_digit())) {
        *d = b;
    }
    if d < 0.0 {
        out.push(b'-');
    }
    let trim = |s: &[u8]| -> usize { s.iter().rposition(|&b| b != b'0').map_or(0, |i| i + 1) };
    if !(-4..P).contains(&exp) {
        out.push(digits[0]);
        let frac = &digits[1..];
        let n = trim(frac);
        if n > 0 {
            out.push(b'.');
            out.extend_from_slice(&frac[..n]);
        }
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        let e = exp.unsigned_abs();
        if e < 10 {
            out.push(b'0');
        }
        out.extend_from_slice(e.to_string().as_bytes());
    } else if exp >= 0 {
        let int_len = exp as usize + 1;
        out.extend_from_slice(&digits[..int_len]);
        let frac = &digits[int_len..];
        let n = trim(frac);
        if n > 0 {
            out.push(b'.');
            out.extend_from_slice(&frac[..n]);
        }
    } else {
        out.extend_from_slice(b"0.");
        for _ in 0..(-exp - 1) {
            out.push(b'0');
        }
        let n = trim(&digits);
        out.extend_from_slice(&digits[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g17(d: f64) -> String {
        let mut v = vec![];
        format_double(&mut v, d);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn matches_printf_g17() {
        // Expected strings are what glibc's printf("%.17g") prints.
        let cases = [
            (1.1, "1.1000000000000001"),
            (1.5, "1.5"),
            (10.0, "10"),
            (0.1, "0.10000000000000001"),
            (-2.5, "-2.5"),
            (1e17, "1e+17"),
            (1e16, "10000000000000000"),
            (123456789012345680.0, "1.2345678901234568e+17"),
            (0.0001, "0.0001"),
            (0.00001, "1.0000000000000001e-05"),
            (3.0e-300, "3.0000000000000002e-300"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "4.9406564584124654e-324"),
            (-0.0, "-0"),
            (0.0, "0"),
            (99999999999999984.0, "99999999999999984"),
            (-12345.0, "-12345"),
            (4503599627370497.0, "4503599627370497"),
        ];
        for (d, want) in cases {
            assert_eq!(g17(d), want, "{d:e}");
        }
    }
}
