//! In-process tests: journal effects, the dirty counter, encodings of created and computed sets.

use resp::Value;

use crate::storage::{Object, ValueRef};
use crate::testing::{err, Harness};

fn encoding(h: &Harness, key: &str) -> &'static str {
    match h.core.dbs[0].get(key.as_bytes()).map(|e| e.value()) {
        Some(ValueRef::Obj(Object::Set(s))) => s.encoding(),
        Some(_) => "other",
        None => "missing",
    }
}

/// A harness whose journal is tapped, past the stream's first SELECT.
fn tapped() -> Harness {
    let mut h = Harness::new();
    h.tap_journal();
    h.run(&["SADD", "warmup", "1"]);
    assert_eq!(h.effects(), ["SELECT 0", "SADD warmup 1"]);
    h
}

fn dirty(h: &Harness) -> u64 {
    h.core.stats.dirty
}

fn members(v: Value) -> Vec<String> {
    let items = match v {
        Value::Array(items) | Value::Set(items) => items,
        other => panic!("not an aggregate: {other:?}"),
    };
    let mut out: Vec<String> = items
        .into_iter()
        .map(|i| match i {
            Value::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
            other => panic!("not a bulk: {other:?}"),
        })
        .collect();
    out.sort();
    out
}

#[test]
fn spop_is_journaled_as_what_it_took() {
    let mut h = tapped();
    h.run(&["SADD", "s", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]);
    h.journal();
    // One member: SREM of it.
    let Value::Bulk(m) = h.run(&["SPOP", "s"]) else {
        panic!()
    };
    let m = String::from_utf8(m).unwrap();
    assert_eq!(h.effects(), [format!("SREM s {m}")]);
    // A few: one SREM each, in a transaction.
    let taken = members(h.run(&["SPOP", "s", "3"]));
    let j = h.journal();
    assert_eq!(j.len(), 5);
    assert_eq!(j[0], ["MULTI"]);
    assert_eq!(j[4], ["EXEC"]);
    let mut srem: Vec<String> = j[1..4]
        .iter()
        .map(|e| {
            assert_eq!(e[..2], ["SREM", "s"]);
            e[2].clone()
        })
        .collect();
    srem.sort();
    assert_eq!(srem, taken);
    // Most of what is left (the remainder is rebuilt): still one SREM per member taken.
    let taken = members(h.run(&["SPOP", "s", "5"]));
    assert_eq!(taken.len(), 5);
    assert_eq!(h.journal().len(), 7);
    assert_eq!(h.run(&["SCARD", "s"]), Value::Int(1));
    // A single SREM is not wrapped.
    h.run(&["SADD", "s", "x"]);
    h.journal();
    h.run(&["SPOP", "s", "1"]);
    let j = h.journal();
    assert_eq!(j.len(), 1);
    assert_eq!(j[0][0], "SREM");
    // Everything: DEL.
    h.run(&["SPOP", "s", "100"]);
    assert_eq!(h.effects(), ["DEL s"]);
    assert!(h.core.dbs[0].get(b"s").is_none());
    // Nothing taken, nothing journaled.
    h.run(&["SPOP", "s"]);
    h.run(&["SPOP", "s", "3"]);
    h.run(&["SADD", "t", "1"]);
    h.journal();
    h.run(&["SPOP", "t", "0"]);
    assert!(h.journal().is_empty());
}

#[test]
fn srandmember_and_reads_are_not_journaled() {
    let mut h = tapped();
    h.run(&["SADD", "s", "a", "b"]);
    h.journal();
    h.run(&["SRANDMEMBER", "s"]);
    h.run(&["SRANDMEMBER", "s", "-5"]);
    h.run(&["SMEMBERS", "s"]);
    h.run(&["SINTER", "s", "s"]);
    h.run(&["SSCAN", "s", "0"]);
    assert!(h.journal().is_empty());
}

#[test]
fn writes_are_journaled_as_received_only_when_they_change_something() {
    let mut h = tapped();
    h.run(&["SADD", "s", "a"]);
    h.run(&["SADD", "s", "a"]);
    h.run(&["SREM", "s", "zz"]);
    h.run(&["SMOVE", "s", "d", "zz"]);
    h.run(&["SMOVE", "s", "d", "a"]);
    h.run(&["SINTERSTORE", "e", "nokey", "d"]);
    h.run(&["SUNIONSTORE", "e", "d"]);
    h.run(&["SDIFFSTORE", "e", "d", "d"]);
    assert_eq!(
        h.effects(),
        ["SADD s a", "SMOVE s d a", "SUNIONSTORE e d", "SDIFFSTORE e d d"]
    );
}

#[test]
fn dirty_counts_what_redis_counts() {
    let mut h = Harness::new();
    let d0 = dirty(&h);
    h.run(&["SADD", "s", "a", "b", "c", "a"]);
    assert_eq!(dirty(&h) - d0, 3);
    let d0 = dirty(&h);
    h.run(&["SADD", "s", "c", "d"]);
    assert_eq!(dirty(&h) - d0, 1);
    let d0 = dirty(&h);
    h.run(&["SREM", "s", "a", "b", "zz"]);
    assert_eq!(dirty(&h) - d0, 2);
    let d0 = dirty(&h);
    h.run(&["SREM", "s", "c", "d"]);
    assert_eq!(dirty(&h) - d0, 2);
    h.run(&["SADD", "s", "a", "b", "c"]);
    let d0 = dirty(&h);
    h.run(&["SPOP", "s", "10"]);
    assert_eq!(dirty(&h) - d0, 10, "SPOP counts the count asked for");
    h.run(&["SADD", "s", "a", "b"]);
    let d0 = dirty(&h);
    h.run(&["SMOVE", "s", "t", "a"]);
    assert_eq!(dirty(&h) - d0, 2);
    let d0 = dirty(&h);
    h.run(&["SMOVE", "s", "t", "b"]);
    assert_eq!(dirty(&h) - d0, 2);
    let d0 = dirty(&h);
    h.run(&["SINTERSTORE", "u", "t"]);
    assert_eq!(dirty(&h) - d0, 1);
}

#[test]
fn computed_sets_take_redis_s_encodings() {
    let mut h = Harness::new();
    h.run(&["CONFIG", "SET", "set-max-intset-entries", "4"]);
    h.run(&["SADD", "ints", "1", "2", "3"]);
    h.run(&["SADD", "mixed", "1", "2", "x"]);
    assert_eq!(encoding(&h, "ints"), "intset");
    assert_eq!(encoding(&h, "mixed"), "hashtable");
    h.run(&["SINTERSTORE", "d", "ints", "mixed"]);
    assert_eq!(encoding(&h, "d"), "intset", "the integers both hold");
    h.run(&["SUNIONSTORE", "d", "ints", "mixed"]);
    assert_eq!(encoding(&h, "d"), "hashtable");
    // Difference, algorithm 1 (keep survivors): the integers left are an intset.
    h.run(&["SDIFFSTORE", "d", "mixed", "nokey"]);
    assert_eq!(encoding(&h, "d"), "hashtable");
    h.run(&["SADD", "x", "x"]);
    h.run(&["SDIFFSTORE", "d", "mixed", "x"]);
    assert_eq!(encoding(&h, "d"), "intset");
    // Algorithm 1 from a table: only the survivors are added, so four integers are an intset.
    h.run(&["SADD", "first", "1", "2", "3", "4", "5"]);
    assert_eq!(encoding(&h, "first"), "hashtable");
    h.run(&["SADD", "five", "5"]);
    h.run(&["SDIFFSTORE", "d", "first", "five"]);
    assert_eq!(encoding(&h, "d"), "intset");
    // Algorithm 2 (copy, then remove) is chosen when the first set is big and the others small:
    // the copy converts to a table on the way, and removals never convert back.
    h.run(&["SADD", "big", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    h.run(&["SADD", "few", "5", "6", "7"]);
    h.run(&["SADD", "few2", "8", "9"]);
    h.run(&["SDIFFSTORE", "d", "big", "few", "few2", "x"]);
    assert_eq!(h.run(&["SCARD", "d"]), Value::Int(4));
    assert_eq!(encoding(&h, "d"), "hashtable");
    // SMOVE creates from the member moved.
    h.run(&["SMOVE", "mixed", "m1", "1"]);
    assert_eq!(encoding(&h, "m1"), "intset");
    h.run(&["SMOVE", "mixed", "m2", "x"]);
    assert_eq!(encoding(&h, "m2"), "hashtable");
}

#[test]
fn spop_of_most_of_a_table_can_leave_an_intset() {
    let mut h = Harness::new();
    let mut cmd = vec!["SADD", "s", "a"];
    let nums: Vec<String> = (0..30).map(|i| i.to_string()).collect();
    cmd.extend(nums.iter().map(|s| s.as_str()));
    for _ in 0..20 {
        h.run(&["SPOP", "s", "1000"]);
        h.run(&cmd);
        assert_eq!(encoding(&h, "s"), "hashtable");
        // 31 members, 29 taken: 2 stay, 2 * 5 <= 29, so the remainder is rebuilt.
        h.run(&["SPOP", "s", "29"]);
        let left = members(h.run(&["SMEMBERS", "s"]));
        assert_eq!(left.len(), 2);
        let all_ints = left.iter().all(|m| m.parse::<i64>().is_ok());
        assert_eq!(
            encoding(&h, "s"),
            if all_ints { "intset" } else { "hashtable" },
            "{left:?}"
        );
    }
}

#[test]
fn argument_errors() {
    let mut h = Harness::new();
    h.run(&["SADD", "s", "a"]);
    assert_eq!(
        h.run(&["SPOP", "s", "-1"]),
        err("ERR value is out of range, must be positive")
    );
    assert_eq!(h.run(&["SPOP", "s", "1", "2"]), err("ERR syntax error"));
    assert_eq!(
        h.run(&["SRANDMEMBER", "s", "-9223372036854775808"]),
        err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
    );
    assert_eq!(
        h.run(&["SINTERCARD", "0", "s"]),
        err("ERR numkeys should be greater than 0")
    );
    assert_eq!(
        h.run(&["SINTERCARD", "2", "s"]),
        err("ERR Number of keys can't be greater than number of args")
    );
    assert_eq!(
        h.run(&["SINTERCARD", "1", "s", "LIMIT", "-1"]),
        err("ERR LIMIT can't be negative")
    );
    assert_eq!(h.run(&["SINTERCARD", "1", "s", "LIMIT"]), err("ERR syntax error"));
    assert_eq!(h.run(&["SSCAN", "s", "x"]), err("ERR invalid cursor"));
    assert_eq!(h.run(&["SSCAN", "s", "0", "COUNT", "0"]), err("ERR syntax error"));
    assert_eq!(
        h.run(&["SSCAN", "nokey", "0", "COUNT", "0"]),
        Value::Array(vec![Value::Bulk(b"0".to_vec()), Value::Array(vec![])])
    );
}
