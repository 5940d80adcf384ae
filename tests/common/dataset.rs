//! One dataset with every type in every encoding, and what tests of files compare about it: the
//! digest, and per key its encoding and whether it has a TTL.

use std::path::Path;
use std::time::Duration;

use super::{Raw, Server, Value};

/// Every type in each encoding Redis 7.0 has, TTLs, three databases, a stream with a group, a
/// consumer and a pending entry, and a function library.
pub fn dataset() -> Vec<Vec<String>> {
    let mut cmds: Vec<Vec<String>> = vec![];
    let mut c = |args: &[&str]| cmds.push(args.iter().map(|s| s.to_string()).collect());
    c(&["SET", "s-embstr", "hello"]);
    c(&["SET", "s-int", "12345"]);
    c(&["SET", "s-min", "-9223372036854775808"]);
    c(&["SET", "s-raw", &"x".repeat(100)]);
    c(&["SET", "s-lzf", &"abc".repeat(200)]);
    c(&["SET", "s-ttl", "v", "PX", "100000000"]);
    c(&["RPUSH", "l-small", "a", "b", "1", "-2", "3000000000"]);
    c(&["SADD", "set-ints", "1", "2", "3", "100000", "-5"]);
    c(&["SADD", "set-words", "a", "b", "c"]);
    c(&["HSET", "h-small", "f", "v", "n", "1"]);
    c(&["ZADD", "z-small", "1", "a", "2.5", "b", "-3", "c", "inf", "top"]);
    c(&["XADD", "st", "1-1", "f", "v"]);
    c(&["XADD", "st", "2-1", "f", "w", "g", "x"]);
    c(&["XADD", "st", "3-0", "f", "y"]);
    c(&["XDEL", "st", "2-1"]);
    c(&["XGROUP", "CREATE", "st", "grp", "0"]);
    c(&[
        "XREADGROUP",
        "GROUP",
        "grp",
        "alice",
        "COUNT",
        "1",
        "STREAMS",
        "st",
        ">",
    ]);
    c(&["XGROUP", "CREATECONSUMER", "st", "grp", "bob"]);
    c(&["EXPIRE", "h-small", "100000"]);
    c(&["SELECT", "3"]);
    c(&["SET", "other", "db3"]);
    for i in 0..700 {
        let (n, v) = (i.to_string(), format!("element-{i}-{}", "y".repeat(40)));
        c(&["HSET", "h-big", &format!("f{i}"), &n]);
        c(&["ZADD", "z-big", &n, &format!("m{i}")]);
        c(&["SADD", "set-big", &format!("m{i}")]);
        c(&["RPUSH", "l-big", &v]);
        c(&["SADD", "set-bigints", &n]);
    }
    c(&["SELECT", "15"]);
    c(&["SET", "last", "db"]);
    c(&[
        "FUNCTION",
        "LOAD",
        "#!lua name=mylib\nredis.register_function('myf', function() return 1 end)",
    ]);
    c(&["SELECT", "0"]);
    cmds
}

pub fn populate(c: &mut Raw) {
    for cmd in dataset() {
        let reply = c.cmd(&cmd);
        assert!(!matches!(reply, Value::Error(_)), "{cmd:?}: {reply:?}");
    }
}

/// Keys of every database: (db, key) pairs, with OBJECT ENCODING, the TTL state and the value's
/// digest.
pub fn shape(c: &mut Raw) -> Vec<(usize, String, Value, Value, Value)> {
    let mut out = vec![];
    for db in 0..16 {
        c.cmd(&["SELECT", &db.to_string()]);
        out.push((db, "(dbsize)".into(), Value::Null, Value::Null, c.cmd(&["DBSIZE"])));
    }
    for db in [0, 3, 15] {
        c.cmd(&["SELECT", &db.to_string()]);
        let Value::Array(keys) = c.cmd(&["KEYS", "*"]) else {
            panic!("keys")
        };
        let mut keys: Vec<String> = keys
            .into_iter()
            .map(|k| match k {
                Value::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
                other => panic!("{other:?}"),
            })
            .collect();
        keys.sort();
        for k in keys {
            let enc = c.cmd(&["OBJECT", "ENCODING", &k]);
            // The value's digest names the key that differs when the whole digest does.
            let value = c.cmd(&["DEBUG", "DIGEST-VALUE", &k]);
            let ttl = match c.cmd(&["PTTL", &k]) {
                Value::Int(-1) => Value::Int(-1),
                Value::Int(_) => Value::Int(1),
                other => other,
            };
            out.push((db, k, enc, ttl, value));
        }
    }
    c.cmd(&["SELECT", "0"]);
    out
}

pub fn digest(c: &mut Raw) -> Value {
    c.cmd(&["DEBUG", "DIGEST"])
}

/// Stop a server without saving and wait for it to go.
pub fn stop(s: &mut Server) {
    s.raw().send(&["SHUTDOWN", "NOSAVE"]);
    assert!(s.wait_exit(Duration::from_secs(10)).is_some(), "server exited");
}

/// No `temp-*.rdb` left behind in `dir`.
pub fn no_temp_file(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .expect("dir")
        .all(|e| !e.expect("entry").file_name().to_string_lossy().starts_with("temp-"))
}

pub fn dir_arg(dir: &Path) -> String {
    dir.to_str().expect("utf8 path").to_string()
}
