//! In-process tests: effects in the journal, the dirty counter, promotion through commands.

use resp::Value;

use crate::testing::{bulk, err, ok, Harness};

fn int(i: i64) -> Value {
    Value::Int(i)
}

fn encoding(h: &mut Harness, key: &str) -> String {
    let db = &h.core.dbs[0];
    match db.get(key.as_bytes()).map(|e| e.value()) {
        Some(crate::storage::ValueRef::Obj(o)) => o.encoding().to_string(),
        other => format!("{other:?}"),
    }
}

#[test]
fn hincrbyfloat_travels_as_hset_with_the_result() {
    let mut h = Harness::new();
    h.tap_journal();
    assert_eq!(h.run(&["HINCRBYFLOAT", "k", "f", "10.5"]), bulk("10.5"));
    assert_eq!(h.run(&["HINCRBYFLOAT", "k", "f", "0.1"]), bulk("10.6"));
    assert_eq!(
        h.run(&["HINCRBYFLOAT", "k", "f", "5e3"]),
        bulk("5010.60000000000000009")
    );
    assert_eq!(
        h.journal(),
        vec![
            vec!["SELECT", "0"],
            vec!["HSET", "k", "f", "10.5"],
            vec!["HSET", "k", "f", "10.6"],
            vec!["HSET", "k", "f", "5010.60000000000000009"],
        ]
    );
    // Refusals propagate nothing.
    assert_eq!(
        h.run(&["HINCRBYFLOAT", "k", "f", "inf"]),
        err("ERR value is NaN or Infinity")
    );
    assert_eq!(
        h.run(&["HINCRBYFLOAT", "k", "f", "x"]),
        err("ERR value is not a valid float")
    );
    assert_eq!(h.run(&["HSET", "k", "s", "abc"]), int(1));
    assert_eq!(
        h.run(&["HINCRBYFLOAT", "k", "s", "1"]),
        err("ERR hash value is not a float")
    );
    assert_eq!(h.journal(), vec![vec!["HSET", "k", "s", "abc"]]);
}

#[test]
fn dirty_counts_fields_written_and_deleted() {
    let mut h = Harness::new();
    let dirty = |h: &Harness| h.core.stats.dirty;
    let d0 = dirty(&h);
    assert_eq!(h.run(&["HSET", "k", "a", "1", "b", "2", "a", "3"]), int(2));
    assert_eq!(dirty(&h) - d0, 3);
    assert_eq!(h.run(&["HDEL", "k", "a", "zz"]), int(1));
    assert_eq!(dirty(&h) - d0, 4);
    assert_eq!(h.run(&["HDEL", "k", "b"]), int(1));
    assert_eq!(dirty(&h) - d0, 5);
    assert!(h.core.dbs[0].get(b"k").is_none(), "the last HDEL deletes the key");
    assert_eq!(h.run(&["HSETNX", "k", "a", "1"]), int(1));
    assert_eq!(h.run(&["HSETNX", "k", "a", "2"]), int(0));
    assert_eq!(dirty(&h) - d0, 6);
}

#[test]
fn promotion_follows_the_config_at_each_write() {
    let mut h = Harness::new();
    assert_eq!(h.run(&["CONFIG", "SET", "hash-max-listpack-entries", "2"]), ok());
    h.run(&["HSET", "k", "a", "1", "b", "2"]);
    assert_eq!(encoding(&mut h, "k"), "listpack");
    h.run(&["HSET", "k", "c", "3"]);
    assert_eq!(encoding(&mut h, "k"), "hashtable");
    assert_eq!(h.run(&["CONFIG", "SET", "hash-max-ziplist-value", "3"]), ok());
    h.run(&["HSET", "s", "a", "123"]);
    assert_eq!(encoding(&mut h, "s"), "listpack");
    h.run(&["HINCRBY", "s", "a", "1000"]);
    assert_eq!(encoding(&mut h, "s"), "hashtable");
    assert_eq!(h.run(&["HGET", "s", "a"]), bulk("1123"));
}

#[test]
fn wrong_arity_of_pairs_names_the_command() {
    let mut h = Harness::new();
    assert_eq!(
        h.run(&["HSET", "k", "a", "1", "b"]),
        err("ERR wrong number of arguments for 'hset' command")
    );
    assert_eq!(
        h.run(&["HMSET", "k", "a", "1", "b"]),
        err("ERR wrong number of arguments for 'hmset' command")
    );
    assert_eq!(h.run(&["HMSET", "k", "a", "1"]), ok());
}

#[test]
fn absurd_negative_counts_are_refused_not_built() {
    let mut h = Harness::new();
    h.run(&["HSET", "k", "a", "1"]);
    let huge = format!("-{}", super::random::MAX_DRAWS + 1);
    assert_eq!(h.run(&["HRANDFIELD", "k", &huge]), err("ERR value is out of range"));
    assert_eq!(
        h.run(&["HRANDFIELD", "k", "-3"]),
        Value::Array(vec![bulk("a"), bulk("a"), bulk("a")])
    );
}
