//! In-process tests: weights as `strtod` reads them, comparisons, journal effects, dirty counts.

use resp::Value;

use super::{c_str, compare, sort_score, Item};
use crate::testing::{bulk, err, Harness};

fn texts(v: Value) -> Vec<String> {
    let Value::Array(xs) = v else { panic!("{v:?}") };
    xs.into_iter()
        .map(|x| match x {
            Value::Bulk(b) => String::from_utf8(b).unwrap(),
            Value::NullBulk => "nil".into(),
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn weights_are_read_like_strtod() {
    assert_eq!(sort_score(b"1.5"), Some(1.5));
    assert_eq!(sort_score(b" 7"), Some(7.0), "leading blanks are skipped");
    assert_eq!(sort_score(b"0x10"), Some(16.0));
    assert_eq!(sort_score(b"-inf"), Some(f64::NEG_INFINITY));
    assert_eq!(sort_score(b""), Some(0.0), "nothing to read is a zero");
    assert_eq!(sort_score(b"2\x00junk"), Some(2.0), "a NUL ends the text");
    assert_eq!(sort_score(b"7 "), None);
    assert_eq!(sort_score(b"abc"), None);
    assert_eq!(sort_score(b"nan"), None);
    assert_eq!(sort_score(b"1e400"), None);
    assert_eq!(sort_score(b"1e-400"), None);
    assert_eq!(c_str(b"ab\x00cd"), b"ab");
}

#[test]
fn comparisons() {
    use std::cmp::Ordering::*;
    let item = |e: &str, score: f64, w: Option<&str>| Item {
        elem: e.as_bytes().to_vec(),
        score,
        weight: w.map(|w| w.as_bytes().to_vec()),
    };
    // Numeric: scores, then the elements' bytes.
    assert_eq!(
        compare(&item("b", 1.0, None), &item("a", 2.0, None), false, false, false),
        Less
    );
    assert_eq!(
        compare(&item("b", 1.0, None), &item("a", 1.0, None), false, false, false),
        Greater
    );
    // ALPHA by weight: a missing weight first, equal weights equal.
    assert_eq!(
        compare(&item("a", 0.0, None), &item("b", 0.0, Some("x")), true, true, false),
        Less
    );
    assert_eq!(
        compare(
            &item("a", 0.0, Some("x")),
            &item("b", 0.0, Some("x")),
            true,
            true,
            false
        ),
        Equal
    );
    // ALPHA compares up to a NUL, except for STORE.
    let (x, y) = (item("a\x00b", 0.0, None), item("a\x00a", 0.0, None));
    assert_eq!(compare(&x, &y, true, false, false), Equal);
    assert_eq!(compare(&x, &y, true, false, true), Greater);
}

#[test]
fn store_is_journaled_as_received_and_reads_are_not() {
    let mut h = Harness::new();
    h.tap_journal();
    h.run(&["SADD", "s", "2", "1"]);
    h.effects();
    assert_eq!(texts(h.run(&["SORT", "s"])), ["1", "2"]);
    h.run(&["SORT_RO", "s", "BY", "w_*"]);
    assert!(h.effects().is_empty());
    assert_eq!(h.run(&["SORT", "s", "STORE", "d"]), Value::Int(2));
    assert_eq!(h.effects(), ["SORT s STORE d"]);
    // An empty result deletes the destination: a change, journaled; then nothing to delete.
    assert_eq!(h.run(&["SORT", "nokey", "STORE", "d"]), Value::Int(0));
    assert_eq!(h.effects(), ["SORT nokey STORE d"]);
    assert_eq!(h.run(&["SORT", "nokey", "STORE", "d"]), Value::Int(0));
    assert!(h.effects().is_empty());
}

#[test]
fn store_counts_each_element_stored() {
    let mut h = Harness::new();
    h.run(&["SADD", "s", "3", "2", "1"]);
    let d0 = h.core.stats.dirty;
    h.run(&["SORT", "s", "GET", "#", "GET", "x_*", "STORE", "d"]);
    assert_eq!(h.core.stats.dirty - d0, 6);
}

#[test]
fn pattern_lookups_expire_keys_lazily() {
    let mut h = Harness::new();
    h.tap_journal();
    h.run(&["SADD", "s", "1", "2"]);
    h.run(&["SET", "w_1", "5", "PX", "10"]);
    h.run(&["SET", "w_2", "1"]);
    h.effects();
    h.advance_ms(100);
    assert_eq!(texts(h.run(&["SORT", "s", "BY", "w_*", "GET", "w_*"])), ["nil", "1"]);
    assert_eq!(h.effects(), ["DEL w_1"]);
}

#[test]
fn a_nosort_by_sticks() {
    let mut h = Harness::new();
    h.run(&["SADD", "s", "1", "2", "3"]);
    h.run(&["MSET", "w_1", "3", "w_2", "2", "w_3", "1"]);
    assert_eq!(texts(h.run(&["SORT", "s", "BY", "w_*"])), ["3", "2", "1"]);
    // An intset's own order, not the weights'.
    assert_eq!(
        texts(h.run(&["SORT", "s", "BY", "nosort", "BY", "w_*"])),
        ["1", "2", "3"]
    );
    assert_eq!(
        h.run(&["SORT", "s", "BY", "w_*", "LIMIT", "0"]),
        err("ERR syntax error")
    );
    assert_eq!(
        h.run(&["SORT", "s", "GET", "#", "LIMIT", "1", "1"]),
        Value::Array(vec![bulk("2")])
    );
}
