//! LCS: the longest common subsequence of two strings, by the classic dynamic programme over a
//! `(len(a)+1) × (len(b)+1)` table of u32, as Redis 7.0 computes it (so ties between equally long
//! answers resolve the same way).
//!
//! The table is transient memory driven by the values' lengths, so it is bounded like Redis bounds it:
//! larger than `proto-max-bulk-len` bytes is refused before anything is allocated, and a failed
//! allocation is an error, not an abort.

use resp::ReplyBuf;

use super::{max_string_len, StrBytes};
use crate::commands::{Args, Ctx};
use crate::error::{CmdError, CmdResult};

/// A matched range: positions in `a` and in `b` (inclusive) and its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Match {
    a: (u32, u32),
    b: (u32, u32),
    len: u32,
}

/// The result of the walk back through the table.
#[derive(Debug, Default, PartialEq, Eq)]
struct Lcs {
    text: Vec<u8>,
    len: u32,
    matches: Vec<Match>,
}

/// Fill the table and walk it back from the end, collecting the subsequence and the contiguous ranges
/// (last ranges first, as Redis emits them) of at least `min_len` bytes (0: all).
fn compute(a: &[u8], b: &[u8], table: &mut Vec<u32>, min_len: u64) -> Lcs {
    let (alen, blen) = (a.len(), b.len());
    let w = blen + 1;
    table.clear();
    table.resize((alen + 1) * w, 0);
    for i in 1..=alen {
        for j in 1..=blen {
            table[i * w + j] = if a[i - 1] == b[j - 1] {
                table[(i - 1) * w + j - 1] + 1
            } else {
                table[(i - 1) * w + j].max(table[i * w + j - 1])
            };
        }
    }
    let total = table[alen * w + blen];
    let mut text = vec![0u8; total as usize];
    let mut matches = Vec::new();
    let mut open: Option<Match> = None;
    let (mut i, mut j, mut k) = (alen, blen, total as usize);
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            text[k - 1] = a[i - 1];
            let (ai, bj) = ((i - 1) as u32, (j - 1) as u32);
            match &mut open {
                None => {
                    open = Some(Match {
                        a: (ai, ai),
                        b: (bj, bj),
                        len: 1,
                    })
                }
                // The walk moves diagonally after a match, so a new match always extends the range.
                Some(m) => {
                    m.a.0 = ai;
                    m.b.0 = bj;
                    m.len += 1;
                }
            }
            if ai == 0 || bj == 0 {
                emit = true;
            }
            i -= 1;
            j -= 1;
            k -= 1;
        } else {
            if table[(i - 1) * w + j] > table[i * w + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            emit = open.is_some();
        }
        if emit {
            if let Some(m) = open.take() {
                if min_len == 0 || u64::from(m.len) >= min_len {
                    matches.push(m);
                }
            }
        }
    }
    Lcs {
        text,
        len: total,
        matches,
    }
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]
pub fn lcs(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let max = max_string_len(ctx);
    let mut db = ctx.db();
    // Both keys first (Redis's order: a type error beats a syntax error), copied since the view lends
    // one entry at a time.
    let mut values: [Vec<u8>; 2] = Default::default();
    for (slot, key) in values.iter_mut().zip([args.get(1), args.get(2)]) {
        if let Some(e) = db.lookup_read(key) {
            let v =
                StrBytes::of(e.value()).map_err(|_| CmdError::err("The specified keys must contain string values"))?;
            *slot = v.as_bytes().to_vec();
        }
    }
    let (mut want_len, mut want_idx, mut with_len, mut min_len) = (false, false, false, 0i64);
    let mut j = 3;
    while j < args.len() {
        let word = args.get(j);
        let is = |w: &str| word.eq_ignore_ascii_case(w.as_bytes());
        if is("idx") {
            want_idx = true;
        } else if is("len") {
            want_len = true;
        } else if is("withmatchlen") {
            with_len = true;
        } else if is("minmatchlen") && j + 1 < args.len() {
            min_len = args.int(j + 1)?.max(0);
            j += 1;
        } else {
            return Err(CmdError::syntax());
        }
        j += 1;
    }
    if want_idx && want_len {
        return Err(CmdError::err(
            "If you want both the length and indexes, please just use IDX.",
        ));
    }
    let [a, b] = &values;
    if a.len() as u64 >= u64::from(u32::MAX) - 1 || b.len() as u64 >= u64::from(u32::MAX) - 1 {
        return Err(CmdError::err("String too long for LCS"));
    }
    let cells = (a.len() as u64 + 1) * (b.len() as u64 + 1);
    let bytes = cells.saturating_mul(4);
    if bytes > max {
        return Err(CmdError::err(
            "Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        ));
    }
    let mut table: Vec<u32> = Vec::new();
    if usize::try_from(cells).map_or(true, |n| table.try_reserve_exact(n).is_err()) {
        return Err(CmdError::err(
            "Insufficient memory, failed allocating transient memory for LCS",
        ));
    }
    let result = compute(a, b, &mut table, min_len as u64);
    if want_idx {
        out.map(2);
        out.bulk(b"matches");
        out.array(result.matches.len());
        for m in &result.matches {
            out.array(if with_len { 3 } else { 2 });
            for (from, to) in [m.a, m.b] {
                out.array(2);
                out.int(i64::from(from));
                out.int(i64::from(to));
            }
            if with_len {
                out.int(i64::from(m.len));
            }
        }
        out.bulk(b"len");
        out.int(i64::from(result.len));
    } else if want_len {
        out.int(i64::from(result.len));
    } else {
        out.bulk(&result.text);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_example() {
        let mut t = Vec::new();
        let r = compute(b"ohmytext", b"mynewtext", &mut t, 0);
        assert_eq!(r.text, b"mytext");
        assert_eq!(r.len, 6);
        assert_eq!(
            r.matches,
            vec![
                Match {
                    a: (4, 7),
                    b: (5, 8),
                    len: 4
                },
                Match {
                    a: (2, 3),
                    b: (0, 1),
                    len: 2
                },
            ]
        );
        assert_eq!(compute(b"ohmytext", b"mynewtext", &mut t, 4).matches.len(), 1);
        assert_eq!(compute(b"", b"abc", &mut t, 0), Lcs::default());
    }
}
