//! Parsing any RESP2/RESP3 value, as a server sends it. Used by clients, tests and tools (the
//! differential harness compares these values, types included).

use crate::request::parse_i64_strict;

/// One RESP value. Aggregates own their elements.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Simple(Vec<u8>),
    Error(Vec<u8>),
    Int(i64),
    Bulk(Vec<u8>),
    /// `$-1` (RESP2 null bulk).
    NullBulk,
    /// `*-1` (RESP2 null array).
    NullArray,
    Array(Vec<Value>),
    /// `_` (RESP3 null).
    Null,
    /// `,` (RESP3 double), kept as its text so comparisons are exact.
    Double(Vec<u8>),
    Bool(bool),
    /// `(` (RESP3 big number).
    BigNumber(Vec<u8>),
    /// `=` (RESP3 verbatim string): format and text.
    Verbatim(Vec<u8>, Vec<u8>),
    Map(Vec<(Value, Value)>),
    Set(Vec<Value>),
    Push(Vec<Value>),
    /// `|` attributes, followed by the value they annotate.
    Attribute(Vec<(Value, Value)>, Box<Value>),
}

/// Malformed server output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError(pub String);

impl std::error::Error for ValueError {}

impl std::fmt::Display for ValueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "malformed RESP: {}", self.0)
    }
}

/// Nesting deeper than this is refused (a hostile peer cannot exhaust the stack).
const MAX_DEPTH: usize = 128;

/// Parse one value from the front of `buf`. `Ok(None)` means more bytes are needed; `Ok(Some((v, n)))`
/// gives the value and how many bytes it used.
pub fn parse(buf: &[u8]) -> Result<Option<(Value, usize)>, ValueError> {
    let mut pos = 0;
    match parse_at(buf, &mut pos, 0)? {
        Some(v) => Ok(Some((v, pos))),
        None => Ok(None),
    }
}

fn line<'a>(buf: &'a [u8], pos: &mut usize) -> Option<&'a [u8]> {
    let rest = &buf[*pos..];
    let i = rest.windows(2).position(|w| w == b"\r\n")?;
    *pos += i + 2;
    Some(&rest[..i])
}

fn int(s: &[u8]) -> Result<i64, ValueError> {
    parse_i64_strict(s).ok_or_else(|| ValueError(format!("bad length {:?}", String::from_utf8_lossy(s))))
}

/// One element of a RESP value as it appears on the wire: a scalar with its bytes (borrowed), or the
/// header of an aggregate with its element count (a map's and an attribute's count pairs). A reader
/// that builds something else than a [`Value`] (a script's Lua value) walks these without allocating.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Token<'a> {
    Simple(&'a [u8]),
    Error(&'a [u8]),
    Int(i64),
    Bulk(&'a [u8]),
    NullBulk,
    NullArray,
    Null,
    Double(&'a [u8]),
    Bool(bool),
    BigNumber(&'a [u8]),
    /// Format and text.
    Verbatim(&'a [u8], &'a [u8]),
    Array(usize),
    Map(usize),
    Set(usize),
    Push(usize),
    /// Attribute pairs; the value they annotate follows them.
    Attribute(usize),
}

/// Read the token at `*pos` and move past it. `Ok(None)` means more bytes are needed (`*pos` is then
/// unspecified).
pub fn token<'a>(buf: &'a [u8], pos: &mut usize) -> Result<Option<Token<'a>>, ValueError> {
    let Some(&kind) = buf.get(*pos) else { return Ok(None) };
    *pos += 1;
    let Some(l) = line(buf, pos) else { return Ok(None) };
    let blob = |pos: &mut usize, n: i64| -> Result<Option<&'a [u8]>, ValueError> {
        let n = usize::try_from(n).map_err(|_| ValueError("negative length".into()))?;
        if buf.len() < *pos + n + 2 {
            return Ok(None);
        }
        let v = &buf[*pos..*pos + n];
        if &buf[*pos + n..*pos + n + 2] != b"\r\n" {
            return Err(ValueError("missing CRLF after blob".into()));
        }
        *pos += n + 2;
        Ok(Some(v))
    };
    let count = |l: &[u8]| -> Result<usize, ValueError> {
        usize::try_from(int(l)?).map_err(|_| ValueError("negative count".into()))
    };
    Ok(Some(match kind {
        b'+' => Token::Simple(l),
        b'-' => Token::Error(l),
        b':' => Token::Int(int(l)?),
        b'$' => match int(l)? {
            -1 => Token::NullBulk,
            n => match blob(pos, n)? {
                Some(v) => Token::Bulk(v),
                None => return Ok(None),
            },
        },
        b'*' => match int(l)? {
            -1 => Token::NullArray,
            _ => Token::Array(count(l)?),
        },
        b'_' => Token::Null,
        b',' => Token::Double(l),
        b'#' => match l {
            b"t" => Token::Bool(true),
            b"f" => Token::Bool(false),
            _ => return Err(ValueError("bad boolean".into())),
        },
        b'(' => Token::BigNumber(l),
        b'=' => match blob(pos, int(l)?)? {
            Some(v) if v.len() >= 4 && v[3] == b':' => Token::Verbatim(&v[..3], &v[4..]),
            Some(_) => return Err(ValueError("bad verbatim string".into())),
            None => return Ok(None),
        },
        b'~' => Token::Set(count(l)?),
        b'>' => Token::Push(count(l)?),
        b'%' => Token::Map(count(l)?),
        b'|' => Token::Attribute(count(l)?),
        other => return Err(ValueError(format!("unknown type byte {:?}", other as char))),
    }))
}

fn parse_at(buf: &[u8], pos: &mut usize, depth: usize) -> Result<Option<Value>, ValueError> {
    if depth > MAX_DEPTH {
        return Err(ValueError("nesting too deep".into()));
    }
    let Some(t) = token(buf, pos)? else { return Ok(None) };
    macro_rules! elems {
        ($n:expr) => {{
            let n = $n;
            let mut v = Vec::with_capacity(n.min(1024));
            for _ in 0..n {
                match parse_at(buf, pos, depth + 1)? {
                    Some(x) => v.push(x),
                    None => return Ok(None),
                }
            }
            v
        }};
    }
    let pairs = |n: usize| n.checked_mul(2).ok_or_else(|| ValueError("count overflow".into()));
    let into_pairs = |flat: Vec<Value>| {
        let mut pairs = Vec::with_capacity(flat.len() / 2);
        let mut it = flat.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            pairs.push((k, v));
        }
        pairs
    };
    Ok(Some(match t {
        Token::Simple(l) => Value::Simple(l.to_vec()),
        Token::Error(l) => Value::Error(l.to_vec()),
        Token::Int(i) => Value::Int(i),
        Token::Bulk(b) => Value::Bulk(b.to_vec()),
        Token::NullBulk => Value::NullBulk,
        Token::NullArray => Value::NullArray,
        Token::Null => Value::Null,
        Token::Double(l) => Value::Double(l.to_vec()),
        Token::Bool(b) => Value::Bool(b),
        Token::BigNumber(l) => Value::BigNumber(l.to_vec()),
        Token::Verbatim(f, t) => Value::Verbatim(f.to_vec(), t.to_vec()),
        Token::Array(n) => Value::Array(elems!(n)),
        Token::Set(n) => Value::Set(elems!(n)),
        Token::Push(n) => Value::Push(elems!(n)),
        Token::Map(n) => Value::Map(into_pairs(elems!(pairs(n)?))),
        Token::Attribute(n) => {
            let attrs = into_pairs(elems!(pairs(n)?));
            match parse_at(buf, pos, depth + 1)? {
                Some(inner) => Value::Attribute(attrs, Box::new(inner)),
                None => return Ok(None),
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_type() {
        let input = b"*3\r\n:1\r\n$-1\r\n%1\r\n+a\r\n,1.5\r\n";
        let (v, n) = parse(input).unwrap().unwrap();
        assert_eq!(n, input.len());
        assert_eq!(
            v,
            Value::Array(vec![
                Value::Int(1),
                Value::NullBulk,
                Value::Map(vec![(Value::Simple(b"a".to_vec()), Value::Double(b"1.5".to_vec()))])
            ])
        );
        assert_eq!(
            parse(b"=8\r\ntxt:abcd\r\n").unwrap().unwrap().0,
            Value::Verbatim(b"txt".to_vec(), b"abcd".to_vec())
        );
        assert_eq!(parse(b"*2\r\n:1\r\n").unwrap(), None);
        assert!(parse(b"?x\r\n").is_err());
    }
}
