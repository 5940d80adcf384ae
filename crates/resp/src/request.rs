//! Request parsing: the client → server direction.
//!
//! A request is either a multibulk (`*N\r\n$len\r\n...`) or an inline command (one line, split on blanks
//! with Redis's quoting rules). Parsing is zero-copy for multibulk requests: the parsed frame is a list of
//! byte ranges into the caller's buffer. Inline arguments need unescaping, so they are copied into the
//! frame's own side buffer.
//!
//! The parser is resumable: when the buffer holds only part of a request, the state reached so far is kept,
//! so a large request arriving in many reads is scanned once, not from the start at every read. The caller
//! must present the unconsumed bytes starting at the same request boundary each time (it may move them in
//! memory, e.g. compact its buffer, since every position kept here is relative to the request start).
//!
//! Limits and error texts are Redis 7.0's, including its quirks: the two bytes after a bulk's payload are
//! skipped without being checked, a header line is looked for up to the first `\r` but a NUL byte before it
//! hides it (Redis uses `strchr`), and an unauthenticated client may send at most 10 arguments of at most
//! 16384 bytes each. Allocation never follows an unchecked length: the argument vector grows as arguments
//! actually arrive.

use std::fmt;
use std::ops::Range;

/// Longest inline request, or multibulk/bulk header line, Redis accepts (PROTO_INLINE_MAX_SIZE).
pub const INLINE_MAX: usize = 64 * 1024;
/// Most arguments an unauthenticated client may send in one multibulk.
pub const UNAUTH_MAX_ARGS: i64 = 10;
/// Largest bulk argument an unauthenticated client may send.
pub const UNAUTH_MAX_BULK: i64 = 16384;
/// The argument vector is preallocated up to this many slots; beyond, it grows as arguments arrive.
const PREALLOC_ARGS: usize = 1024;

/// What the parser must enforce for one client.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `proto-max-bulk-len`.
    pub max_bulk_len: u64,
    /// False while the server requires a password this client has not given.
    pub authenticated: bool,
    /// A replication master's stream is trusted: no bulk length limit.
    pub trusted: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk_len: 512 * 1024 * 1024,
            authenticated: true,
            trusted: false,
        }
    }
}

/// A malformed request. Redis answers `-ERR Protocol error: <text>` and closes the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    InvalidMultibulkLength,
    UnauthenticatedMultibulkLength,
    InvalidBulkLength,
    UnauthenticatedBulkLength,
    TooBigMbulkCount,
    TooBigBulkCount,
    TooBigInline,
    UnbalancedQuotes,
    ExpectedDollar(u8),
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::InvalidMultibulkLength => f.write_str("invalid multibulk length"),
            ProtocolError::UnauthenticatedMultibulkLength => f.write_str("unauthenticated multibulk length"),
            ProtocolError::InvalidBulkLength => f.write_str("invalid bulk length"),
            ProtocolError::UnauthenticatedBulkLength => f.write_str("unauthenticated bulk length"),
            ProtocolError::TooBigMbulkCount => f.write_str("too big mbulk count string"),
            ProtocolError::TooBigBulkCount => f.write_str("too big bulk count string"),
            ProtocolError::TooBigInline => f.write_str("too big inline request"),
            ProtocolError::UnbalancedQuotes => f.write_str("unbalanced quotes in request"),
            ProtocolError::ExpectedDollar(c) => write!(f, "expected '$', got '{}'", *c as char),
        }
    }
}

impl std::error::Error for ProtocolError {}

/// One parsed request: its arguments as ranges into the request bytes, or into the frame's inline buffer.
#[derive(Debug, Default)]
pub struct Frame {
    spans: Vec<Range<usize>>,
    inline: Vec<u8>,
    is_inline: bool,
}

impl Frame {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of arguments (0 for an empty request, which the caller skips).
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    pub fn is_inline(&self) -> bool {
        self.is_inline
    }

    /// The byte ranges of the arguments, relative to [`Frame::source`].
    pub fn spans(&self) -> &[Range<usize>] {
        &self.spans
    }

    /// The bytes the spans index: `request` (the buffer given to [`RequestParser::parse`], from the
    /// request start) for a multibulk, the frame's own buffer for an inline command.
    pub fn source<'a>(&'a self, request: &'a [u8]) -> &'a [u8] {
        if self.is_inline {
            &self.inline
        } else {
            request
        }
    }

    /// Argument `i` (panics if out of range; use [`Frame::len`]).
    pub fn arg<'a>(&'a self, request: &'a [u8], i: usize) -> &'a [u8] {
        &self.source(request)[self.spans[i].clone()]
    }

    fn clear(&mut self) {
        self.spans.clear();
        self.inline.clear();
        self.is_inline = false;
    }
}

/// The outcome of one [`RequestParser::parse`] call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed {
    /// A whole request was parsed; it used this many bytes. The frame may be empty (`*0`, a blank line):
    /// Redis skips such requests silently.
    Complete(usize),
    /// More bytes are needed. `need` is how many more are known to be needed (at least 1).
    Incomplete { need: usize },
}

#[derive(Debug, Clone, Copy, Default)]
enum State {
    /// At a request boundary.
    #[default]
    Start,
    /// Inside a multibulk: `remaining` arguments to go, the next header at `pos`, and when that header was
    /// already read, the pending bulk's length.
    Multibulk {
        remaining: usize,
        pos: usize,
        bulk: Option<usize>,
    },
}

/// Resumable request parser, one per connection.
#[derive(Debug, Default)]
pub struct RequestParser {
    state: State,
}

impl RequestParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// True when a request has been partly parsed.
    pub fn in_request(&self) -> bool {
        !matches!(self.state, State::Start)
    }

    /// Forget any partial request (the connection is being reset or closed).
    pub fn reset(&mut self) {
        self.state = State::Start;
    }

    /// Parse the next request from `buf`, which starts at a request boundary (or where the previous
    /// incomplete call's request started). On `Complete`, `frame` holds the arguments; on `Incomplete`,
    /// `frame` holds the part parsed so far and must be passed again unchanged.
    pub fn parse(&mut self, buf: &[u8], limits: &Limits, frame: &mut Frame) -> Result<Parsed, ProtocolError> {
        if let State::Start = self.state {
            frame.clear();
            match buf.first() {
                None => return Ok(Parsed::Incomplete { need: 1 }),
                Some(b'*') => {}
                Some(_) => return parse_inline(buf, frame),
            }
            // Multibulk header.
            let Some(nl) = find_cr(buf) else {
                if buf.len() > INLINE_MAX {
                    return Err(ProtocolError::TooBigMbulkCount);
                }
                return Ok(Parsed::Incomplete { need: 1 });
            };
            if nl + 2 > buf.len() {
                return Ok(Parsed::Incomplete {
                    need: nl + 2 - buf.len(),
                });
            }
            let count = match parse_i64_strict(&buf[1..nl]) {
                Some(n) if n <= i32::MAX as i64 => n,
                _ => return Err(ProtocolError::InvalidMultibulkLength),
            };
            if count > UNAUTH_MAX_ARGS && !limits.authenticated {
                return Err(ProtocolError::UnauthenticatedMultibulkLength);
            }
            if count <= 0 {
                return Ok(Parsed::Complete(nl + 2));
            }
            let count = count as usize;
            frame.spans.reserve(count.min(PREALLOC_ARGS));
            self.state = State::Multibulk {
                remaining: count,
                pos: nl + 2,
                bulk: None,
            };
        }
        let State::Multibulk {
            mut remaining,
            mut pos,
            mut bulk,
        } = self.state
        else {
            unreachable!("the start state was handled above");
        };
        let result = loop {
            let len = match bulk {
                Some(len) => len,
                None => {
                    let rest = &buf[pos..];
                    let Some(nl) = find_cr(rest) else {
                        if rest.len() > INLINE_MAX {
                            self.state = State::Start;
                            return Err(ProtocolError::TooBigBulkCount);
                        }
                        break Parsed::Incomplete { need: 1 };
                    };
                    if nl + 2 > rest.len() {
                        break Parsed::Incomplete {
                            need: nl + 2 - rest.len(),
                        };
                    }
                    if rest[0] != b'$' {
                        self.state = State::Start;
                        return Err(ProtocolError::ExpectedDollar(rest[0]));
                    }
                    let len = match parse_i64_strict(&rest[1..nl]) {
                        Some(n) if n >= 0 && (limits.trusted || n as u64 <= limits.max_bulk_len) => n,
                        _ => {
                            self.state = State::Start;
                            return Err(ProtocolError::InvalidBulkLength);
                        }
                    };
                    if len > UNAUTH_MAX_BULK && !limits.authenticated {
                        self.state = State::Start;
                        return Err(ProtocolError::UnauthenticatedBulkLength);
                    }
                    pos += nl + 2;
                    let len = usize::try_from(len).map_err(|_| ProtocolError::InvalidBulkLength)?;
                    bulk = Some(len);
                    len
                }
            };
            // The payload is followed by two bytes (CRLF) that Redis skips unchecked.
            let end = pos.saturating_add(len).saturating_add(2);
            if end > buf.len() {
                break Parsed::Incomplete { need: end - buf.len() };
            }
            frame.spans.push(pos..pos + len);
            pos = end;
            bulk = None;
            remaining -= 1;
            if remaining == 0 {
                self.state = State::Start;
                return Ok(Parsed::Complete(pos));
            }
        };
        self.state = State::Multibulk { remaining, pos, bulk };
        Ok(result)
    }
}

/// Position of the first `\r`, unless a NUL byte comes first (Redis finds header lines with `strchr`).
#[inline]
fn find_cr(buf: &[u8]) -> Option<usize> {
    let i = buf.iter().position(|&b| b == b'\r' || b == 0)?;
    (buf[i] == b'\r').then_some(i)
}

fn parse_inline(buf: &[u8], frame: &mut Frame) -> Result<Parsed, ProtocolError> {
    // Redis looks for the newline with strchr: a NUL byte before it hides it.
    let nl = match buf.iter().position(|&b| b == b'\n' || b == 0) {
        Some(i) if buf[i] == b'\n' => i,
        _ => {
            if buf.len() > INLINE_MAX {
                return Err(ProtocolError::TooBigInline);
            }
            return Ok(Parsed::Incomplete { need: 1 });
        }
    };
    let line_end = if nl > 0 && buf[nl - 1] == b'\r' { nl - 1 } else { nl };
    frame.is_inline = true;
    split_args(&buf[..line_end], frame)?;
    Ok(Parsed::Complete(nl + 1))
}

/// Split one line into arguments with Redis's `sdssplitargs` rules (the inline-command rules, which
/// Redis also uses for configuration files). The line is a C string to Redis: it ends at a NUL byte.
pub fn split_line(line: &[u8]) -> Result<Vec<Vec<u8>>, ProtocolError> {
    let line = match line.iter().position(|&b| b == 0) {
        Some(nul) => &line[..nul],
        None => line,
    };
    let mut frame = Frame::new();
    split_args(line, &mut frame)?;
    Ok((0..frame.len())
        .map(|i| frame.inline[frame.spans[i].clone()].to_vec())
        .collect())
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Split an inline line the way Redis's `sdssplitargs` does: blanks separate arguments; `"..."` supports
/// `\xHH`, `\n`, `\r`, `\t`, `\b`, `\a` and `\<any>`; `'...'` supports `\'`; a closing quote must be followed
/// by a blank or the end. (The line holds no NUL byte: `parse_inline` never finds a newline behind one.)
fn split_args(line: &[u8], frame: &mut Frame) -> Result<(), ProtocolError> {
    let at = |i: usize| line.get(i).copied().unwrap_or(0);
    let mut i = 0;
    loop {
        while i < line.len() && is_space(line[i]) {
            i += 1;
        }
        if i >= line.len() {
            return Ok(());
        }
        let start = frame.inline.len();
        let (mut in_dq, mut in_sq) = (false, false);
        loop {
            let c = at(i);
            if in_dq {
                if c == b'\\' && at(i + 1) == b'x' {
                    if let (Some(h), Some(l)) = (hex_value(at(i + 2)), hex_value(at(i + 3))) {
                        frame.inline.push(h * 16 + l);
                        i += 4;
                        continue;
                    }
                }
                if c == b'\\' && at(i + 1) != 0 {
                    let e = at(i + 1);
                    frame.inline.push(match e {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                    i += 2;
                } else if c == b'"' {
                    if at(i + 1) != 0 && !is_space(at(i + 1)) {
                        return Err(ProtocolError::UnbalancedQuotes);
                    }
                    i += 1;
                    break;
                } else if c == 0 {
                    return Err(ProtocolError::UnbalancedQuotes);
                } else {
                    frame.inline.push(c);
                    i += 1;
                }
            } else if in_sq {
                if c == b'\\' && at(i + 1) == b'\'' {
                    frame.inline.push(b'\'');
                    i += 2;
                } else if c == b'\'' {
                    if at(i + 1) != 0 && !is_space(at(i + 1)) {
                        return Err(ProtocolError::UnbalancedQuotes);
                    }
                    i += 1;
                    break;
                } else if c == 0 {
                    return Err(ProtocolError::UnbalancedQuotes);
                } else {
                    frame.inline.push(c);
                    i += 1;
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        if c != 0 {
                            i += 1;
                        }
                        break;
                    }
                    b'"' => in_dq = true,
                    b'\'' => in_sq = true,
                    _ => frame.inline.push(c),
                }
                i += 1;
            }
        }
        frame.spans.push(start..frame.inline.len());
    }
}

/// Redis's `string2ll`: an optional `-`, then digits with no leading zero (except `0` itself), no sign
/// `+`, no blanks, within `i64`.
pub fn parse_i64_strict(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s {
        [] => return None,
        [b'0'] => return Some(0),
        [b'-', rest @ ..] => (true, rest),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    if digits.len() > 19 {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((d - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else {
        i64::try_from(v).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(input: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, ProtocolError> {
        let mut p = RequestParser::new();
        let mut f = Frame::new();
        let mut pos = 0;
        let mut out = vec![];
        loop {
            match p.parse(&input[pos..], &Limits::default(), &mut f)? {
                Parsed::Complete(n) => {
                    let req = &input[pos..];
                    out.push((0..f.len()).map(|i| f.arg(req, i).to_vec()).collect());
                    pos += n;
                }
                Parsed::Incomplete { .. } => return Ok(out),
            }
        }
    }

    fn args(v: &[&str]) -> Vec<Vec<u8>> {
        v.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    #[test]
    fn multibulk_and_inline() {
        assert_eq!(
            parse_all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n").unwrap(),
            vec![args(&["GET", "k"])]
        );
        assert_eq!(
            parse_all(b"PING\r\nPING\n").unwrap(),
            vec![args(&["PING"]), args(&["PING"])]
        );
        assert_eq!(parse_all(b"*0\r\n").unwrap(), vec![args(&[])]);
        assert_eq!(parse_all(b"*-1\r\n").unwrap(), vec![args(&[])]);
        assert_eq!(parse_all(b"\r\n").unwrap(), vec![args(&[])]);
        // The two bytes after a payload are skipped unchecked.
        assert_eq!(
            parse_all(b"*1\r\n$4\r\nPINGxxPING\r\n").unwrap(),
            vec![args(&["PING"]), args(&["PING"])]
        );
    }

    #[test]
    fn inline_quoting() {
        let got = parse_all(b"  set  \"a b\" 'c\\'d' \"\\x41\\n\" x\"y z\"\r\n").unwrap();
        assert_eq!(
            got,
            vec![vec![
                b"set".to_vec(),
                b"a b".to_vec(),
                b"c'd".to_vec(),
                b"A\n".to_vec(),
                b"xy z".to_vec()
            ]]
        );
        assert_eq!(parse_all(b"echo \"a\"b\r\n"), Err(ProtocolError::UnbalancedQuotes));
        assert_eq!(parse_all(b"echo \"a\r\n"), Err(ProtocolError::UnbalancedQuotes));
        assert_eq!(parse_all(b"echo 'a\r\n"), Err(ProtocolError::UnbalancedQuotes));
        // Redis finds the newline with strchr: a NUL before it hides it, so the request stays incomplete.
        assert_eq!(parse_all(b"echo a\0b c\n").unwrap(), Vec::<Vec<Vec<u8>>>::new());
    }

    #[test]
    fn errors_match_redis() {
        assert_eq!(
            parse_all(b"*3000000000\r\n"),
            Err(ProtocolError::InvalidMultibulkLength)
        );
        assert_eq!(parse_all(b"*1x\r\n"), Err(ProtocolError::InvalidMultibulkLength));
        assert_eq!(parse_all(b"*\r\n"), Err(ProtocolError::InvalidMultibulkLength));
        assert_eq!(parse_all(b"*01\r\n"), Err(ProtocolError::InvalidMultibulkLength));
        assert_eq!(parse_all(b"*1\r\n$-1\r\n"), Err(ProtocolError::InvalidBulkLength));
        assert_eq!(parse_all(b"*1\r\n$\r\n"), Err(ProtocolError::InvalidBulkLength));
        assert_eq!(
            parse_all(b"*1\r\n$600000000\r\n"),
            Err(ProtocolError::InvalidBulkLength)
        );
        assert_eq!(parse_all(b"*1\r\n:5\r\n"), Err(ProtocolError::ExpectedDollar(b':')));
        assert_eq!(ProtocolError::ExpectedDollar(b':').to_string(), "expected '$', got ':'");
        let long = vec![b'a'; INLINE_MAX + 1];
        assert_eq!(parse_all(&long), Err(ProtocolError::TooBigInline));
        let mut mb = b"*".to_vec();
        mb.extend(std::iter::repeat_n(b'1', INLINE_MAX + 1));
        assert_eq!(parse_all(&mb), Err(ProtocolError::TooBigMbulkCount));
        let mut bb = b"*1\r\n$".to_vec();
        bb.extend(std::iter::repeat_n(b'1', INLINE_MAX + 1));
        assert_eq!(parse_all(&bb), Err(ProtocolError::TooBigBulkCount));
    }

    #[test]
    fn unauthenticated_limits() {
        let limits = Limits {
            authenticated: false,
            ..Limits::default()
        };
        let mut p = RequestParser::new();
        let mut f = Frame::new();
        assert_eq!(
            p.parse(b"*11\r\n", &limits, &mut f),
            Err(ProtocolError::UnauthenticatedMultibulkLength)
        );
        let mut p = RequestParser::new();
        assert_eq!(
            p.parse(b"*1\r\n$16385\r\n", &limits, &mut f),
            Err(ProtocolError::UnauthenticatedBulkLength)
        );
        let mut p = RequestParser::new();
        assert!(matches!(
            p.parse(b"*10\r\n$16384\r\n", &limits, &mut f),
            Ok(Parsed::Incomplete { .. })
        ));
    }

    #[test]
    fn resumes_across_reads() {
        let input = b"*3\r\n$3\r\nSET\r\n$5\r\nhello\r\n$5\r\nworld\r\n";
        let mut p = RequestParser::new();
        let mut f = Frame::new();
        for cut in 0..input.len() {
            assert!(
                matches!(
                    p.parse(&input[..cut], &Limits::default(), &mut f),
                    Ok(Parsed::Incomplete { .. })
                ),
                "cut {cut}"
            );
        }
        assert_eq!(
            p.parse(input, &Limits::default(), &mut f),
            Ok(Parsed::Complete(input.len()))
        );
        assert_eq!(f.arg(input, 2), b"world");
    }

    #[test]
    fn incomplete_reports_need() {
        let mut p = RequestParser::new();
        let mut f = Frame::new();
        let r = p.parse(b"*1\r\n$100\r\nabc", &Limits::default(), &mut f).unwrap();
        assert_eq!(r, Parsed::Incomplete { need: 99 });
    }

    #[test]
    fn strict_integers() {
        for (s, v) in [
            ("0", Some(0)),
            ("-1", Some(-1)),
            ("123", Some(123)),
            ("-0", None),
            ("01", None),
            ("+1", None),
            ("", None),
            ("-", None),
            (" 1", None),
        ] {
            assert_eq!(parse_i64_strict(s.as_bytes()), v, "{s}");
        }
        assert_eq!(parse_i64_strict(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64_strict(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64_strict(b"9223372036854775808"), None);
        assert_eq!(parse_i64_strict(b"-9223372036854775809"), None);
    }
}
