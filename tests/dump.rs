//! DUMP and RESTORE against a real redis-server 7.0: payloads move both ways with equal content and
//! encodings, deterministic encodings give the same bytes, errors match, and damaged payloads are
//! refused without harm.

mod common;

use common::{redis_available, simple, Raw, Server, Value};

/// (key, command that builds it) for every type and encoding.
fn values() -> Vec<(&'static str, Vec<String>)> {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let mut out = vec![
        ("s-embstr", s(&["SET", "s-embstr", "hello"])),
        ("s-int", s(&["SET", "s-int", "-42"])),
        ("s-raw", s(&["SET", "s-raw", &"r".repeat(60)])),
        ("s-lzf", s(&["SET", "s-lzf", &"abcd".repeat(100)])),
        ("l", s(&["RPUSH", "l", "a", "1", "-2", "x y"])),
        ("set-i", s(&["SADD", "set-i", "3", "1", "2"])),
        ("set-w", s(&["SADD", "set-w", "b", "a"])),
        ("h", s(&["HSET", "h", "f", "v", "n", "7"])),
        ("z", s(&["ZADD", "z", "1.5", "a", "-inf", "b", "3", "c"])),
        ("st", s(&["XADD", "st", "5-1", "f", "v", "g", "w"])),
    ];
    let mut big_h = s(&["HSET", "h-big"]);
    let mut big_z = s(&["ZADD", "z-big"]);
    let mut big_l = s(&["RPUSH", "l-big"]);
    for i in 0..600 {
        big_h.extend([format!("f{i}"), i.to_string()]);
        big_z.extend([i.to_string(), format!("m{i}")]);
        big_l.push(format!("element-{i}-{}", "q".repeat(30)));
    }
    out.push(("h-big", big_h));
    out.push(("z-big", big_z));
    out.push(("l-big", big_l));
    out
}

fn bulk(v: Value) -> Vec<u8> {
    match v {
        Value::Bulk(b) => b,
        other => panic!("expected a bulk, got {other:?}"),
    }
}

fn value_state(c: &mut Raw, key: &str) -> (Value, Value) {
    (
        c.cmd(&["DEBUG", "DIGEST-VALUE", key]),
        c.cmd(&["OBJECT", "ENCODING", key]),
    )
}

#[test]
fn payloads_move_both_ways() {
    if !redis_available("payloads_move_both_ways") {
        return;
    }
    let f = Server::ferrite(&[]);
    let r = Server::redis(&[]);
    let (mut fc, mut rc) = (f.raw(), r.raw());
    for (key, build) in values() {
        for c in [&mut fc, &mut rc] {
            assert!(!matches!(c.cmd(&build), Value::Error(_)), "{build:?}");
        }
        let from_redis = bulk(rc.cmd(&["DUMP", key]));
        let from_ferrite = bulk(fc.cmd(&["DUMP", key]));
        // Sets and hashes in a table are written in hash order, and that order is the server's own.
        if !["set-w", "h-big"].contains(&key) {
            assert!(from_ferrite == from_redis, "{key}: DUMP bytes differ");
        }
        let want = value_state(&mut rc, key);
        let restored = format!("{key}-copy");
        assert_eq!(
            fc.cmd(&[
                b"RESTORE".to_vec(),
                restored.clone().into_bytes(),
                b"0".to_vec(),
                from_redis
            ]),
            simple("OK")
        );
        assert_eq!(value_state(&mut fc, &restored), want, "{key}: Redis -> Ferrite");
        assert_eq!(
            rc.cmd(&[
                b"RESTORE".to_vec(),
                restored.clone().into_bytes(),
                b"0".to_vec(),
                from_ferrite
            ]),
            simple("OK")
        );
        assert_eq!(value_state(&mut rc, &restored), want, "{key}: Ferrite -> Redis");
    }
    assert_eq!(fc.cmd(&["DUMP", "missing"]), rc.cmd(&["DUMP", "missing"]));
}

#[test]
fn errors_and_options_match_redis() {
    if !redis_available("errors_and_options_match_redis") {
        return;
    }
    let f = Server::ferrite(&[]);
    let r = Server::redis(&[]);
    let (mut fc, mut rc) = (f.raw(), r.raw());
    for c in [&mut fc, &mut rc] {
        c.cmd(&["SET", "k", "v"]);
    }
    let payload = bulk(rc.cmd(&["DUMP", "k"]));
    let p = |args: &[&str]| -> Vec<Vec<u8>> {
        args.iter()
            .map(|a| {
                if *a == "$P" {
                    payload.clone()
                } else {
                    a.as_bytes().to_vec()
                }
            })
            .collect()
    };
    let script: Vec<Vec<Vec<u8>>> = vec![
        p(&["RESTORE", "k", "0", "$P"]),
        p(&["RESTORE", "k", "0", "$P", "REPLACE"]),
        p(&["RESTORE", "n", "abc", "$P"]),
        p(&["RESTORE", "n", "-5", "$P"]),
        p(&["RESTORE", "n", "0", "garbage"]),
        p(&["RESTORE", "n", "0", "$P", "BOGUS"]),
        p(&["RESTORE", "n", "0", "$P", "IDLETIME"]),
        p(&["RESTORE", "n", "0", "$P", "IDLETIME", "-1"]),
        p(&["RESTORE", "n", "0", "$P", "IDLETIME", "x"]),
        p(&["RESTORE", "n", "0", "$P", "FREQ", "256"]),
        p(&["RESTORE", "n", "0", "$P", "IDLETIME", "5", "FREQ", "5"]),
        p(&["RESTORE", "k", "0", "garbage", "BOGUS"]),
        p(&["RESTORE", "n", "0", "$P", "IDLETIME", "100"]),
        p(&["OBJECT", "IDLETIME", "n"]),
        p(&["RESTORE", "t", "100000", "$P"]),
        p(&["RESTORE", "a", "1", "$P", "ABSTTL"]),
        p(&["EXISTS", "a"]),
        p(&["RESTORE", "k", "1", "$P", "ABSTTL", "REPLACE"]),
        p(&["EXISTS", "k"]),
        p(&["RESTORE"]),
        p(&["RESTORE", "x", "0"]),
        p(&["DUMP"]),
    ];
    for cmd in &script {
        let (got, want) = (fc.cmd(cmd), rc.cmd(cmd));
        assert_eq!(
            got,
            want,
            "{:?}",
            cmd.iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect::<Vec<_>>()
        );
    }
    let Value::Int(ttl) = fc.cmd(&["PTTL", "t"]) else {
        panic!("pttl")
    };
    assert!((99_000..=100_000).contains(&ttl), "{ttl}");
}

#[test]
fn the_journal_gets_absolute_deadlines_and_deletes() {
    let mut h = ferrite::testing::Harness::new();
    h.run(&["SET", "k", "v"]);
    let Value::Bulk(payload) = h.run(&["DUMP", "k"]) else {
        panic!("dump")
    };
    let now = h.core.now_ms;
    h.tap_journal();
    let run = |h: &mut ferrite::testing::Harness, args: &[&[u8]]| h.run_bytes(args);
    assert_eq!(run(&mut h, &[b"RESTORE", b"r", b"5000", &payload]), simple("OK"));
    let at = (now + 5000).to_string();
    assert_eq!(
        h.effects(),
        vec![
            "SELECT 0".to_string(),
            format!("RESTORE r {at} {} ABSTTL", String::from_utf8_lossy(&payload))
        ]
    );
    assert_eq!(h.run(&["PEXPIRETIME", "r"]), Value::Int(now + 5000));
    // A deadline already past: the replaced key is deleted, and that is what is journaled.
    assert_eq!(
        run(&mut h, &[b"RESTORE", b"r", b"1", &payload, b"ABSTTL", b"REPLACE"]),
        simple("OK")
    );
    assert_eq!(h.effects(), vec!["DEL r".to_string()]);
    assert_eq!(h.run(&["EXISTS", "r"]), Value::Int(0));
    // Past and nothing replaced: no effect at all.
    assert_eq!(
        run(&mut h, &[b"RESTORE", b"q", b"1", &payload, b"ABSTTL"]),
        simple("OK")
    );
    assert!(h.effects().is_empty());
}

#[test]
fn damaged_payloads_are_refused_and_nothing_breaks() {
    let f = Server::ferrite(&[]);
    let mut c = f.raw();
    for (_, build) in values() {
        c.cmd(&build);
    }
    let mut n = 0;
    for (key, _) in values() {
        let good = bulk(c.cmd(&["DUMP", key]));
        let body_len = good.len() - 10;
        // Truncations and byte flips, each re-sealed with a valid footer so the value parser sees them.
        for cut in (1..body_len).step_by((body_len / 16).max(1)) {
            let body = &good[..cut];
            let reply = c.cmd(&[b"RESTORE".to_vec(), b"bad".to_vec(), b"0".to_vec(), reseal(body)]);
            assert!(matches!(reply, Value::Error(_)) || reply == simple("OK"), "{reply:?}");
            c.cmd(&["DEL", "bad"]);
            n += 1;
        }
        for at in (0..body_len).step_by((body_len / 16).max(1)) {
            for x in [0x01u8, 0x80, 0xFF] {
                let mut body = good[..body_len].to_vec();
                body[at] ^= x;
                let reply = c.cmd(&[b"RESTORE".to_vec(), b"bad".to_vec(), b"0".to_vec(), reseal(&body)]);
                assert!(matches!(reply, Value::Error(_)) || reply == simple("OK"), "{reply:?}");
                // Whatever was accepted reads back without harm.
                c.cmd(&["DEBUG", "DIGEST-VALUE", "bad"]);
                c.cmd(&["DEL", "bad"]);
                n += 1;
            }
        }
    }
    assert!(n > 100);
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
}

/// A payload body with a fresh footer (RDB version 10 and its CRC64).
fn reseal(body: &[u8]) -> Vec<u8> {
    let mut out = body.to_vec();
    out.extend_from_slice(&10u16.to_le_bytes());
    let crc = crc::Crc::<u64>::new(&crc::CRC_64_REDIS).checksum(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// A ziplist of short strings and small integers (the encodings of Redis before 7.0).
fn ziplist(items: &[&str]) -> Vec<u8> {
    let mut entries: Vec<u8> = vec![];
    let mut prev = 0usize;
    let mut last_at = 10usize;
    for it in items {
        let mut e = vec![prev as u8];
        match it.parse::<i8>() {
            Ok(v) if it.len() < 4 => e.extend_from_slice(&[0xFE, v as u8]),
            _ => {
                e.push(it.len() as u8);
                e.extend_from_slice(it.as_bytes());
            }
        }
        last_at = 10 + entries.len();
        prev = e.len();
        entries.extend_from_slice(&e);
    }
    let total = 10 + entries.len() + 1;
    let mut out = (total as u32).to_le_bytes().to_vec();
    out.extend_from_slice(&(last_at as u32).to_le_bytes());
    out.extend_from_slice(&(items.len() as u16).to_le_bytes());
    out.extend_from_slice(&entries);
    out.push(0xFF);
    out
}

/// An RDB string of raw bytes (a 6-bit or 14-bit length).
fn rdb_string(s: &[u8]) -> Vec<u8> {
    let mut out = if s.len() < 64 {
        vec![s.len() as u8]
    } else {
        vec![0x40 | (s.len() >> 8) as u8, s.len() as u8]
    };
    out.extend_from_slice(s);
    out
}

#[test]
fn old_encodings_restore_as_in_redis() {
    if !redis_available("old_encodings_restore_as_in_redis") {
        return;
    }
    let zipmap = b"\x02\x03foo\x03\x00bar\x05hello\x05\x00world\xff".to_vec();
    let mut quicklist = vec![2u8];
    quicklist.extend(rdb_string(&ziplist(&["a", "b", "7"])));
    quicklist.extend(rdb_string(&ziplist(&["c", "-3"])));
    let mut plain_list = vec![3u8];
    for s in ["x", "12", "y"] {
        plain_list.extend(rdb_string(s.as_bytes()));
    }
    let mut old_zset = vec![2u8];
    old_zset.extend(rdb_string(b"a"));
    old_zset.extend(b"\x031.5");
    old_zset.extend(rdb_string(b"b"));
    old_zset.push(254);
    let cases: Vec<(&str, u8, Vec<u8>)> = vec![
        ("list-ziplist", 10, rdb_string(&ziplist(&["a", "1", "bc", "-5"]))),
        ("zset-ziplist", 12, rdb_string(&ziplist(&["a", "1", "b", "2"]))),
        ("hash-ziplist", 13, rdb_string(&ziplist(&["f", "v", "n", "9"]))),
        ("hash-zipmap", 9, rdb_string(&zipmap)),
        ("list-quicklist-1", 14, quicklist),
        ("list-plain", 1, plain_list),
        ("zset-text-scores", 3, old_zset),
    ];
    let f = Server::ferrite(&[]);
    let r = Server::redis(&[]);
    let (mut fc, mut rc) = (f.raw(), r.raw());
    for (name, ty, body) in cases {
        let mut payload = vec![ty];
        payload.extend(body);
        let payload = reseal_version(&payload, 9);
        let cmd = [b"RESTORE".to_vec(), name.as_bytes().to_vec(), b"0".to_vec(), payload];
        assert_eq!(rc.cmd(&cmd), simple("OK"), "{name} in Redis");
        assert_eq!(fc.cmd(&cmd), simple("OK"), "{name} in Ferrite");
        assert_eq!(value_state(&mut fc, name), value_state(&mut rc, name), "{name}");
        assert_eq!(fc.cmd(&["DUMP", name]), rc.cmd(&["DUMP", name]), "{name}: re-dumped");
    }
}

fn reseal_version(body: &[u8], version: u16) -> Vec<u8> {
    let mut out = body.to_vec();
    out.extend_from_slice(&version.to_le_bytes());
    let crc = crc::Crc::<u64>::new(&crc::CRC_64_REDIS).checksum(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}
