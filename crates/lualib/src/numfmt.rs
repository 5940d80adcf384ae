//! Number text exactly as the C libraries produce and read it: they call the C library's
//! `snprintf("%.14g")` and `strtod`, so this module calls the same functions of the platform's C
//! library (always linked into a Rust program) rather than re-implementing their rounding, their
//! spellings of NaN and infinity (`nan`, `-nan`, `inf`), hex floats and `nan(...)` payloads.
//!
//! The process is assumed to run in the "C" numeric locale, as Redis does (it never sets
//! `LC_NUMERIC`); another locale would change the decimal point for Redis too.

use std::ffi::{c_char, c_int};

extern "C" {
    fn snprintf(buf: *mut c_char, size: usize, fmt: *const c_char, ...) -> c_int;
    fn strtod(nptr: *const c_char, endptr: *mut *mut c_char) -> f64;
}

/// Appends `x` formatted as C's `%.<precision>g`. `precision` is 1..=17 in every caller.
pub(crate) fn push_g(out: &mut Vec<u8>, x: f64, precision: u32) {
    // "%.17g" of any double fits in 32 bytes ("-1.2345678901234567e-308").
    let mut buf = [0u8; 64];
    // SAFETY: the buffer is 64 bytes and snprintf is told so; the format takes one int and one
    // double, which are passed.
    let n = unsafe {
        snprintf(
            buf.as_mut_ptr().cast(),
            buf.len(),
            c"%.*g".as_ptr(),
            precision as c_int,
            x,
        )
    };
    let n = usize::try_from(n).unwrap_or(0).min(buf.len() - 1);
    out.extend_from_slice(&buf[..n]);
}

/// C's `strtod` on a NUL-terminated buffer: the value and how many bytes it took (0 when no
/// number starts there).
///
/// # Safety
/// `p` points into a buffer whose end is marked by a NUL byte, as every Lua string is.
pub(crate) unsafe fn strtod_at(p: *const u8) -> (f64, usize) {
    let mut end: *mut c_char = std::ptr::null_mut();
    let v = strtod(p.cast(), &mut end);
    let used = if end.is_null() {
        0
    } else {
        (end as usize).saturating_sub(p as usize)
    };
    (v, used)
}
