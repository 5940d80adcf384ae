//! Set commands, black-box: the binary alone (SCAN's guarantee, the count rules of the random
//! commands), then differential runs against a real `redis-server`: hand-written cases for every
//! command, option and error, and a seeded random stream mixing valid and invalid arguments,
//! integer and other members, that keeps crossing the intset limit. The case format is
//! `common::cases`'s.

mod common;

use std::collections::{BTreeSet, HashSet};

use common::cases::{items, Duo};
use common::diff::{same, show, show_args, Cmp};
use common::{int, redis_available, Raw, Rng, Server, Value};

// ---- helpers ----

/// A key's members (none for a missing key or another type).
fn members_of(c: &mut Raw, key: &[u8]) -> BTreeSet<Vec<u8>> {
    match c.cmd(&[&b"SMEMBERS"[..], key]) {
        Value::Error(_) => BTreeSet::new(),
        v => items(&v).into_iter().collect(),
    }
}

/// Every member a full SSCAN returns (cursor back to 0), and how many calls it took.
fn scan_all(c: &mut Raw, key: &[u8], extra: &[&[u8]]) -> (Vec<Vec<u8>>, usize) {
    let mut cursor = b"0".to_vec();
    let mut all = vec![];
    let mut calls = 0;
    loop {
        let mut cmd: Vec<&[u8]> = vec![b"SSCAN", key, &cursor];
        cmd.extend_from_slice(extra);
        let reply = c.cmd(&cmd);
        calls += 1;
        let Value::Array(parts) = reply else {
            panic!("SSCAN reply {}", show(&reply))
        };
        let Value::Bulk(next) = &parts[0] else {
            panic!("SSCAN cursor {}", show(&parts[0]))
        };
        all.extend(items(&parts[1]));
        if next == b"0" {
            return (all, calls);
        }
        cursor = next.clone();
        assert!(calls < 1_000_000, "SSCAN does not end");
    }
}

// ---- the binary alone ----

#[test]
fn members_are_bytes() {
    let f = Server::ferrite(&[]);
    let mut c = f.raw();
    let long = vec![b'z'; 100_000];
    let odd: &[&[u8]] = &[b"", b"\x00\xff\r\n", b"12", b"012", b"-0", &long];
    let mut cmd: Vec<&[u8]> = vec![b"SADD", b"s"];
    cmd.extend_from_slice(odd);
    assert_eq!(c.cmd(&cmd), int(odd.len() as i64));
    for m in odd {
        assert_eq!(c.cmd(&[&b"SISMEMBER"[..], b"s", m]), int(1));
    }
    assert_eq!(c.cmd(&["SISMEMBER", "s", "+12"]), int(0));
    let got = members_of(&mut c, b"s");
    assert_eq!(got, odd.iter().map(|m| m.to_vec()).collect());
    assert_eq!(c.cmd(&[&b"SREM"[..], b"s", &long]), int(1));
    assert_eq!(c.cmd(&["SCARD", "s"]), int(5));
}

/// Redis's SCAN guarantee on a big set: members present from start to end are all returned while
/// other members come and go and the table grows and shrinks between calls.
#[test]
fn sscan_keeps_its_guarantee_while_the_set_changes() {
    let f = Server::ferrite(&[]);
    let mut c = f.raw();
    let stable: Vec<String> = (0..3000).map(|i| format!("stable:{i}")).collect();
    let mut cmd = vec!["SADD".to_string(), "s".to_string()];
    cmd.extend(stable.iter().cloned());
    assert_eq!(c.cmd(&cmd), int(3000));
    let mut seen = HashSet::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    loop {
        let reply = c.cmd(&["SSCAN", "s", &cursor, "COUNT", "20"]);
        let Value::Array(parts) = reply else { panic!() };
        let Value::Bulk(next) = &parts[0] else { panic!() };
        seen.extend(items(&parts[1]));
        calls += 1;
        // Grow to ~20k members, then shrink back, while the scan runs.
        let batch: Vec<String> = (0..100)
            .map(|j| format!("churn:{}", (calls * 100 + j) % 17_000))
            .collect();
        let verb = if (calls / 60) % 2 == 0 { "SADD" } else { "SREM" };
        let mut cmd = vec![verb.to_string(), "s".to_string()];
        cmd.extend(batch);
        c.cmd(&cmd);
        cursor = String::from_utf8(next.clone()).expect("cursor");
        if cursor == "0" {
            break;
        }
        assert!(calls < 100_000);
    }
    for m in &stable {
        assert!(seen.contains(m.as_bytes()), "{m} missed");
    }
}

#[test]
fn random_replies_follow_the_count_rules() {
    let f = Server::ferrite(&[]);
    let mut c = f.raw();
    for (key, members) in [
        ("ints", (0..50).map(|i| i.to_string()).collect::<Vec<_>>()),
        ("strs", (0..50).map(|i| format!("m{i}")).collect()),
    ] {
        let mut cmd = vec!["SADD".to_string(), key.to_string()];
        cmd.extend(members.iter().cloned());
        c.cmd(&cmd);
        let all: HashSet<Vec<u8>> = members.iter().map(|m| m.as_bytes().to_vec()).collect();
        for count in [1i64, 2, 10, 17, 40, 49, 50, 51, 1000, -1, -3, -200] {
            let got = items(&c.cmd(&["SRANDMEMBER", key, &count.to_string()]));
            let want = if count < 0 {
                (-count) as usize
            } else {
                (count as usize).min(50)
            };
            assert_eq!(got.len(), want, "SRANDMEMBER {key} {count}");
            assert!(got.iter().all(|m| all.contains(m)));
            if count > 0 {
                assert_eq!(got.iter().collect::<HashSet<_>>().len(), got.len(), "distinct");
            }
        }
        // Negative counts draw independently: with 200 draws from 50, repeats are all but certain.
        let got = items(&c.cmd(&["SRANDMEMBER", key, "-200"]));
        assert!(got.iter().collect::<HashSet<_>>().len() < 200);
        // SPOP takes distinct members that leave the set.
        let mut left = all.clone();
        for count in [1usize, 3, 10, 30] {
            let got = items(&c.cmd(&["SPOP", key, &count.to_string()]));
            assert_eq!(got.len(), count);
            for m in &got {
                assert!(left.remove(m), "SPOP returned {m:?} twice or from nowhere");
            }
            assert_eq!(c.cmd(&["SCARD", key]), int(left.len() as i64));
        }
        let got = items(&c.cmd(&["SPOP", key, "100"]));
        assert_eq!(got.into_iter().collect::<HashSet<_>>(), left);
        assert_eq!(c.cmd(&["SCARD", key]), int(0));
    }
}

// ---- differential: hand-written cases ----

const CASES: &[(&str, &str)] = &[
    (
        "sadd and encodings",
        r#"
        = SADD s 1 2 3
        = OBJECT ENCODING s
        = SADD s 3 4 -5 9223372036854775807 -9223372036854775808
        = SMEMBERS s
        = OBJECT ENCODING s
        = SADD s 007
        = OBJECT ENCODING s
        ~ SMEMBERS s
        = SREM s 007
        = OBJECT ENCODING s
        = SADD t a 1 2
        = OBJECT ENCODING t
        = SADD u 1 a
        = OBJECT ENCODING u
        = SADD v -0
        = OBJECT ENCODING v
        = SADD w +1 " 1" 1.0 0x1 9223372036854775808 ""
        = OBJECT ENCODING w
        ~ SMEMBERS w
        = SADD s
        = SADD
        = SET str x
        = SADD str a
        = TYPE s
        "#,
    ),
    (
        "srem",
        r#"
        = SREM nokey a
        = SADD s a b c 1
        = SREM s a zz a
        ~ SMEMBERS s
        = SREM s b c 1 d
        = EXISTS s
        = SMEMBERS s
        = SADD i 1 2 3
        = SREM i x 2 1
        = SMEMBERS i
        = SET str x
        = SREM str a
        = SREM s
        "#,
    ),
    (
        "membership and size",
        r#"
        = SADD s a b 1
        = SADD i 1 2 300000 -70000
        = SISMEMBER s a
        = SISMEMBER s 1
        = SISMEMBER s z
        = SISMEMBER i 300000
        = SISMEMBER i 01
        = SISMEMBER i x
        = SISMEMBER nokey a
        = SMISMEMBER s a z 1 b
        = SMISMEMBER i 1 2 3 -70000
        = SMISMEMBER nokey a b
        = SCARD s
        = SCARD i
        = SCARD nokey
        = SMEMBERS i
        = SMEMBERS nokey
        = SET str x
        = SISMEMBER str a
        = SMISMEMBER str a
        = SCARD str
        = SMEMBERS str
        = SISMEMBER s
        = SMISMEMBER s
        = SCARD s x
        = SMEMBERS s x
        "#,
    ),
    (
        "srandmember",
        r#"
        = SRANDMEMBER nokey
        = SRANDMEMBER nokey 5
        = SRANDMEMBER nokey -5
        = SRANDMEMBER nokey 0
        = SADD i 1 2 3 4 5
        = SADD s a b c d e
        ? SRANDMEMBER i
        ? SRANDMEMBER s
        = SRANDMEMBER i 0
        = SRANDMEMBER i 5
        = SRANDMEMBER i 100
        ~ SRANDMEMBER s 5
        ~ SRANDMEMBER s 9223372036854775807
        ? SRANDMEMBER i 3
        ? SRANDMEMBER s -7
        ? SRANDMEMBER s 1
        ? SRANDMEMBER s -1
        = SRANDMEMBER s -9223372036854775808
        = SRANDMEMBER s 9223372036854775808
        = SRANDMEMBER s abc
        = SRANDMEMBER s 1.5
        = SRANDMEMBER nokey abc
        = SRANDMEMBER s 1 2
        = SET str x
        = SRANDMEMBER str
        = SRANDMEMBER str 2
        = SRANDMEMBER str 0
        = SRANDMEMBER str x
        = SRANDMEMBER
        "#,
    ),
    (
        "spop",
        r#"
        = SPOP nokey
        = SPOP nokey 3
        = SPOP nokey 0
        = SPOP nokey -1
        = SADD i 1 2 3 4 5
        = SPOP i 0
        = SPOP i -1
        = SPOP i abc
        = SPOP i 1 2
        = SPOP i 5
        = EXISTS i
        = SADD i 1 2 3
        = SPOP i 9223372036854775807
        = SADD s a b c
        ~ SPOP s 3
        = SADD one x
        = SPOP one
        = SPOP one
        = SADD big 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 a
        = OBJECT ENCODING big
        = SREM big a
        ? SPOP big 28
        = SCARD big
        = OBJECT ENCODING big
        = SADD big2 a b c d e f g h i j k l m n o p q r s t u v w x y z 1 2 3 4
        ? SPOP big2 2
        = SCARD big2
        = OBJECT ENCODING big2
        = SET str x
        = SPOP str
        = SPOP str 2
        = SPOP str 0
        = SPOP str -1
        = SPOP
        "#,
    ),
    (
        "smove",
        r#"
        = SMOVE nokey d a
        = SET str x
        = SMOVE nokey str a
        = SMOVE str d a
        = SADD s a b 1
        = SMOVE s str a
        = SMOVE s d zz
        = SMOVE s d a
        = SMEMBERS d
        = OBJECT ENCODING d
        = SMOVE s d2 1
        = OBJECT ENCODING d2
        = SMOVE s d a
        = SMOVE s s b
        = SMOVE s s zz
        = SADD d b
        = SMOVE s d b
        = EXISTS s
        ~ SMEMBERS d
        = SMOVE s d
        "#,
    ),
    (
        "intersection",
        r#"
        = SADD a 1 2 3 4 x y
        = SADD b 2 3 4 5 x z
        = SADD c 3 4 x
        = SADD i 3 4 5
        ~ SINTER a b
        ~ SINTER a b c
        = SINTER a b c nokey
        = SINTER nokey
        ~ SINTER a a
        ~ SINTER c a
        = SINTER i c
        = SINTERCARD 2 a b
        = SINTERCARD 3 a b c LIMIT 2
        = SINTERCARD 3 a b c LIMIT 0
        = SINTERCARD 3 a b c limit 100
        = SINTERCARD 2 a nokey
        = SINTERCARD 1 a LIMIT 1 LIMIT 3
        = SINTERCARD 0 a
        = SINTERCARD -1 a
        = SINTERCARD x a
        = SINTERCARD 3 a b
        = SINTERCARD 1 a LIMIT -1
        = SINTERCARD 1 a LIMIT x
        = SINTERCARD 1 a LIMIT
        = SINTERCARD 1 a FOO 1
        = SINTERCARD 2 a b c
        = SINTERSTORE d a b
        ~ SMEMBERS d
        = OBJECT ENCODING d
        = SINTERSTORE d a i
        = SMEMBERS d
        = OBJECT ENCODING d
        = SINTERSTORE d a nokey
        = EXISTS d
        = SINTERSTORE d nokey
        = SINTERSTORE a a b
        ~ SMEMBERS a
        = SET str x
        = SINTER a str
        = SINTER nokey str
        = SINTERCARD 2 nokey str
        = SINTERSTORE d nokey str
        = SINTERSTORE str a
        = TYPE str
        = SINTER
        = SINTERSTORE d
        "#,
    ),
    (
        "union and difference",
        r#"
        = SADD a 1 2 3 x
        = SADD b 3 4 y
        = SADD i 1 2 3
        = SADD j 3 4
        ~ SUNION a b
        ~ SUNION a nokey b
        = SUNION i j
        = SUNION nokey
        = SUNIONSTORE d i j
        = SMEMBERS d
        = OBJECT ENCODING d
        = SUNIONSTORE d a b
        ~ SMEMBERS d
        = OBJECT ENCODING d
        = SUNIONSTORE d nokey
        = EXISTS d
        ~ SDIFF a b
        = SDIFF i j
        = SDIFF a a
        = SDIFF nokey a
        ~ SDIFF a nokey
        = SDIFF i j a
        = SDIFFSTORE d a b
        ~ SMEMBERS d
        = SDIFFSTORE d i j
        = SMEMBERS d
        = OBJECT ENCODING d
        = SDIFFSTORE d i i
        = EXISTS d
        = SDIFFSTORE d nokey i
        = SADD first 1 2 3 4 5 6 7 8 9 10 11 12 x
        = SADD few 5 6 7 8 9 10 11 12
        = SDIFFSTORE d first few
        ~ SMEMBERS d
        = OBJECT ENCODING d
        = SDIFFSTORE d first few nokey x
        = OBJECT ENCODING d
        = SADD x x
        = SDIFFSTORE d first x few
        = OBJECT ENCODING d
        = SET str x
        = SUNION a str
        = SDIFF nokey str
        = SDIFF str a
        = SUNIONSTORE d str
        = SDIFFSTORE str a b
        = TYPE str
        = SUNION
        = SDIFFSTORE d
        "#,
    ),
    (
        "sscan",
        r#"
        = SSCAN nokey 0
        = SSCAN nokey 0 COUNT 0
        = SSCAN nokey x
        = SADD i 5 1 3 -2 100
        = SSCAN i 0
        = SSCAN i 12345
        = SSCAN i 0 COUNT 1
        = SSCAN i 0 MATCH 1*
        = SSCAN i 0 MATCH * COUNT 3
        = SSCAN i 0 match ?
        = SSCAN i 0 MATCH
        = SSCAN i 0 COUNT 0
        = SSCAN i 0 COUNT -1
        = SSCAN i 0 COUNT x
        = SSCAN i 0 TYPE set
        = SSCAN i 0 FOO bar
        = SSCAN i x
        = SSCAN i -1
        = SSCAN i 18446744073709551616
        = SSCAN i " 0"
        = SSCAN i +0
        = SSCAN i ""
        = SADD s a b c "" d
        ~ SSCAN s 0 COUNT 100
        ~ SSCAN s 0 MATCH * COUNT 100
        = SSCAN s 0 MATCH x* COUNT 100
        = SET str x
        = SSCAN str 0
        = SSCAN str x
        = SSCAN i
        "#,
    ),
    (
        "the intset limit",
        r#"
        = CONFIG SET set-max-intset-entries 3
        = SADD s 1 2 3
        = OBJECT ENCODING s
        = SADD s 3
        = OBJECT ENCODING s
        = SADD s 4
        = OBJECT ENCODING s
        = SREM s 4 3
        = OBJECT ENCODING s
        = SADD t 1 2 3 4
        = OBJECT ENCODING t
        = SINTERSTORE d t t
        = OBJECT ENCODING d
        = SINTERSTORE d t s
        = OBJECT ENCODING d
        = CONFIG SET set-max-intset-entries 0
        = SADD z 1
        = OBJECT ENCODING z
        = SMOVE s y 1
        = OBJECT ENCODING y
        = CONFIG SET set-max-intset-entries 512
        "#,
    ),
    (
        "digests",
        r#"
        = SADD i 1 2 3 -4
        = SADD s a b 1 ""
        = DEBUG DIGEST-VALUE i s
        = DEBUG DIGEST
        = SREM s a
        = DEBUG DIGEST-VALUE s
        "#,
    ),
    (
        "generic commands on sets",
        r#"
        = SADD s a b 1
        = SADD i 1 2
        = TYPE s
        = TYPE i
        = OBJECT ENCODING i
        = COPY i i2
        = SADD i 3
        = SMEMBERS i2
        = OBJECT ENCODING i2
        = COPY s s2
        ~ SMEMBERS s2
        = OBJECT ENCODING s2
        = RENAME s2 s3
        ~ SMEMBERS s3
        = MOVE s3 1
        = EXISTS s3
        = SELECT 1
        ~ SMEMBERS s3
        = OBJECT ENCODING s3
        = SELECT 0
        ~ SCAN 0 TYPE set COUNT 100
        = DEL s i i2
        ~ SCAN 0 TYPE set COUNT 100
        "#,
    ),
];

#[test]
fn differential_cases() {
    let Some(mut duo) = Duo::for_test("differential_cases", &[]) else {
        return;
    };
    duo.run_cases(CASES);
    duo.finish("differential_cases");
}

#[test]
fn differential_resp3_types() {
    let Some(mut duo) = Duo::for_test("differential_resp3_types", &[]) else {
        return;
    };
    duo.check("resp3", &["HELLO", "3"], Cmp::Shape);
    duo.run_cases(&[(
        "resp3",
        r#"
        = SADD i 1 2 3
        = SADD s a b
        = SMEMBERS i
        = SMEMBERS nokey
        ~ SMEMBERS s
        = SINTER i i
        = SINTER nokey i
        ~ SUNION s i
        = SDIFF i s
        = SPOP nokey
        = SPOP nokey 2
        = SPOP i 0
        = SPOP i 10
        = SRANDMEMBER s 0
        = SRANDMEMBER nokey 3
        = SRANDMEMBER nokey
        ~ SRANDMEMBER s 2
        = SMISMEMBER s a x
        = SSCAN s 0 MATCH x
        "#,
    )]);
    duo.finish("differential_resp3_types");
}

/// The intset limit at its default: 512 integers stay an intset, the 513th converts.
#[test]
fn differential_default_intset_limit() {
    let Some(mut duo) = Duo::for_test("differential_default_intset_limit", &[]) else {
        return;
    };
    let mut add = vec!["SADD".to_string(), "s".to_string()];
    add.extend((0..512).map(|i| (i * 7 - 1000).to_string()));
    duo.check("limit", &add, Cmp::Exact);
    duo.check("limit", &["OBJECT", "ENCODING", "s"], Cmp::Exact);
    duo.check("limit", &["SMEMBERS", "s"], Cmp::Exact);
    duo.check("limit", &["SSCAN", "s", "0"], Cmp::Exact);
    duo.check("limit", &["SADD", "s", "99999"], Cmp::Exact);
    duo.check("limit", &["OBJECT", "ENCODING", "s"], Cmp::Exact);
    duo.check("limit", &["SMEMBERS", "s"], Cmp::Unordered);
    let (walk, _) = scan_all(&mut duo.ours, b"s", &[]);
    assert_eq!(walk.iter().collect::<BTreeSet<_>>().len(), 513);
    duo.finish("differential_default_intset_limit");
}

// ---- differential: a seeded random stream ----

const KEYS: &[&str] = &["s0", "s1", "s2", "s3", "str"];

fn random_member(rng: &mut Rng) -> String {
    match rng.below(10) {
        0..=3 => rng.below(40).to_string(),
        4 => (rng.next() as i64).to_string(),
        5 => rng
            .pick(&["007", "-0", "+5", "1.0", " 3", "", "-9223372036854775808"])
            .to_string(),
        6 => "x".repeat(10 + rng.below(30)),
        7 => format!("\u{e9}{}\u{0}", rng.below(5)),
        _ => format!("m{}", rng.below(30)),
    }
}

fn random_count(rng: &mut Rng) -> String {
    match rng.below(10) {
        0 => rng
            .pick(&["abc", "1.5", "", "-9223372036854775808", "9223372036854775808"])
            .to_string(),
        1 => "0".to_string(),
        2..=3 => format!("-{}", 1 + rng.below(60)),
        _ => (1 + rng.below(60)).to_string(),
    }
}

/// One to three keys.
fn random_keys(rng: &mut Rng) -> Vec<String> {
    let n = 1 + rng.below(3);
    (0..n).map(|_| rng.pick(KEYS).to_string()).collect()
}

/// One random command and how to compare its replies. `None` marks SPOP and SRANDMEMBER, which are
/// checked by their rules and resynchronised.
fn random_command(rng: &mut Rng) -> (Vec<String>, Option<Cmp>) {
    let key = rng.pick(KEYS).to_string();
    let s = |x: &str| x.to_string();
    let mut cmd: Vec<String>;
    let cmp = match rng.below(22) {
        0..=4 => {
            cmd = vec![s("SADD"), key];
            cmd.extend((0..1 + rng.below(8)).map(|_| random_member(rng)));
            Some(Cmp::Exact)
        }
        5..=6 => {
            cmd = vec![s("SREM"), key];
            cmd.extend((0..1 + rng.below(6)).map(|_| random_member(rng)));
            Some(Cmp::Exact)
        }
        7 => {
            cmd = vec![s("SISMEMBER"), key, random_member(rng)];
            Some(Cmp::Exact)
        }
        8 => {
            cmd = vec![s("SMISMEMBER"), key];
            cmd.extend((0..1 + rng.below(4)).map(|_| random_member(rng)));
            Some(Cmp::Exact)
        }
        9 => {
            cmd = vec![s("SCARD"), key];
            Some(Cmp::Exact)
        }
        10 => {
            cmd = vec![s("SMEMBERS"), key];
            Some(Cmp::Unordered)
        }
        11 => {
            cmd = vec![s("SMOVE"), key, rng.pick(KEYS).to_string(), random_member(rng)];
            Some(Cmp::Exact)
        }
        12 => {
            let op = rng.pick(&["SINTER", "SUNION", "SDIFF"]);
            cmd = vec![s(op)];
            cmd.extend(random_keys(rng));
            Some(Cmp::Unordered)
        }
        13 => {
            let op = rng.pick(&["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]);
            cmd = vec![s(op), key];
            cmd.extend(random_keys(rng));
            Some(Cmp::Exact)
        }
        14 => {
            let keys = random_keys(rng);
            let numkeys = match rng.below(8) {
                0 => s(rng.pick(&["0", "-1", "x", "9"])),
                _ => keys.len().to_string(),
            };
            cmd = vec![s("SINTERCARD"), numkeys];
            cmd.extend(keys);
            if rng.below(2) == 0 {
                cmd.push(s("LIMIT"));
                cmd.push(s(rng.pick(&["0", "1", "2", "5", "-1", "x"])));
            }
            Some(Cmp::Exact)
        }
        15 => {
            cmd = vec![s("SSCAN"), key, s(rng.pick(&["0", "0", "x", "-1"]))];
            if rng.below(2) == 0 {
                cmd.push(s("MATCH"));
                cmd.push(s(rng.pick(&["*", "1*", "m?", "*x*", "[a-m]*"])));
            }
            if rng.below(3) == 0 {
                cmd.push(s("COUNT"));
                cmd.push(s(rng.pick(&["1", "5", "1000", "0", "x"])));
            }
            // Whole answers are compared only where they are deterministic (see below).
            None
        }
        16..=17 => {
            cmd = vec![s("SPOP"), key];
            if rng.below(3) > 0 {
                cmd.push(random_count(rng));
            }
            None
        }
        18..=19 => {
            cmd = vec![s("SRANDMEMBER"), key];
            if rng.below(3) > 0 {
                cmd.push(random_count(rng));
            }
            None
        }
        20 => {
            cmd = vec![s("OBJECT"), s("ENCODING"), key];
            Some(Cmp::Exact)
        }
        _ => {
            // Wrong arity, or a string key for WRONGTYPE.
            cmd = match rng.below(3) {
                0 => vec![s(rng.pick(&["SADD", "SREM", "SMOVE", "SINTERSTORE", "SISMEMBER"])), key],
                1 => vec![s("SET"), s("str"), random_member(rng)],
                _ => vec![s("DEBUG"), s("DIGEST-VALUE"), key],
            };
            Some(Cmp::Exact)
        }
    };
    (cmd, cmp)
}

/// Check a random command's replies by its rules; `before` is the set both servers held.
fn check_random(duo: &mut Duo, cmd: &[String], a: &Value, b: &Value, before: &BTreeSet<Vec<u8>>) {
    let context = format!("random {}", show_args(cmd));
    let verb = cmd[0].as_str();
    if verb == "SSCAN" {
        // Only errors are compared here: a table's replies differ in order and cursor (a full walk
        // is compared instead).
        if (matches!(a, Value::Error(_)) || matches!(b, Value::Error(_))) && a != b {
            duo.fail(format!("{context}\n  ferrite: {}\n  redis:   {}", show(a), show(b)));
        }
        return;
    }
    if !same(a, b, Cmp::Shape) || matches!(a, Value::Error(_)) {
        if !same(a, b, Cmp::Exact) {
            duo.fail(format!("{context}\n  ferrite: {}\n  redis:   {}", show(a), show(b)));
        }
        return;
    }
    let count: Option<i64> = cmd.get(2).and_then(|c| c.parse().ok());
    for (who, v) in [("ferrite", a), ("redis", b)] {
        let got: Vec<Vec<u8>> = match v {
            Value::Bulk(m) => vec![m.clone()],
            Value::NullBulk | Value::Null => vec![],
            other => items(other),
        };
        if !got.iter().all(|m| before.contains(m)) {
            duo.fail(format!("{context}: {who} returned a non-member: {}", show(v)));
        }
        let distinct = got.iter().collect::<HashSet<_>>().len();
        let size = before.len();
        let expect = match count {
            None => size.min(1),
            Some(n) if n < 0 => {
                if size == 0 {
                    0
                } else {
                    n.unsigned_abs() as usize
                }
            }
            Some(n) => (n as usize).min(size),
        };
        let repeats_allowed = matches!(count, Some(n) if n < 0);
        if got.len() != expect || (!repeats_allowed && distinct != got.len()) {
            duo.fail(format!(
                "{context}: {who} broke the count rule (set of {size}): {}",
                show(v)
            ));
        }
    }
}

fn random_stream(seed: u64, steps: usize, extra: &[&str]) {
    let mut duo = Duo::start(extra);
    let mut rng = Rng::new(seed);
    for step in 0..steps {
        let (cmd, cmp) = random_command(&mut rng);
        let key = cmd.get(1).cloned().unwrap_or_default();
        let before = if cmp.is_none() {
            members_of(&mut duo.ours, key.as_bytes())
        } else {
            BTreeSet::new()
        };
        let context = format!("seed {seed} step {step}");
        match cmp {
            Some(cmp) => {
                duo.check(&context, &cmd, cmp);
            }
            None => {
                let Some((a, b)) = duo.both(&cmd) else { continue };
                check_random(&mut duo, &cmd, &a, &b, &before);
                if cmd[0] == "SPOP" {
                    resync(&mut duo, &key);
                }
                if cmd[0] == "SSCAN" && !matches!(a, Value::Error(_)) {
                    // An intset answers whole and in order; a table is compared by a full walk.
                    let extra: Vec<&[u8]> = cmd[3..].iter().map(|w| w.as_bytes()).collect();
                    let x: BTreeSet<Vec<u8>> = scan_all(&mut duo.ours, key.as_bytes(), &extra).0.into_iter().collect();
                    let y: BTreeSet<Vec<u8>> = scan_all(&mut duo.theirs, key.as_bytes(), &extra)
                        .0
                        .into_iter()
                        .collect();
                    if x != y {
                        duo.fail(format!("{context}: full SSCAN walks differ: {x:?} vs {y:?}"));
                    }
                }
            }
        }
        if step % 50 == 49 {
            for k in KEYS {
                duo.check(&format!("{context} (sweep)"), &["SMEMBERS", k], Cmp::Unordered);
                duo.check(&format!("{context} (sweep)"), &["OBJECT", "ENCODING", k], Cmp::Exact);
                duo.check(&format!("{context} (sweep)"), &["DEBUG", "DIGEST-VALUE", k], Cmp::Exact);
            }
        }
        if duo.failures.len() >= 30 {
            break;
        }
    }
    duo.check("end", &["DEBUG", "DIGEST"], Cmp::Exact);
    duo.finish(&format!("random stream, seed {seed}"));
}

/// After SPOP the servers hold different members: rebuild the key on both from Ferrite's content,
/// the same way, so that the stream goes on from equal states.
fn resync(duo: &mut Duo, key: &str) {
    let ours = members_of(&mut duo.ours, key.as_bytes());
    let theirs = members_of(&mut duo.theirs, key.as_bytes());
    if ours == theirs {
        return;
    }
    for c in [&mut duo.ours, &mut duo.theirs] {
        c.cmd(&[&b"SPOP"[..], key.as_bytes(), b"1000000000"]);
        if !ours.is_empty() {
            let mut cmd: Vec<&[u8]> = vec![b"SADD", key.as_bytes()];
            cmd.extend(ours.iter().map(|m| m.as_slice()));
            c.cmd(&cmd);
        }
    }
}

#[test]
fn differential_random_small_intset_limit() {
    if !redis_available("differential_random_small_intset_limit") {
        return;
    }
    random_stream(
        common::cases::env_u64("FERRITE_SEED", 0x5e75),
        1500,
        &["--set-max-intset-entries", "8"],
    );
}

#[test]
fn differential_random_default_limit() {
    if !redis_available("differential_random_default_limit") {
        return;
    }
    random_stream(common::cases::env_u64("FERRITE_SEED", 0xa11ce), 1000, &[]);
}
