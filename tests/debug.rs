//! DEBUG against redis-server. The digest test is the proof that Ferrite computes Redis's dataset
//! digest: the same strings (with and without TTLs) give the same DEBUG DIGEST and DIGEST-VALUE, and
//! the element rules collections will use give Redis's digests for lists, sets, hashes, sorted sets
//! and streams built in a real Redis.

mod common;

use common::{err, info_field, simple, Raw, Server, Value};
use ferrite::commands::debug::digest::{self, type_code, Digest};
use ferrite::commands::keyspace::Ttl;
use ferrite::storage::NewValue;
use ferrite::testing::Harness;

fn same(f: &mut Raw, r: &mut Raw, cmd: &[&[u8]]) -> Value {
    let (a, b) = (f.cmd(cmd), r.cmd(cmd));
    assert_eq!(
        a,
        b,
        "{:?}",
        cmd.iter().map(|a| String::from_utf8_lossy(a)).collect::<Vec<_>>()
    );
    a
}

fn strs<'a>(v: &[&'a str]) -> Vec<&'a [u8]> {
    v.iter().map(|s| s.as_bytes()).collect()
}

/// Strings, integers, empty, binary and long values, in two databases.
const DATA: &[(&[u8], &[u8])] = &[
    (b"greeting", b"hello"),
    (b"n", b"12345"),
    (b"neg", b"-7"),
    (b"big", b"99999999999999999999"),
    (b"empty", b""),
    (b"bin\x00key", b"\x00\xff\r\n"),
    (
        b"long",
        b"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
    ),
    (b"0", b"0"),
];

#[test]
fn dataset_digest_matches_redis_for_strings() {
    if !common::redis_available("dataset_digest_matches_redis_for_strings") {
        return;
    }
    let redis = Server::redis(&[]);
    let ferrite = Server::ferrite(&[]);
    let (mut r, mut f) = (redis.raw(), ferrite.raw());
    let zeros = same(&mut f, &mut r, &strs(&["DEBUG", "DIGEST"]));
    assert_eq!(zeros, simple(&"0".repeat(40)));
    for db in ["0", "1"] {
        same(&mut f, &mut r, &strs(&["SELECT", db]));
        for (k, v) in DATA {
            same(&mut f, &mut r, &[b"SET", k, v]);
        }
        same(&mut f, &mut r, &[b"SET", b"only-in", db.as_bytes()]);
    }
    let d = same(&mut f, &mut r, &strs(&["DEBUG", "DIGEST"]));
    assert_ne!(d, zeros);
    let mut q: Vec<&[u8]> = vec![b"DEBUG", b"DIGEST-VALUE"];
    q.extend(DATA.iter().map(|(k, _)| *k));
    q.push(b"nokey");
    same(&mut f, &mut r, &q);
    same(&mut f, &mut r, &strs(&["DEBUG", "DIGEST-VALUE"]));
    // The same data in another database is another dataset.
    same(&mut f, &mut r, &strs(&["SELECT", "0"]));
    same(&mut f, &mut r, &strs(&["SET", "greeting", "changed"]));
    let d2 = same(&mut f, &mut r, &strs(&["DEBUG", "DIGEST"]));
    assert_ne!(d, d2);
}

#[test]
fn digests_with_ttls_match_redis() {
    if !common::redis_available("digests_with_ttls_match_redis") {
        return;
    }
    let redis = Server::redis(&[]);
    let mut r = redis.raw();
    let mut h = Harness::new();
    // Far-future deadlines: the TTL's presence is digested, not its value.
    for (i, (k, v)) in DATA.iter().enumerate() {
        let ttl = i % 2 == 0;
        let mut cmd: Vec<&[u8]> = vec![b"SET", k, v];
        if ttl {
            cmd.extend([&b"EX"[..], b"100000"]);
        }
        assert_eq!(r.cmd(&cmd), simple("OK"));
        let value = match std::str::from_utf8(v).ok().and_then(|s| s.parse::<i64>().ok()) {
            Some(n) if n.to_string().as_bytes() == *v => NewValue::Int(n),
            _ => NewValue::Str(v),
        };
        let at = if ttl {
            Ttl::At(h.core.now_ms + 100_000_000)
        } else {
            Ttl::Clear
        };
        h.core.db_view(0).set(k, value, at);
    }
    let redis_digest = r.cmd(&["DEBUG", "DIGEST"]);
    assert_eq!(h.run(&["DEBUG", "DIGEST"]), redis_digest);
    let mut q: Vec<&[u8]> = vec![b"DEBUG", b"DIGEST-VALUE"];
    q.extend(DATA.iter().map(|(k, _)| *k));
    assert_eq!(h.run_bytes(&q), r.cmd(&q));
    // Removing a TTL changes both.
    r.cmd(&["PERSIST", "greeting"]);
    h.core.db_view(0).set_expire(b"greeting", None);
    assert_ne!(r.cmd(&["DEBUG", "DIGEST"]), redis_digest);
    assert_eq!(h.run(&["DEBUG", "DIGEST"]), r.cmd(&["DEBUG", "DIGEST"]));
}

fn value_of(r: &mut Raw, key: &str) -> String {
    match r.cmd(&["DEBUG", "DIGEST-VALUE", key]) {
        Value::Array(v) => match &v[0] {
            Value::Simple(s) => String::from_utf8_lossy(s).into_owned(),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

fn typed(code: u32) -> Digest {
    let mut d = Digest::default();
    d.mix_in(&code.to_be_bytes());
    d
}

#[test]
fn collection_rules_match_redis() {
    if !common::redis_available("collection_rules_match_redis") {
        return;
    }
    let redis = Server::redis(&[]);
    let mut r = redis.raw();
    // Lists, small and large encodings alike (elements as text).
    let list: Vec<String> = ["a", "b", "1", "", "c"].iter().map(|s| s.to_string()).collect();
    let mut cmd = vec!["RPUSH".to_string(), "l".to_string()];
    cmd.extend(list.iter().cloned());
    r.cmd(&cmd);
    let mut d = typed(type_code::LIST);
    digest::list(&mut d, list.iter().map(|s| s.as_bytes()));
    assert_eq!(value_of(&mut r, "l"), d.hex(), "list");

    for (key, members) in [("s", vec!["x", "y", "zz"]), ("si", vec!["3", "1", "2"])] {
        let mut cmd = vec!["SADD", key];
        cmd.extend(&members);
        r.cmd(&cmd);
        let mut d = typed(type_code::SET);
        digest::set(&mut d, members.iter().map(|s| s.as_bytes()));
        assert_eq!(value_of(&mut r, key), d.hex(), "set {key}");
    }

    r.cmd(&["HSET", "h", "f1", "v1", "f2", "", "3", "4"]);
    let mut d = typed(type_code::HASH);
    digest::hash(&mut d, [(&b"f1"[..], &b"v1"[..]), (b"f2", b""), (b"3", b"4")]);
    assert_eq!(value_of(&mut r, "h"), d.hex(), "hash");

    let scores: &[(&str, f64, &str)] = &[
        ("a", 1.5, "1.5"),
        ("b", 2.0, "2"),
        ("c", 0.1, "0.1"),
        ("d", f64::NEG_INFINITY, "-inf"),
        ("e", 1e100, "1e100"),
        ("f", -3.25, "-3.25"),
    ];
    for (key, big) in [("z", false), ("zbig", true)] {
        let mut cmd = vec!["ZADD".to_string(), key.to_string()];
        for (m, _, text) in scores {
            cmd.push(text.to_string());
            cmd.push(m.to_string());
        }
        if big {
            // Past zset-max-listpack-value: the skiplist encoding.
            cmd.push("7".to_string());
            cmd.push("m".repeat(100));
        }
        r.cmd(&cmd);
        let mut d = typed(type_code::ZSET);
        let long = "m".repeat(100);
        let mut members: Vec<(&[u8], f64)> = scores.iter().map(|(m, s, _)| (m.as_bytes(), *s)).collect();
        if big {
            members.push((long.as_bytes(), 7.0));
        }
        digest::zset(&mut d, members);
        assert_eq!(value_of(&mut r, key), d.hex(), "zset {key}");
    }

    r.cmd(&["XADD", "x", "1-1", "f", "v"]);
    r.cmd(&["XADD", "x", "2-5", "a", "b", "c", "d"]);
    let mut d = typed(type_code::STREAM);
    digest::stream_entry(&mut d, 1, 1, [(&b"f"[..], &b"v"[..])]);
    digest::stream_entry(&mut d, 2, 5, [(&b"a"[..], &b"b"[..]), (b"c", b"d")]);
    assert_eq!(value_of(&mut r, "x"), d.hex(), "stream");
}

#[test]
fn debug_object_like_redis() {
    if !common::redis_available("debug_object_like_redis") {
        return;
    }
    let redis = Server::redis(&[]);
    let ferrite = Server::ferrite(&[]);
    let (mut r, mut f) = (redis.raw(), ferrite.raw());
    let fields = |v: Value| -> Vec<(String, String)> {
        let Value::Simple(line) = v else { panic!("{v:?}") };
        let line = String::from_utf8_lossy(&line).into_owned();
        line.strip_prefix("Value ")
            .expect("Value at:...")
            .split(' ')
            .map(|kv| {
                let (k, v) = kv.split_once(':').expect("key:value");
                (k.to_string(), v.to_string())
            })
            .collect()
    };
    for (k, v) in [
        ("s", "hello"),
        ("n", "12345"),
        ("big", "12345678901"),
        ("u", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ"),
    ] {
        same(&mut f, &mut r, &strs(&["SET", k, v]));
        let (mine, theirs) = (
            fields(f.cmd(&["DEBUG", "OBJECT", k])),
            fields(r.cmd(&["DEBUG", "OBJECT", k])),
        );
        let names: Vec<&str> = mine.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "at",
                "refcount",
                "encoding",
                "serializedlength",
                "lru",
                "lru_seconds_idle"
            ]
        );
        assert!(mine[0].1.starts_with("0x"), "{mine:?}");
        assert_eq!(mine[1].1, "1");
        assert_eq!(mine[2], theirs[2], "encoding of {k}");
        assert_eq!(mine[3], theirs[3], "serializedlength of {k}");
        assert!(mine[4].1.parse::<u32>().is_ok() && mine[5].1.parse::<u64>().is_ok());
    }
    for cmd in [
        &["DEBUG", "OBJECT", "nokey"][..],
        &["DEBUG", "OBJECT"],
        &["DEBUG", "OBJECT", "a", "b"],
    ] {
        same(&mut f, &mut r, &strs(cmd));
    }
}

#[test]
fn populate_like_redis() {
    if !common::redis_available("populate_like_redis") {
        return;
    }
    let redis = Server::redis(&[]);
    let ferrite = Server::ferrite(&[]);
    let (mut r, mut f) = (redis.raw(), ferrite.raw());
    let long_prefix = "p".repeat(200);
    let script: &[&[&str]] = &[
        &["SET", "key:5", "mine"],
        &["DEBUG", "POPULATE", "100"],
        &["DEBUG", "POPULATE", "5", "p", "3"],
        &["DEBUG", "POPULATE", "3", "q", "20"],
        &["DEBUG", "POPULATE", "2", "r", "0"],
        &["DEBUG", "POPULATE", "2", &long_prefix],
        &["DEBUG", "POPULATE", "0"],
        &["GET", "key:5"],
        &["GET", "key:99"],
        &["GET", "p:4"],
        &["GET", "q:2"],
        &["GET", "r:1"],
        &["DBSIZE"],
        &["DEBUG", "DIGEST"],
        &["DEBUG", "POPULATE"],
        &["DEBUG", "POPULATE", "-1"],
        &["DEBUG", "POPULATE", "x"],
        &["DEBUG", "POPULATE", "1", "s", "-1"],
        &["DEBUG", "POPULATE", "1", "s", "x"],
        &["DEBUG", "POPULATE", "1", "a", "b", "c"],
        &["KEYS", "pp*"],
    ];
    for cmd in script {
        if cmd[0] == "KEYS" && f.cmd(&["COMMAND", "INFO", "keys"]) == Value::Array(vec![Value::NullBulk]) {
            continue;
        }
        same(&mut f, &mut r, &strs(cmd));
    }
}

#[test]
fn protocol_samples_like_redis() {
    if !common::redis_available("protocol_samples_like_redis") {
        return;
    }
    let redis = Server::redis(&[]);
    let ferrite = Server::ferrite(&[]);
    let (mut r, mut f) = (redis.raw(), ferrite.raw());
    let types = [
        "string", "integer", "double", "bignum", "null", "array", "set", "map", "attrib", "push", "verbatim", "true",
        "false", "foo", "STRING",
    ];
    for t in types {
        same(&mut f, &mut r, &strs(&["DEBUG", "PROTOCOL", t]));
    }
    let mut r3 = redis.raw();
    assert!(matches!(r3.cmd(&["HELLO", "3"]), Value::Map(_)));
    let mut f3 = ferrite.raw();
    assert!(matches!(f3.cmd(&["HELLO", "3"]), Value::Map(_)));
    for t in types {
        assert_eq!(
            f3.cmd(&["DEBUG", "PROTOCOL", t]),
            r3.cmd(&["DEBUG", "PROTOCOL", t]),
            "{t}"
        );
        if t == "push" {
            assert_eq!(f3.read(), r3.read());
        }
    }
}

#[test]
fn subcommand_errors_and_lenient_arguments_like_redis() {
    if !common::redis_available("subcommand_errors_and_lenient_arguments_like_redis") {
        return;
    }
    let redis = Server::redis(&[]);
    let ferrite = Server::ferrite(&[]);
    let (mut r, mut f) = (redis.raw(), ferrite.raw());
    let script: &[&[&str]] = &[
        &["DEBUG"],
        &["DEBUG", "foo"],
        &["DEBUG", "Foo", "bar"],
        &["DEBUG", "SLEEP"],
        &["DEBUG", "SLEEP", "x"],
        &["DEBUG", "sleep", "0"],
        &["DEBUG", "SLEEP", "-1"],
        &["DEBUG", "SET-ACTIVE-EXPIRE"],
        &["DEBUG", "SET-ACTIVE-EXPIRE", "x"],
        &["DEBUG", "SET-ACTIVE-EXPIRE", "2"],
        &["DEBUG", "SET-ACTIVE-EXPIRE", "1"],
        &["DEBUG", "LOG"],
        &["DEBUG", "LOG", "a", "b"],
        &["DEBUG", "DIGEST", "x"],
        &["DEBUG", "PROTOCOL"],
        &["DEBUG", "STRINGMATCH-LEN"],
        &["DEBUG", "STRINGMATCH-TEST"],
        &["DEBUG", "HELP", "x"],
        &["DEBUG", "ERROR"],
        &["DEBUG", "ERROR", "MYERR some thing"],
        &["DEBUG", "error", "lower case, no prefix added"],
        &["DEBUG", "ERROR", "two\r\nlines\nhere"],
        &["DEBUG", "ERROR", ""],
        &["DEBUG", "ERROR", "a", "b"],
        &["DEBUG", "PAUSE-CRON"],
        &["DEBUG", "PAUSE-CRON", "x"],
        &["DEBUG", "PAUSE-CRON", "0"],
        &["DEBUG", "CHANGE-REPL-ID", "x"],
        &["DEBUG", "CHANGE-REPL-ID"],
    ];
    for cmd in script {
        same(&mut f, &mut r, &strs(cmd));
    }
    // DEBUG ERROR's replies are raw protocol: no error statistics on either side.
    for c in [&mut f, &mut r] {
        let Value::Bulk(stats) = c.cmd(&["INFO", "errorstats"]) else {
            panic!("INFO errorstats")
        };
        assert!(!String::from_utf8_lossy(&stats).contains("MYERR"));
    }
    let Value::Array(help) = f.cmd(&["DEBUG", "HELP"]) else {
        panic!("help")
    };
    assert!(help.len() > 10 && help.iter().all(|l| matches!(l, Value::Simple(_))));
}

#[test]
fn set_active_expire_and_log() {
    let mut h = Harness::new();
    assert!(h.core.active_expire_enabled);
    assert_eq!(h.run(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), simple("OK"));
    assert!(!h.core.active_expire_enabled);
    h.run(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]);
    assert!(h.core.active_expire_enabled);
    h.run(&["DEBUG", "SET-ACTIVE-EXPIRE", "nope"]);
    assert!(!h.core.active_expire_enabled);

    let ferrite = Server::ferrite(&[]);
    let mut f = ferrite.raw();
    assert_eq!(f.cmd(&["DEBUG", "LOG", "hello there"]), simple("OK"));
    assert!(common::eventually(std::time::Duration::from_secs(10), || ferrite
        .log()
        .contains("# DEBUG LOG: hello there")));
    // Refused unless enable-debug-command allows it.
    let locked = Server::ferrite(&["--enable-debug-command", "no"]);
    let mut l = locked.raw();
    assert!(matches!(l.cmd(&["DEBUG", "DIGEST"]), Value::Error(e) if e.starts_with(b"ERR DEBUG command not allowed")));
    assert_eq!(
        l.cmd(&["DEBUG"]),
        err("ERR wrong number of arguments for 'debug' command")
    );
}

#[test]
fn pause_cron_stops_active_expiry_and_change_repl_id_renews_the_id() {
    let ferrite = Server::ferrite(&["--hz", "100"]);
    let mut f = ferrite.raw();
    assert_eq!(f.cmd(&["DEBUG", "PAUSE-CRON", "1"]), simple("OK"));
    assert_eq!(f.cmd(&["SET", "k", "v", "PX", "10"]), simple("OK"));
    std::thread::sleep(std::time::Duration::from_millis(300));
    // Nobody read it and the cron is paused: still counted (DBSIZE does not expire keys).
    assert_eq!(f.cmd(&["DBSIZE"]), common::int(1));
    assert_eq!(f.cmd(&["DEBUG", "PAUSE-CRON", "0"]), simple("OK"));
    assert!(common::eventually(std::time::Duration::from_secs(10), || f
        .cmd(&["DBSIZE"])
        == common::int(0)));

    let before = info_field(&mut f, "replication", "master_replid");
    assert_eq!(f.cmd(&["DEBUG", "CHANGE-REPL-ID"]), simple("OK"));
    let after = info_field(&mut f, "replication", "master_replid");
    assert_ne!(before, after);
    assert!(after.len() == 40 && after.bytes().all(|b| b.is_ascii_hexdigit()));
}
