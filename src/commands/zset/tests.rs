//! In-process tests: argument rules and journal effects (what a socket cannot show).

use resp::{Protocol, Value};

use super::*;
use crate::testing::{bulk, err, Harness};

fn int(i: i64) -> Value {
    Value::Int(i)
}

fn arr(items: Vec<Value>) -> Value {
    Value::Array(items)
}

#[test]
fn score_interval_ends_follow_strtod() {
    assert_eq!(strtod_c(b"1.5"), Some(1.5));
    assert_eq!(strtod_c(b" 1"), Some(1.0));
    assert_eq!(strtod_c(b""), Some(0.0));
    assert_eq!(strtod_c(b"1e999"), Some(f64::INFINITY));
    assert_eq!(strtod_c(b"-inf"), Some(f64::NEG_INFINITY));
    assert_eq!(strtod_c(b"1\0junk"), Some(1.0));
    assert_eq!(strtod_c(b"nan"), None);
    assert_eq!(strtod_c(b"1 "), None);
    assert_eq!(strtod_c(b"x"), None);
    let r = parse_score_range(b"(1", b"+inf").expect("valid");
    assert!(r.minex && !r.maxex && r.min == 1.0 && r.max == f64::INFINITY);
    let r = parse_score_range(b"(", b"5").expect("valid");
    assert!(r.minex && r.min == 0.0);
    assert_eq!(
        parse_score_range(b"x", b"1"),
        Err(CmdError::err("min or max is not a float"))
    );
}

#[test]
fn lex_interval_ends() {
    let r = parse_lex_range(b"[a", b"(b").expect("valid");
    assert_eq!(r.min, LexBound::Incl(b"a".to_vec()));
    assert_eq!(r.max, LexBound::Excl(b"b".to_vec()));
    assert_eq!(parse_lex_range(b"-", b"+").expect("valid").max, LexBound::Max);
    assert_eq!(parse_lex_range(b"-\0x", b"+").expect("valid").min, LexBound::Min);
    for bad in [&b"a"[..], b"", b"+x", b"-x"] {
        assert_eq!(
            parse_lex_range(bad, b"+"),
            Err(CmdError::err("min or max not valid string range item"))
        );
    }
}

#[test]
fn rank_clamping() {
    assert_eq!(rank_range(0, -1, 4), 0..4);
    assert_eq!(rank_range(-100, 100, 4), 0..4);
    assert_eq!(rank_range(2, 1, 4), 0..0);
    assert_eq!(rank_range(4, 10, 4), 0..0);
    assert_eq!(rank_range(i64::MAX, i64::MIN, 4), 0..0);
    assert_eq!(rank_range(-1, -1, 4), 3..4);
    assert_eq!(rank_range(0, 0, 0), 0..0);
}

#[test]
fn zadd_is_propagated_as_received_and_only_when_it_changes_something() {
    let mut h = Harness::new();
    h.tap_journal();
    assert_eq!(h.run(&["ZADD", "z", "1", "a", "2", "b"]), int(2));
    assert_eq!(h.run(&["ZADD", "z", "1", "a"]), int(0));
    assert_eq!(h.run(&["ZADD", "z", "NX", "5", "a"]), int(0));
    assert_eq!(h.run(&["ZADD", "z", "GT", "CH", "0", "a"]), int(0));
    assert_eq!(h.run(&["ZADD", "z", "INCR", "1", "b"]), bulk("3"));
    assert_eq!(h.run(&["ZINCRBY", "z", "0.5", "b"]), bulk("3.5"));
    assert_eq!(h.run(&["ZADD", "nokey", "XX", "1", "a"]), int(0));
    assert_eq!(
        h.journal(),
        vec![
            vec!["SELECT", "0"],
            vec!["ZADD", "z", "1", "a", "2", "b"],
            vec!["ZADD", "z", "INCR", "1", "b"],
            vec!["ZINCRBY", "z", "0.5", "b"],
        ]
    );
}

#[test]
fn pops_are_propagated_as_zpopmin_or_zpopmax() {
    let mut h = Harness::new();
    h.run(&["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"]);
    h.tap_journal();
    h.run(&["ZMPOP", "2", "nokey", "z", "MAX", "COUNT", "10"]);
    h.run(&["ZADD", "z", "1", "a", "2", "b"]);
    h.run(&["BZPOPMIN", "nokey", "z", "0"]);
    h.run(&["BZMPOP", "0", "1", "z", "MIN", "COUNT", "5"]);
    h.run(&["ZPOPMIN", "z"]);
    h.run(&["ZMPOP", "1", "z", "MIN"]);
    assert_eq!(
        h.journal(),
        vec![
            vec!["SELECT", "0"],
            vec!["ZPOPMAX", "z", "4"],
            vec!["ZADD", "z", "1", "a", "2", "b"],
            vec!["ZPOPMIN", "z"],
            vec!["ZPOPMIN", "z", "1"],
        ]
    );
}

#[test]
fn stores_of_empty_results_delete_the_destination() {
    let mut h = Harness::new();
    h.run(&["ZADD", "z", "1", "a"]);
    h.run(&["ZADD", "d", "1", "a"]);
    h.tap_journal();
    assert_eq!(h.run(&["ZINTERSTORE", "d", "2", "z", "nokey"]), int(0));
    assert_eq!(h.run(&["ZINTERSTORE", "d", "2", "z", "nokey"]), int(0));
    assert_eq!(h.run(&["ZRANGESTORE", "d", "z", "5", "6"]), int(0));
    assert_eq!(h.run(&["ZUNIONSTORE", "d", "1", "z"]), int(1));
    assert_eq!(
        h.journal(),
        vec![
            vec!["SELECT", "0"],
            vec!["ZINTERSTORE", "d", "2", "z", "nokey"],
            vec!["ZUNIONSTORE", "d", "1", "z"],
        ]
    );
}

#[test]
fn resp3_shapes() {
    let mut h = Harness::new();
    h.set_protocol(Protocol::Resp3);
    h.run(&["ZADD", "z", "1", "a", "2.5", "b"]);
    let d = |s: &str| Value::Double(s.as_bytes().to_vec());
    assert_eq!(h.run(&["ZSCORE", "z", "b"]), d("2.5"));
    assert_eq!(
        h.run(&["ZRANGE", "z", "0", "-1", "WITHSCORES"]),
        arr(vec![arr(vec![bulk("a"), d("1")]), arr(vec![bulk("b"), d("2.5")])])
    );
    assert_eq!(h.run(&["ZPOPMIN", "z"]), arr(vec![bulk("a"), d("1")]));
    assert_eq!(h.run(&["ZPOPMAX", "z", "1"]), arr(vec![arr(vec![bulk("b"), d("2.5")])]));
    assert_eq!(h.run(&["ZMPOP", "1", "z", "MIN"]), Value::Null);
    assert_eq!(h.run(&["ZMSCORE", "z", "a"]), arr(vec![Value::Null]));
}

#[test]
fn errors_keep_redis_words_and_order() {
    let mut h = Harness::new();
    h.run(&["SET", "s", "x"]);
    assert_eq!(h.run(&["ZADD", "s", "x", "a"]), err("ERR value is not a valid float"));
    assert_eq!(
        h.run(&["ZADD", "s", "1", "a"]),
        err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
    assert_eq!(
        h.run(&["ZUNION", "2", "s", "nokey", "BOGUS"]),
        err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
    assert_eq!(
        h.run(&["ZINTERSTORE", "d", "0", "z"]),
        err("ERR at least 1 input key is needed for 'zinterstore' command")
    );
    assert_eq!(
        h.run(&["ZRANGESTORE", "d", "z", "0", "-1", "WITHSCORES"]),
        err("ERR syntax error")
    );
    assert_eq!(
        h.run(&["ZRANDMEMBER", "z", "-9223372036854775808"]),
        err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
    );
}
