//! How two replies are compared (`Cmp`, `same`) and shown in failure messages (`show`, `show_args`).
//! The comparing itself is `cases::Duo`'s.
#![allow(dead_code)]

use super::Value;

/// How two replies are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// Byte for byte, reply types included.
    Exact,
    /// As multisets where Redis leaves the order unspecified (KEYS, SMEMBERS): arrays are compared after
    /// sorting their elements, recursively.
    Unordered,
    /// Same reply type and structure, values free (RANDOMKEY, TIME, SCAN cursors). Errors must still match.
    Shape,
    /// Integers may differ by at most this much when both are >= 0 (TTL/PTTL read at slightly different
    /// instants); negative ones are codes (-1 no TTL, -2 no key) and must match exactly.
    Near(i64),
}

pub fn show_args<A: AsRef<[u8]>>(args: &[A]) -> String {
    args.iter()
        .map(|a| format!("{:?}", String::from_utf8_lossy(a.as_ref())))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A compact rendering of a reply for failure messages.
pub fn show(v: &Value) -> String {
    let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    match v {
        Value::Simple(b) => format!("+{}", s(b)),
        Value::Error(b) => format!("-{}", s(b)),
        Value::Int(i) => format!(":{i}"),
        Value::Bulk(b) if b.len() > 200 => format!("${}[{} bytes]", s(&b[..60]), b.len()),
        Value::Bulk(b) => format!("{:?}", s(b)),
        Value::NullBulk => "$-1".into(),
        Value::NullArray => "*-1".into(),
        Value::Null => "_".into(),
        Value::Double(b) => format!(",{}", s(b)),
        Value::Bool(b) => format!("#{b}"),
        Value::BigNumber(b) => format!("({}", s(b)),
        Value::Verbatim(f, b) => format!("={}:{}", s(f), s(b)),
        Value::Array(items) => format!("[{}]", items.iter().map(show).collect::<Vec<_>>().join(", ")),
        Value::Set(items) => format!("~[{}]", items.iter().map(show).collect::<Vec<_>>().join(", ")),
        Value::Push(items) => format!(">[{}]", items.iter().map(show).collect::<Vec<_>>().join(", ")),
        Value::Map(pairs) => {
            format!(
                "{{{}}}",
                pairs
                    .iter()
                    .map(|(k, v)| format!("{}: {}", show(k), show(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
        Value::Attribute(_, inner) => format!("|{}", show(inner)),
    }
}

/// Compare two replies under `cmp`.
pub fn same(a: &Value, b: &Value, cmp: Cmp) -> bool {
    match cmp {
        Cmp::Exact => a == b,
        Cmp::Unordered => sorted(a) == sorted(b),
        Cmp::Shape => same_shape(a, b),
        Cmp::Near(tol) => match (a, b) {
            (Value::Int(x), Value::Int(y)) if *x >= 0 && *y >= 0 => (x - y).abs() <= tol,
            _ => a == b,
        },
    }
}

fn sorted(v: &Value) -> Value {
    let key = |v: &Value| format!("{v:?}");
    match v {
        Value::Array(items) | Value::Set(items) => {
            let mut items: Vec<Value> = items.iter().map(sorted).collect();
            items.sort_by_key(key);
            match v {
                Value::Set(_) => Value::Set(items),
                _ => Value::Array(items),
            }
        }
        Value::Map(pairs) => {
            let mut pairs: Vec<(Value, Value)> = pairs.iter().map(|(k, v)| (sorted(k), sorted(v))).collect();
            pairs.sort_by_key(|(k, _)| key(k));
            Value::Map(pairs)
        }
        other => other.clone(),
    }
}

fn same_shape(a: &Value, b: &Value) -> bool {
    use std::mem::discriminant;
    match (a, b) {
        // An error must be the same error even when values are free.
        (Value::Error(x), Value::Error(y)) => x == y,
        (Value::Array(x), Value::Array(y)) | (Value::Set(x), Value::Set(y)) | (Value::Push(x), Value::Push(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_shape(p, q))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((k1, v1), (k2, v2))| same_shape(k1, k2) && same_shape(v1, v2))
        }
        _ => discriminant(a) == discriminant(b),
    }
}

/// Two transcripts of the same steps (one per server) must agree exactly, step by step.
pub fn assert_same_transcripts(ours: &[Value], theirs: &[Value]) {
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        assert!(
            same(a, b, Cmp::Exact),
            "step {i}\n  ferrite: {}\n  redis:   {}",
            show(a),
            show(b)
        );
    }
    assert_eq!(ours.len(), theirs.len(), "transcripts of different lengths");
}
