//! In-process tests: option parsing rules, stored encodings, TTL handling and journal effects.

use resp::Value;

use crate::storage::ValueRef;
use crate::testing::{bulk, err, ok, Harness};

const NOW: i64 = 1_767_225_600_000;

fn int(i: i64) -> Value {
    Value::Int(i)
}

fn strings(v: &[&[&str]]) -> Vec<Vec<String>> {
    v.iter().map(|e| e.iter().map(|s| s.to_string()).collect()).collect()
}

/// The stored encoding's name, as OBJECT ENCODING will report it.
fn encoding(h: &Harness, key: &str) -> &'static str {
    match h.core.dbs[0].get(key.as_bytes()).map(|e| e.value()) {
        Some(ValueRef::Int(_)) => "int",
        Some(ValueRef::Str(_, e)) => e.name(),
        Some(ValueRef::Obj(_)) => "object",
        None => "missing",
    }
}

fn expire_at(h: &Harness, key: &str) -> Option<i64> {
    h.core.dbs[0].get(key.as_bytes()).and_then(|e| e.expire_at())
}

/// A harness with the journal tapped and its initial SELECT consumed.
fn tapped() -> Harness {
    let mut h = Harness::new();
    h.tap_journal();
    // The first effect carries the stream's SELECT.
    h.run(&["SET", "selected", "1"]);
    assert_eq!(h.journal(), strings(&[&["SELECT", "0"], &["SET", "selected", "1"]]));
    h
}

#[test]
fn set_option_combinations() {
    let mut h = Harness::new();
    let syntax = err("ERR syntax error");
    for bad in [
        &["NX", "XX"][..],
        &["XX", "NX"],
        &["EX", "10", "PX", "20"],
        &["KEEPTTL", "EX", "10"],
        &["EX", "10", "KEEPTTL"],
        &["EX"],
        &["PERSIST"],
        &["FOO"],
        &["EX", "10", "NX", "FOO"],
        &["EXAT", "10", "PXAT", "10"],
    ] {
        let mut cmd = vec!["SET", "k", "v"];
        cmd.extend_from_slice(bad);
        assert_eq!(h.run(&cmd), syntax, "{cmd:?}");
    }
    for good in [
        &["NX", "NX"][..],
        &["ex", "10", "EX", "20"],
        &["KEEPTTL", "KEEPTTL"],
        &["GET", "GET"],
        &["xx", "get", "keepttl"],
        &["PXAT", "99999999999999", "GET"],
    ] {
        let mut cmd = vec!["SET", "k", "v"];
        cmd.extend_from_slice(good);
        assert_ne!(h.run(&cmd), syntax, "{cmd:?}");
    }
    assert_eq!(h.run(&["GETEX", "k", "PERSIST", "EX", "10"]), syntax);
    assert_eq!(h.run(&["GETEX", "k", "EX", "10", "PERSIST"]), syntax);
    for word in ["KEEPTTL", "NX", "XX", "GET"] {
        assert_eq!(h.run(&["GETEX", "k", word]), syntax);
    }
}

#[test]
fn expire_values() {
    let mut h = Harness::new();
    let bad = err("ERR invalid expire time in 'set' command");
    assert_eq!(h.run(&["SET", "k", "v", "EX", "0"]), bad);
    assert_eq!(h.run(&["SET", "k", "v", "PX", "-1"]), bad);
    assert_eq!(h.run(&["SET", "k", "v", "EXAT", "0"]), bad);
    // Seconds that overflow when converted, and deadlines that wrap past i64::MAX.
    assert_eq!(h.run(&["SET", "k", "v", "EX", "9223372036854776"]), bad);
    assert_eq!(h.run(&["SET", "k", "v", "EX", "9223372036854775"]), bad);
    assert_eq!(h.run(&["SET", "k", "v", "PX", "9223372036854775807"]), bad);
    assert_eq!(h.run(&["SET", "k", "v", "PXAT", "9223372036854775807"]), ok());
    assert_eq!(
        h.run(&["SET", "k", "v", "EX", "1.5"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        h.run(&["SETEX", "k", "0", "v"]),
        err("ERR invalid expire time in 'setex' command")
    );
    assert_eq!(
        h.run(&["PSETEX", "k", "-5", "v"]),
        err("ERR invalid expire time in 'psetex' command")
    );
    assert_eq!(
        h.run(&["GETEX", "k", "EX", "0"]),
        err("ERR invalid expire time in 'getex' command")
    );
    // A missing key answers null before the value is looked at.
    assert_eq!(h.run(&["GETEX", "nokey", "EX", "abc"]), Value::NullBulk);
}

#[test]
fn stored_encodings() {
    let mut h = Harness::new();
    let long = "x".repeat(45);
    let cases = [
        ("12345", "int"),
        ("-9223372036854775808", "int"),
        ("9223372036854775808", "embstr"),
        ("012", "embstr"),
        ("+1", "embstr"),
        (" 1", "embstr"),
        (&long[..44], "embstr"),
        (&long[..], "raw"),
    ];
    for (v, want) in cases {
        h.run(&["SET", "k", v]);
        assert_eq!(encoding(&h, "k"), want, "SET {v}");
        h.run(&["MSET", "m", v]);
        assert_eq!(encoding(&h, "m"), want, "MSET {v}");
    }
    h.run(&["APPEND", "new", "123"]);
    assert_eq!(encoding(&h, "new"), "int");
    h.run(&["APPEND", "new", ""]);
    assert_eq!(encoding(&h, "new"), "raw");
    h.run(&["SET", "n", "7"]);
    assert_eq!(h.run(&["SETRANGE", "n", "0", ""]), int(1));
    assert_eq!(encoding(&h, "n"), "int");
    assert_eq!(h.run(&["SETBIT", "n", "0", "0"]), int(0));
    assert_eq!(encoding(&h, "n"), "raw");
    h.run(&["INCR", "c"]);
    assert_eq!(encoding(&h, "c"), "int");
    h.run(&["SET", "c2", "abc"]);
    h.run(&["INCRBYFLOAT", "f", "5e3"]);
    assert_eq!(encoding(&h, "f"), "embstr");
    h.run(&["INCRBYFLOAT", "g", "1e50"]);
    assert_eq!(encoding(&h, "g"), "raw");
    h.run(&["BITOP", "OR", "b", "k"]);
    assert_eq!(encoding(&h, "b"), "raw");
    h.run(&["BITFIELD", "bf", "SET", "u8", "0", "1"]);
    assert_eq!(encoding(&h, "bf"), "raw");
}

#[test]
fn ttl_handling() {
    let mut h = Harness::new();
    h.run(&["SET", "k", "1", "EX", "100"]);
    assert_eq!(expire_at(&h, "k"), Some(NOW + 100_000));
    h.run(&["INCR", "k"]);
    h.run(&["APPEND", "k", "0"]);
    h.run(&["SETRANGE", "k", "0", "3"]);
    h.run(&["SETBIT", "k", "0", "0"]);
    h.run(&["INCRBYFLOAT", "k", "1"]);
    h.run(&["BITFIELD", "k", "INCRBY", "u8", "0", "1"]);
    assert_eq!(expire_at(&h, "k"), Some(NOW + 100_000));
    h.run(&["SET", "k", "v", "KEEPTTL"]);
    assert_eq!(expire_at(&h, "k"), Some(NOW + 100_000));
    h.run(&["GETSET", "k", "v"]);
    assert_eq!(expire_at(&h, "k"), None);
    h.run(&["SET", "k", "v", "PXAT", &(NOW + 5).to_string()]);
    assert_eq!(h.run(&["GET", "k"]), bulk("v"));
    // Redis's boundary: a key is expired once now is past its deadline, not at it.
    h.advance_ms(5);
    assert_eq!(h.run(&["GET", "k"]), bulk("v"));
    h.advance_ms(1);
    assert_eq!(h.run(&["GET", "k"]), Value::NullBulk);
    h.run(&["PSETEX", "p", "10", "v"]);
    assert_eq!(expire_at(&h, "p"), Some(NOW + 16));
    h.run(&["GETEX", "p", "PERSIST"]);
    assert_eq!(expire_at(&h, "p"), None);
    h.run(&["GETEX", "p", "EXAT", &((NOW / 1000) + 10).to_string()]);
    assert_eq!(expire_at(&h, "p"), Some((NOW / 1000 + 10) * 1000));
    h.run(&["MSET", "p", "x"]);
    assert_eq!(expire_at(&h, "p"), None);
}

#[test]
fn set_effects() {
    let mut h = tapped();
    h.journal();
    h.run(&["SET", "k", "v", "EX", "10", "NX"]);
    h.run(&["set", "k", "w", "get", "xx", "GET", "keepttl"]);
    h.run(&["SET", "k", "w", "NX"]);
    h.run(&["SET", "k", "x", "XX", "GET", "PXAT", "99999999999999"]);
    h.run(&["SETEX", "s", "1", "v"]);
    h.run(&["PSETEX", "s", "1", "v"]);
    h.run(&["SETNX", "s", "v"]);
    h.run(&["SETNX", "n", "v"]);
    h.run(&["GETSET", "n", "w"]);
    let at10 = (NOW + 10_000).to_string();
    let at1 = (NOW + 1_000).to_string();
    let at_ms = (NOW + 1).to_string();
    assert_eq!(
        h.journal(),
        strings(&[
            &["SET", "k", "v", "PXAT", &at10],
            &["set", "k", "w", "xx", "keepttl"],
            &["SET", "k", "x", "PXAT", "99999999999999"],
            &["SET", "s", "v", "PXAT", &at1],
            &["SET", "s", "v", "PXAT", &at_ms],
            &["SETNX", "n", "v"],
            &["SET", "n", "w"],
        ])
    );
}

#[test]
fn getex_getdel_effects() {
    let mut h = tapped();
    h.run(&["SET", "k", "v"]);
    h.journal();
    assert_eq!(h.run(&["GETEX", "k"]), bulk("v"));
    assert_eq!(h.run(&["GETEX", "k", "PERSIST"]), bulk("v"));
    assert_eq!(h.run(&["GETEX", "k", "EX", "10"]), bulk("v"));
    assert_eq!(h.run(&["GETEX", "k", "PERSIST"]), bulk("v"));
    assert_eq!(h.run(&["GETEX", "k", "PXAT", &(NOW + 7).to_string()]), bulk("v"));
    assert_eq!(h.run(&["GETEX", "k", "EXAT", "1"]), bulk("v"));
    assert_eq!(h.run(&["GET", "k"]), Value::NullBulk);
    h.run(&["SET", "d", "v"]);
    assert_eq!(h.run(&["GETDEL", "d"]), bulk("v"));
    assert_eq!(h.run(&["GETDEL", "d"]), Value::NullBulk);
    assert_eq!(
        h.journal(),
        strings(&[
            &["PEXPIREAT", "k", &(NOW + 10_000).to_string()],
            &["PERSIST", "k"],
            &["PEXPIREAT", "k", &(NOW + 7).to_string()],
            &["DEL", "k"],
            &["SET", "d", "v"],
            &["DEL", "d"],
        ])
    );
    h.core.config.lazyfree_lazy_user_del = true;
    h.core.config.lazyfree_lazy_expire = true;
    h.run(&["SET", "d", "v"]);
    h.run(&["GETDEL", "d"]);
    h.run(&["SET", "d", "v"]);
    h.run(&["GETEX", "d", "PXAT", "1"]);
    assert_eq!(
        h.journal(),
        strings(&[
            &["SET", "d", "v"],
            &["UNLINK", "d"],
            &["SET", "d", "v"],
            &["UNLINK", "d"]
        ])
    );
}

#[test]
fn write_only_when_changed() {
    let mut h = tapped();
    h.journal();
    h.run(&["SETBIT", "b", "0", "0"]); // created
    h.run(&["SETBIT", "b", "0", "0"]); // no change
    h.run(&["SETBIT", "b", "0", "1"]);
    h.run(&["SETBIT", "b", "9", "0"]); // grows
    h.run(&["SETRANGE", "b", "0", ""]);
    h.run(&["SETRANGE", "missing", "5", ""]);
    h.run(&["BITFIELD", "b", "GET", "u8", "0"]);
    h.run(&["BITFIELD", "b", "SET", "u8", "0", "128"]); // same value
    h.run(&["BITFIELD", "b", "INCRBY", "u8", "0", "0"]);
    h.run(&["BITFIELD", "b", "OVERFLOW", "FAIL", "INCRBY", "u2", "16", "9"]); // grows, write fails
    h.run(&["BITOP", "AND", "dest", "nokey1", "nokey2"]);
    h.run(&["SETNX", "b", "x"]);
    h.run(&["MSETNX", "b", "x", "c", "y"]);
    h.run(&["SET", "b", "x", "NX", "GET"]);
    h.run(&["APPEND", "b", ""]);
    assert_eq!(
        h.journal(),
        strings(&[
            &["SETBIT", "b", "0", "0"],
            &["SETBIT", "b", "0", "1"],
            &["SETBIT", "b", "9", "0"],
            &["BITFIELD", "b", "OVERFLOW", "FAIL", "INCRBY", "u2", "16", "9"],
            &["APPEND", "b", ""],
        ])
    );
}

#[test]
fn incrbyfloat_effects_and_values() {
    let mut h = tapped();
    h.journal();
    assert_eq!(h.run(&["INCRBYFLOAT", "f", "10.5"]), bulk("10.5"));
    assert_eq!(h.run(&["INCRBYFLOAT", "f", "0.1"]), bulk("10.6"));
    assert_eq!(
        h.run(&["INCRBYFLOAT", "f", "abc"]),
        err("ERR value is not a valid float")
    );
    assert_eq!(
        h.run(&["INCRBYFLOAT", "f", "inf"]),
        err("ERR increment would produce NaN or Infinity")
    );
    h.run(&["SET", "i", "9223372036854775807"]);
    assert_eq!(h.run(&["INCRBYFLOAT", "i", "1"]), bulk("9223372036854775808"));
    assert_eq!(
        h.journal(),
        strings(&[
            &["SET", "f", "10.5", "KEEPTTL"],
            &["SET", "f", "10.6", "KEEPTTL"],
            &["SET", "i", "9223372036854775807"],
            &["SET", "i", "9223372036854775808", "KEEPTTL"],
        ])
    );
}

#[test]
fn counters() {
    let mut h = Harness::new();
    assert_eq!(h.run(&["INCRBY", "c", "-9223372036854775808"]), int(i64::MIN));
    assert_eq!(h.run(&["DECR", "c"]), err("ERR increment or decrement would overflow"));
    assert_eq!(
        h.run(&["DECRBY", "c", "-9223372036854775808"]),
        err("ERR decrement would overflow")
    );
    assert_eq!(
        h.run(&["INCRBY", "c", "1.5"]),
        err("ERR value is not an integer or out of range")
    );
    h.run(&["SET", "s", " 1"]);
    assert_eq!(
        h.run(&["INCR", "s"]),
        err("ERR value is not an integer or out of range")
    );
    h.run(&["SET", "s", "41"]);
    assert_eq!(h.run(&["INCR", "s"]), int(42));
    assert_eq!(h.run(&["GET", "s"]), bulk("42"));
}

#[test]
fn string_length_limit() {
    let mut h = Harness::new();
    h.core.config.proto_max_bulk_len = 1024 * 1024;
    let too_long = err("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
    let bad_offset = err("ERR bit offset is not an integer or out of range");
    assert_eq!(h.run(&["SETRANGE", "k", "1048576", "x"]), too_long);
    assert_eq!(h.run(&["SETRANGE", "k", "1048576", ""]), int(0));
    assert_eq!(h.run(&["SETRANGE", "k", "9223372036854775807", "x"]), too_long);
    assert_eq!(h.run(&["SETRANGE", "k", "1048575", "x"]), int(1048576));
    assert_eq!(h.run(&["APPEND", "k", "x"]), too_long);
    assert_eq!(h.run(&["SETBIT", "b", "8388608", "1"]), bad_offset);
    assert_eq!(h.run(&["SETBIT", "b", "8388607", "1"]), int(0));
    assert_eq!(h.run(&["BITFIELD", "b", "SET", "u8", "#1048576", "1"]), bad_offset);
    assert_eq!(h.run(&["GETBIT", "b", "8388608"]), bad_offset);
    assert_eq!(
        h.run(&["LCS", "k", "b"]),
        err("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
    );
}

/// RESP3 replies, byte for byte as redis-server 7.0 sends them after `HELLO 3`.
#[test]
fn resp3_replies() {
    use crate::commands::{dispatch, OwnedArgs};
    use resp::{Protocol, ReplyBuf};

    let mut h = Harness::new();
    h.set_protocol(Protocol::Resp3);
    let mut raw = |args: &[&str]| -> String {
        let owned = OwnedArgs::from_slices(args.iter().map(|a| a.as_bytes()));
        let mut out = ReplyBuf::new(Protocol::Resp3);
        dispatch::execute(&mut h.core, None, &mut h.client, &owned.view(), &mut out);
        String::from_utf8(out.buf).expect("ascii reply")
    };
    raw(&["SET", "a", "ohmytext"]);
    raw(&["SET", "b", "mynewtext"]);
    let cases = [
        (
            &["LCS", "a", "b", "IDX", "WITHMATCHLEN"][..],
            "%2\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n\
             *3\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n$3\r\nlen\r\n:6\r\n",
        ),
        (&["GET", "x"], "_\r\n"),
        (&["MGET", "a", "x"], "*2\r\n$8\r\nohmytext\r\n_\r\n"),
        (
            &[
                "BITFIELD", "w", "OVERFLOW", "FAIL", "SET", "u2", "0", "9", "GET", "u2", "0",
            ],
            "*2\r\n_\r\n:0\r\n",
        ),
        (&["INCRBYFLOAT", "f", "1.5"], "$3\r\n1.5\r\n"),
        (&["SET", "a", "v", "NX"], "_\r\n"),
        (&["SET", "a", "v", "NX", "GET"], "$8\r\nohmytext\r\n"),
        (&["GETEX", "x"], "_\r\n"),
        (&["GETDEL", "x"], "_\r\n"),
        (&["GETSET", "x", "1"], "_\r\n"),
        (&["SETNX", "a", "1"], ":0\r\n"),
        (&["SET", "a", "v", "XX"], "+OK\r\n"),
    ];
    for (args, want) in cases {
        assert_eq!(raw(args), want, "{args:?}");
    }
}
