//! Reply encoding: the server → client direction.
//!
//! [`ReplyBuf`] appends replies straight into a connection's output buffer in the client's protocol
//! version. Every RESP3-only type has the RESP2 fallback Redis 7.0 uses: maps become flat arrays, sets
//! become arrays, doubles become bulk strings, booleans become integers, the null is `$-1` (or `*-1` for a
//! null array), verbatim strings become bulk strings and pushes become arrays.

use crate::num::{format_double, write_i64};

/// Which protocol a client speaks (`HELLO 2|3`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    #[default]
    Resp2,
    Resp3,
}

/// A growable reply buffer that knows its client's protocol.
#[derive(Debug, Default)]
pub struct ReplyBuf {
    pub buf: Vec<u8>,
    pub proto: Protocol,
}

impl ReplyBuf {
    pub fn new(proto: Protocol) -> Self {
        ReplyBuf { buf: Vec::new(), proto }
    }

    #[inline]
    pub fn is_resp3(&self) -> bool {
        self.proto == Protocol::Resp3
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Raw protocol bytes, already encoded.
    #[inline]
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    #[inline]
    fn header(&mut self, prefix: u8, n: i64) {
        self.buf.push(prefix);
        write_i64(&mut self.buf, n);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// `+OK`
    #[inline]
    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    /// A simple string (`+text`). The text must not contain CR or LF.
    #[inline]
    pub fn simple(&mut self, s: &[u8]) {
        self.buf.push(b'+');
        self.buf.extend_from_slice(s);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An error line. `msg` carries its code (`ERR ...`, `WRONGTYPE ...`); CR and LF are replaced by
    /// blanks, as Redis does, so the reply stays one line.
    pub fn error(&mut self, msg: &str) {
        self.buf.push(b'-');
        self.buf
            .extend(msg.bytes().map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }));
        self.buf.extend_from_slice(b"\r\n");
    }

    #[inline]
    pub fn int(&mut self, n: i64) {
        self.header(b':', n);
    }

    /// A bulk string.
    #[inline]
    pub fn bulk(&mut self, s: &[u8]) {
        self.header(b'$', s.len() as i64);
        self.buf.extend_from_slice(s);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An integer sent as a bulk string (GET of an int-encoded value).
    pub fn bulk_i64(&mut self, n: i64) {
        let mut tmp = Vec::with_capacity(20);
        write_i64(&mut tmp, n);
        self.bulk(&tmp);
    }

    /// The null reply: `_` in RESP3, the null bulk `$-1` in RESP2.
    #[inline]
    pub fn null(&mut self) {
        if self.is_resp3() {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"$-1\r\n");
        }
    }

    /// The null array: `_` in RESP3, `*-1` in RESP2.
    #[inline]
    pub fn null_array(&mut self) {
        if self.is_resp3() {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"*-1\r\n");
        }
    }

    #[inline]
    pub fn array(&mut self, n: usize) {
        self.header(b'*', n as i64);
    }

    /// A map of `n` pairs: `%n` in RESP3, a flat array of `2n` in RESP2.
    #[inline]
    pub fn map(&mut self, n: usize) {
        if self.is_resp3() {
            self.header(b'%', n as i64);
        } else {
            self.header(b'*', 2 * n as i64);
        }
    }

    /// A set: `~n` in RESP3, an array in RESP2.
    #[inline]
    pub fn set(&mut self, n: usize) {
        self.header(if self.is_resp3() { b'~' } else { b'*' }, n as i64);
    }

    /// An out-of-band push (`>n` in RESP3, an array in RESP2 — pub/sub messages).
    #[inline]
    pub fn push(&mut self, n: usize) {
        self.header(if self.is_resp3() { b'>' } else { b'*' }, n as i64);
    }

    /// A double, formatted as C's `%.17g` like Redis 7.0: `,` in RESP3, a bulk string in RESP2.
    pub fn double(&mut self, d: f64) {
        if self.is_resp3() {
            self.buf.push(b',');
            format_double(&mut self.buf, d);
        } else {
            // Format in place, then put the bulk header (a few bytes) in front of the text.
            let start = self.buf.len();
            format_double(&mut self.buf, d);
            let mut len = itoa::Buffer::new();
            let len = len.format(self.buf.len() - start).as_bytes();
            let head = [&b"$"[..], len, b"\r\n"];
            self.buf.splice(start..start, head.into_iter().flatten().copied());
        }
        self.buf.extend_from_slice(b"\r\n");
    }

    /// A double already formatted by the caller (human long double replies): `,` in RESP3, bulk in RESP2.
    pub fn double_text(&mut self, text: &[u8]) {
        if self.is_resp3() {
            self.buf.push(b',');
            self.buf.extend_from_slice(text);
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(text);
        }
    }

    /// A boolean: `#t`/`#f` in RESP3, `:1`/`:0` in RESP2.
    pub fn boolean(&mut self, b: bool) {
        if self.is_resp3() {
            self.buf.extend_from_slice(if b { b"#t\r\n" } else { b"#f\r\n" });
        } else {
            self.int(b as i64);
        }
    }

    /// A verbatim string (`=len\r\ntxt:...` in RESP3; a bulk string in RESP2). `format` is 3 bytes.
    pub fn verbatim(&mut self, format: &[u8; 3], s: &[u8]) {
        if self.is_resp3() {
            self.header(b'=', s.len() as i64 + 4);
            self.buf.extend_from_slice(format);
            self.buf.push(b':');
            self.buf.extend_from_slice(s);
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(s);
        }
    }

    /// A big number (`(` in RESP3; a bulk string in RESP2).
    pub fn big_number(&mut self, digits: &[u8]) {
        if self.is_resp3() {
            self.buf.push(b'(');
            self.buf.extend_from_slice(digits);
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(digits);
        }
    }

    /// An attribute map header (RESP3 only; RESP2 clients never get attributes).
    pub fn attribute(&mut self, n: usize) {
        debug_assert!(self.is_resp3());
        self.header(b'|', n as i64);
    }

    /// Reserve a slot for an aggregate header whose length is known only after the elements are written
    /// (Redis's deferred length). Returns a token for [`ReplyBuf::set_deferred`].
    pub fn defer(&mut self) -> Deferred {
        let at = self.buf.len();
        // Reserve room for the longest header: prefix + 20 digits + CRLF, shifted later.
        self.buf.extend_from_slice(&[0u8; DEFERRED_ROOM]);
        Deferred { at }
    }

    /// Fill a deferred header: `kind` is the aggregate kind, `n` its element count (pairs for a map).
    pub fn set_deferred(&mut self, d: Deferred, kind: Aggregate, n: usize) {
        let (prefix, count) = match (kind, self.proto) {
            (Aggregate::Array, _) => (b'*', n),
            (Aggregate::Map, Protocol::Resp3) => (b'%', n),
            (Aggregate::Map, Protocol::Resp2) => (b'*', 2 * n),
            (Aggregate::Set, Protocol::Resp3) => (b'~', n),
            (Aggregate::Set, Protocol::Resp2) => (b'*', n),
        };
        let mut head = Vec::with_capacity(DEFERRED_ROOM);
        head.push(prefix);
        write_i64(&mut head, count as i64);
        head.extend_from_slice(b"\r\n");
        // Replace the reserved room by the real header, closing the gap.
        self.buf.splice(d.at..d.at + DEFERRED_ROOM, head);
    }
}

const DEFERRED_ROOM: usize = 23;

/// A reserved aggregate header, see [`ReplyBuf::defer`].
#[derive(Debug)]
#[must_use = "a deferred header must be filled with set_deferred"]
pub struct Deferred {
    at: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    Array,
    Map,
    Set,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(f: impl Fn(&mut ReplyBuf)) -> (String, String) {
        let mut a = ReplyBuf::new(Protocol::Resp2);
        let mut b = ReplyBuf::new(Protocol::Resp3);
        f(&mut a);
        f(&mut b);
        (String::from_utf8(a.buf).unwrap(), String::from_utf8(b.buf).unwrap())
    }

    #[test]
    fn resp2_fallbacks() {
        assert_eq!(both(|r| r.null()), ("$-1\r\n".into(), "_\r\n".into()));
        assert_eq!(both(|r| r.null_array()), ("*-1\r\n".into(), "_\r\n".into()));
        assert_eq!(both(|r| r.map(2)), ("*4\r\n".into(), "%2\r\n".into()));
        assert_eq!(both(|r| r.set(3)), ("*3\r\n".into(), "~3\r\n".into()));
        assert_eq!(both(|r| r.boolean(true)), (":1\r\n".into(), "#t\r\n".into()));
        assert_eq!(both(|r| r.double(1.5)), ("$3\r\n1.5\r\n".into(), ",1.5\r\n".into()));
        assert_eq!(
            both(|r| r.double(f64::INFINITY)),
            ("$3\r\ninf\r\n".into(), ",inf\r\n".into())
        );
        assert_eq!(
            both(|r| r.verbatim(b"txt", b"hi")),
            ("$2\r\nhi\r\n".into(), "=6\r\ntxt:hi\r\n".into())
        );
        assert_eq!(
            both(|r| r.error("ERR a\r\nb")),
            ("-ERR a  b\r\n".into(), "-ERR a  b\r\n".into())
        );
    }

    #[test]
    fn deferred_headers() {
        let mut r = ReplyBuf::new(Protocol::Resp2);
        r.int(7);
        let d = r.defer();
        r.bulk(b"a");
        r.bulk(b"b");
        r.set_deferred(d, Aggregate::Map, 1);
        assert_eq!(r.buf, b":7\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    }
}
