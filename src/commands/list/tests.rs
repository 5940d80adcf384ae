//! In-process tests of the list commands: what they propagate (the journal), how they count changes,
//! and how a blocked request behaves when the loop runs it again for a key that became ready. Replies
//! themselves are compared with a real Redis in `tests/lists.rs`.

use resp::{ReplyBuf, Value};

use crate::commands::dispatch::{self, Outcome};
use crate::commands::OwnedArgs;
use crate::server::blocking::{TimeoutReply, WaitType};
use crate::testing::{bulk, err, ok, Harness};

fn int(i: i64) -> Value {
    Value::Int(i)
}

fn arr(items: Vec<Value>) -> Value {
    Value::Array(items)
}

/// Run a command that may block: the outcome and the raw reply bytes.
fn run_raw(h: &mut Harness, args: &[&str]) -> (Outcome, Vec<u8>) {
    let owned = OwnedArgs::from_slices(args.iter().map(|a| a.as_bytes()));
    let mut out = ReplyBuf::new(h.client.out.proto);
    let o = dispatch::execute(&mut h.core, None, &mut h.client, &owned.view(), &mut out);
    (o, out.buf)
}

/// Run a blocked client's request again as the loop does when `key` became ready.
fn rerun_for(h: &mut Harness, key: &str, args: &[&str]) -> (Outcome, Vec<u8>) {
    h.client.serving_key = Some(key.as_bytes().to_vec());
    let r = run_raw(h, args);
    h.client.serving_key = None;
    r
}

fn dirty(h: &Harness) -> u64 {
    h.core.stats.dirty
}

#[test]
fn writes_propagate_as_received_and_no_ops_not_at_all() {
    let mut h = Harness::new();
    h.tap_journal();
    h.run(&["RPUSH", "l", "a", "b", "c"]);
    h.run(&["LPOP", "l", "0"]);
    h.run(&["LPOP", "nokey"]);
    h.run(&["LREM", "l", "0", "zz"]);
    h.run(&["LTRIM", "l", "0", "-1"]);
    h.run(&["LINSERT", "l", "BEFORE", "zz", "x"]);
    h.run(&["LPUSHX", "nokey", "x"]);
    h.run(&["LSET", "l", "9", "x"]);
    h.run(&["LMOVE", "nokey", "l", "LEFT", "LEFT"]);
    h.run(&["LTRIM", "l", "1", "-1"]);
    h.run(&["LMOVE", "l", "m", "left", "RIGHT"]);
    assert_eq!(
        h.effects(),
        ["SELECT 0", "RPUSH l a b c", "LTRIM l 1 -1", "LMOVE l m left RIGHT"]
    );
}

#[test]
fn dirty_counts_elements_like_redis() {
    let mut h = Harness::new();
    let d0 = dirty(&h);
    h.run(&["RPUSH", "l", "a", "b", "c", "d"]);
    assert_eq!(dirty(&h) - d0, 4, "a new list counts each element");
    h.run(&["LPUSH", "l", "x", "y"]);
    assert_eq!(dirty(&h) - d0, 6);
    h.run(&["LPOP", "l", "3"]);
    assert_eq!(dirty(&h) - d0, 9);
    h.run(&["LTRIM", "l", "0", "0"]);
    assert_eq!(dirty(&h) - d0, 11);
    h.run(&["RPOP", "l"]);
    assert_eq!(dirty(&h) - d0, 12, "emptying a list does not count its deletion");
    assert_eq!(h.run(&["LLEN", "l"]), int(0));
    h.run(&["RPUSH", "l", "a"]);
    h.run(&["LMOVE", "l", "m", "LEFT", "LEFT"]);
    assert_eq!(dirty(&h) - d0, 14, "a move counts once");
}

#[test]
fn lmpop_propagates_the_pop_it_did() {
    let mut h = Harness::new();
    h.run(&["RPUSH", "b", "1", "2", "3"]);
    h.tap_journal();
    assert_eq!(
        h.run(&["LMPOP", "2", "a", "b", "RIGHT", "COUNT", "10"]),
        arr(vec![bulk("b"), arr(vec![bulk("3"), bulk("2"), bulk("1")])])
    );
    assert_eq!(h.run(&["LMPOP", "1", "b", "LEFT"]), Value::NullArray);
    assert_eq!(h.effects(), ["SELECT 0", "RPOP b 3"]);
}

#[test]
fn blocking_commands_served_at_once_propagate_their_plain_twins() {
    let mut h = Harness::new();
    h.run(&["RPUSH", "a", "1", "2", "3", "4", "5", "6"]);
    h.tap_journal();
    assert_eq!(h.run(&["BLPOP", "x", "a", "0"]), arr(vec![bulk("a"), bulk("1")]));
    assert_eq!(h.run(&["BRPOP", "a", "0"]), arr(vec![bulk("a"), bulk("6")]));
    assert_eq!(h.run(&["BLMOVE", "a", "b", "left", "RIGHT", "0"]), bulk("2"));
    assert_eq!(h.run(&["BRPOPLPUSH", "a", "b", "0"]), bulk("5"));
    assert_eq!(
        h.run(&["BLMPOP", "0", "1", "a", "LEFT", "COUNT", "9"]),
        arr(vec![bulk("a"), arr(vec![bulk("3"), bulk("4")])])
    );
    assert_eq!(
        h.effects(),
        [
            "SELECT 0",
            "LPOP a",
            "RPOP a",
            "LMOVE a b left RIGHT",
            "RPOPLPUSH a b",
            "LPOP a 2"
        ]
    );
}

#[test]
fn a_miss_blocks_without_reply_and_a_rerun_serves_from_the_ready_key() {
    let mut h = Harness::new();
    h.tap_journal();
    let cmd = ["BLPOP", "a", "b", "100"];
    let (o, reply) = run_raw(&mut h, &cmd);
    assert_eq!(o, Outcome::Blocked);
    assert!(reply.is_empty());
    let spec = h
        .client
        .blocked
        .as_ref()
        .and_then(|b| b.on_keys())
        .cloned()
        .expect("registered as blocked on keys");
    assert_eq!(spec.keys, vec![b"a".to_vec(), b"b".to_vec()]);
    assert_eq!(spec.wait, WaitType::List);
    assert_eq!(spec.on_timeout, TimeoutReply::NullArray);
    assert_eq!(spec.deadline_ms, Some(h.core.now_ms + 100_000));
    // Both keys get lists; the loop re-runs the request for `b`, which woke first: served from `b`.
    h.client.blocked = None;
    h.core.blocking.remove(
        crate::server::blocking::Waiter {
            id: h.client.id,
            slot: h.client.slot,
        },
        &spec,
    );
    h.run(&["RPUSH", "b", "x"]);
    h.run(&["RPUSH", "a", "y"]);
    let (o, reply) = rerun_for(&mut h, "b", &cmd);
    assert_eq!(o, Outcome::Done);
    assert_eq!(reply, b"*2\r\n$1\r\nb\r\n$1\r\nx\r\n");
    assert_eq!(h.effects(), ["SELECT 0", "RPUSH b x", "RPUSH a y", "LPOP b"]);
}

#[test]
fn reruns_propagate_like_redis_serving_a_waiter() {
    let mut h = Harness::new();
    h.run(&["RPUSH", "src", "1", "2", "3", "4"]);
    h.tap_journal();
    let (_, r) = rerun_for(&mut h, "src", &["BLMOVE", "src", "dst", "right", "left", "0"]);
    assert_eq!(r, b"$1\r\n4\r\n");
    let (_, r) = rerun_for(&mut h, "src", &["BRPOPLPUSH", "src", "dst", "0"]);
    assert_eq!(r, b"$1\r\n3\r\n");
    let (_, r) = rerun_for(
        &mut h,
        "src",
        &["BLMPOP", "0", "2", "nokey", "src", "LEFT", "COUNT", "5"],
    );
    assert_eq!(r, b"*2\r\n$3\r\nsrc\r\n*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
    assert_eq!(
        h.effects(),
        [
            "SELECT 0",
            "LMOVE src dst right left",
            "RPOPLPUSH src dst",
            "LPOP src 2"
        ]
    );
    assert_eq!(h.run(&["LRANGE", "dst", "0", "-1"]), arr(vec![bulk("3"), bulk("4")]));
}

#[test]
fn bad_arguments_fail_before_blocking() {
    let mut h = Harness::new();
    for (cmd, want) in [
        (&["BLPOP", "k", "-1"][..], "ERR timeout is negative"),
        (&["BLPOP", "k", "x"], "ERR timeout is not a float or out of range"),
        (&["BLMOVE", "k", "d", "UP", "LEFT", "0"], "ERR syntax error"),
        (&["BLMOVE", "k", "d", "LEFT", "LEFT", "-2"], "ERR timeout is negative"),
        (
            &["BLMPOP", "0", "0", "k", "LEFT"],
            "ERR numkeys should be greater than 0",
        ),
        (
            &["BLMPOP", "x", "1", "k", "LEFT", "COUNT", "0"],
            "ERR count should be greater than 0",
        ),
        (
            &["BLMPOP", "x", "1", "k", "LEFT"],
            "ERR timeout is not a float or out of range",
        ),
    ] {
        assert_eq!(h.run(cmd), err(want), "{cmd:?}");
        assert!(h.client.blocked.is_none());
    }
    assert!(!h.core.blocking.anyone_waiting());
}

#[test]
fn config_sets_the_node_size_of_new_lists() {
    let mut h = Harness::new();
    assert_eq!(h.run(&["CONFIG", "SET", "list-max-ziplist-size", "2"]), ok());
    h.run(&["RPUSH", "l", "a", "b", "c", "d", "e"]);
    let Value::Simple(line) = h.run(&["DEBUG", "OBJECT", "l"]) else {
        panic!("DEBUG OBJECT")
    };
    let line = String::from_utf8_lossy(&line).into_owned();
    assert!(
        line.contains(" ql_nodes:3 ql_avg_node:1.67 ql_listpack_max:2 "),
        "{line}"
    );
    assert_eq!(
        h.run(&["CONFIG", "GET", "list-max-listpack-size"]),
        arr(vec![bulk("list-max-listpack-size"), bulk("2")])
    );
}
