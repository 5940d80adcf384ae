//! A command's arguments, as byte slices, with Redis's parsing rules for numbers.

use std::ops::Range;

use crate::error::CmdError;

/// A borrowed view of a command's arguments (argument 0 is the command name).
#[derive(Clone, Copy)]
pub struct Args<'a> {
    src: &'a [u8],
    spans: &'a [Range<usize>],
}

impl<'a> Args<'a> {
    pub fn new(src: &'a [u8], spans: &'a [Range<usize>]) -> Self {
        Args { src, spans }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Argument `i`. The table's arity check guarantees the minimum count; past it, check `len()`.
    #[inline]
    pub fn get(&self, i: usize) -> &'a [u8] {
        &self.src[self.spans[i].clone()]
    }

    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.spans.iter().map(|r| &self.src[r.clone()])
    }

    /// Arguments from `start` on.
    pub fn rest(&self, start: usize) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.spans[start.min(self.spans.len())..]
            .iter()
            .map(|r| &self.src[r.clone()])
    }

    /// Whether argument `i` equals `word`, ignoring ASCII case (option keywords).
    #[inline]
    pub fn is(&self, i: usize, word: &str) -> bool {
        self.get(i).eq_ignore_ascii_case(word.as_bytes())
    }

    /// Argument `i` as an integer (`ERR value is not an integer or out of range`).
    pub fn int(&self, i: usize) -> Result<i64, CmdError> {
        parse_int(self.get(i))
    }

    /// Argument `i` as a C `int` (Redis's `getIntFromObjectOrReply`): a 64-bit integer outside the `int`
    /// range is refused with its own message.
    pub fn int32(&self, i: usize) -> Result<i32, CmdError> {
        let v = self.int(i)?;
        i32::try_from(v).map_err(|_| CmdError::err(crate::error::NOT_INT32))
    }

    /// Argument `i` as a double (`ERR value is not a valid float`).
    pub fn float(&self, i: usize) -> Result<f64, CmdError> {
        parse_float(self.get(i)).ok_or_else(CmdError::not_float)
    }

    /// Copy into an owned form (MULTI queue, blocked clients, journal).
    pub fn to_owned(&self) -> OwnedArgs {
        OwnedArgs::from_slices(self.iter())
    }

    /// The arguments as a vector of owned byte strings.
    pub fn to_vec(&self) -> Vec<Vec<u8>> {
        self.iter().map(|a| a.to_vec()).collect()
    }
}

/// Arguments that own their bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnedArgs {
    buf: Vec<u8>,
    spans: Vec<Range<usize>>,
}

impl OwnedArgs {
    pub fn from_slices<'b>(args: impl IntoIterator<Item = &'b [u8]>) -> Self {
        let mut o = OwnedArgs::default();
        for a in args {
            o.push(a);
        }
        o
    }

    pub fn push(&mut self, a: &[u8]) {
        let start = self.buf.len();
        self.buf.extend_from_slice(a);
        self.spans.push(start..self.buf.len());
    }

    /// Append an argument of `len` zero bytes and return them, to be filled in place (a reader
    /// decoding straight into the arguments).
    pub fn push_zeroed(&mut self, len: usize) -> &mut [u8] {
        let start = self.buf.len();
        self.buf.resize(start + len, 0);
        self.spans.push(start..self.buf.len());
        &mut self.buf[start..]
    }

    /// Append every argument of `args`; returns where they are (for `range`).
    pub fn extend(&mut self, args: &Args<'_>) -> Range<usize> {
        let first = self.spans.len();
        for a in args.iter() {
            self.push(a);
        }
        first..self.spans.len()
    }

    /// The arguments at `at` (as `extend` returned it) as one request.
    pub fn range(&self, at: Range<usize>) -> Args<'_> {
        Args::new(&self.buf, &self.spans[at])
    }

    /// Empty, keeping the memory.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.spans.clear();
    }

    pub fn view(&self) -> Args<'_> {
        Args::new(&self.buf, &self.spans)
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Bytes held (CLIENT LIST's argv-mem).
    pub fn mem(&self) -> usize {
        self.buf.len()
    }
}

/// Redis's `string2ll` for a command argument.
pub fn parse_int(s: &[u8]) -> Result<i64, CmdError> {
    resp::request::parse_i64_strict(s).ok_or_else(CmdError::not_integer)
}

/// Redis's `getDoubleFromObject`: C's `strtod` over the whole argument, no leading blank, no NaN, and an
/// overflow or underflow that `strtod` reports with ERANGE is refused.
pub fn parse_float(s: &[u8]) -> Option<f64> {
    if s.is_empty() || s[0].is_ascii_whitespace() || s[0] == 0x0b || s.len() > 4096 || s.contains(&0) {
        return None;
    }
    let mut z = Vec::with_capacity(s.len() + 1);
    z.extend_from_slice(s);
    z.push(0);
    let mut end: *mut libc::c_char = std::ptr::null_mut();
    // SAFETY: `z` is NUL-terminated and outlives the call; strtod only reads it and sets `end` inside it.
    let (v, consumed, erange) = unsafe {
        *libc::__errno_location() = 0;
        let v = libc::strtod(z.as_ptr() as *const libc::c_char, &mut end);
        let consumed = end.offset_from(z.as_ptr() as *const libc::c_char) as usize;
        (v, consumed, *libc::__errno_location() == libc::ERANGE)
    };
    if consumed != s.len() || v.is_nan() || (erange && (v.is_infinite() || v == 0.0)) {
        return None;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_follow_strtod() {
        assert_eq!(parse_float(b"1.5"), Some(1.5));
        assert_eq!(parse_float(b"+1e3"), Some(1000.0));
        assert_eq!(parse_float(b"0x10"), Some(16.0));
        assert_eq!(parse_float(b"inf"), Some(f64::INFINITY));
        assert_eq!(parse_float(b"-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_float(b"nan"), None);
        assert_eq!(parse_float(b" 1"), None);
        assert_eq!(parse_float(b"1 "), None);
        assert_eq!(parse_float(b""), None);
        assert_eq!(parse_float(b"1e999"), None);
        assert_eq!(parse_float(b"1e-999"), None);
    }

    #[test]
    fn owned_round_trip() {
        let o = OwnedArgs::from_slices([&b"SET"[..], b"k", b""]);
        let v = o.view();
        assert_eq!(v.len(), 3);
        assert_eq!(v.get(1), b"k");
        assert_eq!(v.get(2), b"");
        assert!(v.is(0, "set"));
    }
}
