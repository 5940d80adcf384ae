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

fn parse_at(buf: &[u8], pos: &mut usize, depth: usize) -> Result<Option<Value>, ValueError> {
    if depth > MAX_DEPTH {
        return Err(ValueError("nesting too deep".into()));
    }
    let Some(&kind) = buf.get(*pos) else { return Ok(None) };
    *pos += 1;
    let Some(l) = line(buf, pos) else { return Ok(None) };
    let blob = |buf: &[u8], pos: &mut usize, n: i64| -> Result<Option<Vec<u8>>, ValueError> {
        let n = usize::try_from(n).map_err(|_| ValueError("negative length".into()))?;
        if buf.len() < *pos + n + 2 {
            return Ok(None);
        }
        let v = buf[*pos..*pos + n].to_vec();
        if &buf[*pos + n..*pos + n + 2] != b"\r\n" {
            return Err(ValueError("missing CRLF after blob".into()));
        }
        *pos += n + 2;
        Ok(Some(v))
    };
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
    let count = |l: &[u8]| -> Result<usize, ValueError> {
        usize::try_from(int(l)?).map_err(|_| ValueError("negative count".into()))
    };
    Ok(Some(match kind {
        b'+' => Value::Simple(l.to_vec()),
        b'-' => Value::Error(l.to_vec()),
        b':' => Value::Int(int(l)?),
        b'$' => match int(l)? {
            -1 => Value::NullBulk,
            n => match blob(buf, pos, n)? {
                Some(v) => Value::Bulk(v),
                None => return Ok(None),
            },
        },
        b'*' => match int(l)? {
            -1 => Value::NullArray,
            _ => Value::Array(elems!(count(l)?)),
        },
        b'_' => Value::Null,
        b',' => Value::Double(l.to_vec()),
        b'#' => match l {
            b"t" => Value::Bool(true),
            b"f" => Value::Bool(false),
            _ => return Err(ValueError("bad boolean".into())),
        },
        b'(' => Value::BigNumber(l.to_vec()),
        b'=' => match blob(buf, pos, int(l)?)? {
            Some(v) if v.len() >= 4 && v[3] == b':' => Value::Verbatim(v[..3].to_vec(), v[4..].to_vec()),
            Some(_) => return Err(ValueError("bad verbatim string".into())),
            None => return Ok(None),
        },
        b'~' => Value::Set(elems!(count(l)?)),
        b'>' => Value::Push(elems!(count(l)?)),
        b'%' | b'|' => {
            let flat = elems!(count(l)?
                .checked_mul(2)
                .ok_or_else(|| ValueError("count overflow".into()))?);
            let mut pairs = Vec::with_capacity(flat.len() / 2);
            let mut it = flat.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                pairs.push((k, v));
            }
            if kind == b'%' {
                Value::Map(pairs)
            } else {
                match parse_at(buf, pos, depth + 1)? {
                    Some(inner) => Value::Attribute(pairs, Box::new(inner)),
                    None => return Ok(None),
                }
            }
        }
        other => return Err(ValueError(format!("unknown type byte {:?}", other as char))),
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
