//! Redis's glob matcher (`stringmatchlen` in Redis 7.0's `util.c`), used by KEYS, SCAN MATCH,
//! PSUBSCRIBE, CONFIG GET and ACL patterns.
//!
//! Semantics, kept byte for byte, quirks included:
//! - `*` matches any run of bytes, `?` exactly one byte;
//! - `[abc]`, `[^abc]`, ranges `[a-z]`; a reversed range `[z-a]` is swapped first; bytes compare
//!   as C `char`, i.e. *signed*, so `[a-\xff]` is the range -1..=97 and matches `\xff` and
//!   `\x00`..`a` but not `b`;
//! - `\x` escapes `x`, outside and inside brackets; a trailing `\` matches a literal `\`;
//! - an unterminated `[` runs to the end of the pattern and still consumes one byte;
//! - `[a-]` is the range `a`..`]` (the `]` is taken as the range's end, as Redis does);
//! - with `nocase`, literals compare ASCII-lowercased; in ranges the bounds are swapped *before*
//!   lowercasing, so `[Z-a]` matches nothing without case;
//! - the empty string is matched only by the empty pattern (Redis's loop never runs, so `*`
//!   does not match `""`).
//!
//! Redis recurses once per `*`; a pattern with many stars against a long subject is exponential
//! without its "skip longer matches" guard and deep recursion either way. Here every element but
//! `*` consumes exactly one byte, so the classic iterative matcher that only backtracks to the
//! most recent star gives the same answers in O(pattern × subject) time and O(1) space.

fn lower(b: u8) -> u8 {
    b.to_ascii_lowercase()
}

/// C's `tolower` on a (signed) `char` value in the "C" locale.
fn lower_signed(c: i32) -> i32 {
    if (i32::from(b'A')..=i32::from(b'Z')).contains(&c) {
        c + 32
    } else {
        c
    }
}

/// Runs the non-star element at `pat[p]` against subject byte `c`, as Redis's loop body does:
/// returns whether it accepts `c` and the pattern index after the element. The advance never
/// depends on `c`, which is what makes star backtracking exact.
fn step(pat: &[u8], p: usize, c: u8, nocase: bool) -> (bool, usize) {
    let eq = |a: u8| if nocase { lower(a) == lower(c) } else { a == c };
    match pat[p] {
        b'?' => (true, p + 1),
        b'\\' if pat.len() - p >= 2 => (eq(pat[p + 1]), p + 2),
        b'[' => {
            let mut i = p + 1;
            let not = i < pat.len() && pat[i] == b'^';
            if not {
                i += 1;
            }
            let mut matched = false;
            let next = loop {
                let left = pat.len() - i;
                if left >= 2 && pat[i] == b'\\' {
                    // Redis compares an escaped class member exactly, even with nocase.
                    matched |= pat[i + 1] == c;
                    i += 2;
                } else if left == 0 {
                    // Unterminated class: it ends with the pattern.
                    break pat.len();
                } else if pat[i] == b']' {
                    break i + 1;
                } else if left >= 3 && pat[i + 1] == b'-' {
                    let (mut lo, mut hi) = (i32::from(pat[i] as i8), i32::from(pat[i + 2] as i8));
                    let mut ch = i32::from(c as i8);
                    if lo > hi {
                        std::mem::swap(&mut lo, &mut hi);
                    }
                    if nocase {
                        lo = lower_signed(lo);
                        hi = lower_signed(hi);
                        ch = lower_signed(ch);
                    }
                    matched |= lo <= ch && ch <= hi;
                    i += 3;
                } else {
                    matched |= eq(pat[i]);
                    i += 1;
                }
            };
            (matched != not, next)
        }
        b => (eq(b), p + 1),
    }
}

/// Redis's `stringmatchlen(pattern, s, nocase)`: does `s` match the glob `pattern`?
pub fn glob_match(pattern: &[u8], s: &[u8], nocase: bool) -> bool {
    if s.is_empty() {
        return pattern.is_empty();
    }
    let (mut p, mut i) = (0usize, 0usize);
    // Most recent star: the pattern index just after it, and the subject index it resumes from.
    let mut star: Option<(usize, usize)> = None;
    loop {
        if i == s.len() {
            // Subject consumed: only stars may remain.
            return pattern[p..].iter().all(|&b| b == b'*');
        }
        if p < pattern.len() {
            if pattern[p] == b'*' {
                p += 1;
                star = Some((p, i));
                continue;
            }
            let (ok, next) = step(pattern, p, s[i], nocase);
            if ok {
                p = next;
                i += 1;
                continue;
            }
        }
        // Mismatch (or pattern exhausted with subject left): let the last star eat one more byte.
        match star {
            Some((sp, si)) if si < s.len() => {
                star = Some((sp, si + 1));
                p = sp;
                i = si + 1;
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    fn m(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), false)
    }

    #[test]
    fn basics() {
        assert!(m("", ""));
        assert!(!m("*", ""));
        assert!(!m("", "a"));
        assert!(m("*", "abc"));
        assert!(m("a*", "a"));
        assert!(m("a*c", "abbbc"));
        assert!(!m("a*c", "abbbd"));
        assert!(m("?", "x"));
        assert!(!m("?", "xy"));
        assert!(m("h?llo", "hello"));
        assert!(m("h*llo", "hllo"));
        assert!(m("**a**", "xxa"));
        assert!(!m("a*?", "a"));
        assert!(m("?*", "a"));
    }

    #[test]
    fn classes() {
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(m("h[b-a]llo", "hallo"), "reversed range is swapped");
        assert!(m("[a-]", "]"), "[a-] is the range a..]");
        assert!(m("[a-]", "_"), "the range is swapped to ]..a");
        assert!(!m("[a-]", "b"));
        assert!(m("[abc", "b"), "unterminated class");
        assert!(!m("[abc", "bc"));
        assert!(!m("[]", "]"), "[] is an empty class");
        assert!(m("[\\]]", "]"));
        assert!(m("[\\-]", "-"));
        assert!(m("[^]", "x"), "[^] is an empty negated class");
    }

    #[test]
    fn escapes() {
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "a"));
        assert!(m("a\\", "a\\"), "trailing backslash is literal");
        assert!(m("\\?", "?"));
        assert!(!m("\\?", "x"));
    }

    #[test]
    fn signed_ranges() {
        assert!(glob_match(b"[a-\xff]", b"\xff", false));
        assert!(glob_match(b"[a-\xff]", b"\x01", false));
        assert!(!glob_match(b"[a-\xff]", b"b", false));
    }

    #[test]
    fn nocase() {
        assert!(glob_match(b"PORT", b"port", true));
        assert!(glob_match(b"P?rt", b"pORT", true));
        assert!(glob_match(b"[A-C]x", b"bX", true));
        assert!(!glob_match(b"[Z-a]", b"z", true), "bounds swap before lowercasing");
        assert!(!glob_match(b"PORT", b"port", false));
    }

    #[test]
    fn pathological_is_fast() {
        let s = vec![b'a'; 20_000];
        let p = b"a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
        let t = std::time::Instant::now();
        assert!(!glob_match(p, &s, false));
        let mut many = Vec::new();
        for _ in 0..2000 {
            many.extend_from_slice(b"*a");
        }
        many.push(b'b');
        assert!(!glob_match(&many, &s, false));
        assert!(t.elapsed().as_secs() < 20);
    }

    mod prop {
        use super::super::glob_match;
        use proptest::prelude::*;

        fn alphabet() -> impl Strategy<Value = Vec<u8>> {
            prop::collection::vec(
                prop::sample::select(vec![b'a', b'b', b'*', b'?', b'[', b']', b'^', b'-', b'\\', 0xff]),
                0..24,
            )
        }

        proptest! {
            #[test]
            fn never_panics(p in alphabet(), s in prop::collection::vec(any::<u8>(), 0..24), nc in any::<bool>()) {
                let _ = glob_match(&p, &s, nc);
            }

            #[test]
            fn literal_matches_itself(s in "[a-z0-9]{1,16}") {
                prop_assert!(glob_match(s.as_bytes(), s.as_bytes(), false));
            }

            #[test]
            fn star_patterns_stay_fast(n in 1usize..200, len in 1usize..3000) {
                let mut p = Vec::new();
                for _ in 0..n { p.extend_from_slice(b"a*"); }
                p.push(b'b');
                let s = vec![b'a'; len];
                prop_assert!(!glob_match(&p, &s, false));
            }
        }
    }
}
