//! Lists, black-box: every list command against a real `redis-server` (the oracle), reply for reply and
//! type for type, in RESP2 and RESP3; a seeded random generator over the list commands with node sizes
//! from one element per node to 64 KiB nodes, checking the replies, the content digest and the
//! quicklist's shape (DEBUG OBJECT's `ql_*` fields) as it goes; and the blocking commands, driven
//! through several connections, on their own and side by side with Redis.
//!
//! The cases are scripts in `common::cases`'s format (`<c*N>` makes values big enough to need nodes of
//! their own). A command Ferrite does not know fails the test.

mod common;

use std::time::{Duration, Instant};

use common::cases::{env_u64, Duo};
use common::diff::{show, Cmp};
use common::{bulk, err, eventually, int, redis_available, simple, Raw, Rng, Server, Value};

// ---- hand-written cases ----

const CASES: &[(&str, &str)] = &[
    (
        "push_and_len",
        r#"
        LLEN l
        LPUSH l a
        LPUSH l b c
        RPUSH l d e f
        LRANGE l 0 -1
        LLEN l
        LPUSHX l x y
        RPUSHX l z
        LPUSHX nokey x
        RPUSHX nokey x
        LLEN nokey
        LRANGE l 0 -1
        RPUSH l "" "with space" "\x00\xff\x0d\x0a" 12 -7 007 +5 9223372036854775807 9223372036854775808 -9223372036854775808
        LRANGE l -10 -1
        LPUSH
        LPUSH l
        RPUSHX l
        LLEN
        LLEN l extra
        "#,
    ),
    (
        "wrong_type",
        r#"
        SET s v
        LPUSH s a
        RPUSH s a
        LPUSHX s a
        RPUSHX s a
        LPOP s
        LPOP s 2
        LPOP s 0
        RPOP s
        LLEN s
        LRANGE s 0 -1
        LINDEX s 0
        LINDEX s abc
        LSET s 0 x
        LSET s abc x
        LINSERT s BEFORE a b
        LINSERT s middle a b
        LREM s 0 a
        LTRIM s 0 1
        LPOS s a
        LPOS s a COUNT 0
        LMOVE s d LEFT RIGHT
        LMOVE nokey s LEFT RIGHT
        RPUSH l a
        LMOVE l s LEFT RIGHT
        LRANGE l 0 -1
        RPOPLPUSH l s
        RPOPLPUSH s l
        LMPOP 2 nokey s LEFT
        LMPOP 2 l s LEFT
        BLPOP s 0
        BRPOP nokey s 0
        BLMOVE s l LEFT LEFT 0
        RPUSH l a
        BLMOVE l s LEFT LEFT 0
        BRPOPLPUSH s l 0
        BLMPOP 0 1 s LEFT
        GET l
        GET s
        "#,
    ),
    (
        "pops",
        r#"
        RPUSH l a b c d e f g
        LPOP l
        RPOP l
        LPOP l 2
        RPOP l 2
        LPOP l 0
        RPOP l 0
        LPOP l -1
        LPOP l abc
        LPOP l 1.5
        LPOP l 1 2
        RPOP l 1 2 3
        LPOP l 100
        LLEN l
        LPOP l
        LPOP l 1
        LPOP l 0
        RPOP l 5
        LPOP nokey -1
        LPOP nokey abc
        RPOP nokey 9223372036854775807
        RPUSH l 1 2 3
        RPOP l 9223372036854775807
        LLEN l
        "#,
    ),
    (
        "ranges",
        r#"
        RPUSH l a b c d e f g h i j
        LRANGE l 0 -1
        LRANGE l 2 4
        LRANGE l -3 -1
        LRANGE l -100 2
        LRANGE l 5 100
        LRANGE l 5 4
        LRANGE l 10 20
        LRANGE l -1 -2
        LRANGE l -9223372036854775808 9223372036854775807
        LRANGE l 9223372036854775807 -9223372036854775808
        LRANGE l a 1
        LRANGE l 0 b
        LRANGE nokey 0 -1
        LRANGE nokey a b
        LINDEX l 0
        LINDEX l -1
        LINDEX l 9
        LINDEX l 10
        LINDEX l -10
        LINDEX l -11
        LINDEX l 9223372036854775807
        LINDEX l -9223372036854775808
        LINDEX l abc
        LINDEX nokey abc
        LINDEX nokey 0
        "#,
    ),
    (
        "lset",
        r#"
        LSET nokey 0 x
        LSET nokey abc x
        RPUSH l a b c
        LSET l 0 x
        LSET l -1 y
        LSET l 1 123
        LSET l 3 z
        LSET l -4 z
        LSET l abc z
        LSET l 9223372036854775807 z
        LRANGE l 0 -1
        LSET l 1 <q*20000>
        LINDEX l 1
        LLEN l
        "#,
    ),
    (
        "linsert",
        r#"
        LINSERT nokey BEFORE a b
        LINSERT nokey middle a b
        RPUSH l a b c a
        LINSERT l BEFORE a x
        LINSERT l after a y
        LINSERT l AFTER c z
        LINSERT l before nothere z
        LINSERT l middle a z
        LINSERT l BEFORE 1 z
        LRANGE l 0 -1
        RPUSH n 1 2 3
        LINSERT n AFTER 2 two
        LINSERT n AFTER 02 never
        LINSERT n BEFORE +1 never
        LRANGE n 0 -1
        LINSERT l BEFORE z <w*9000>
        LLEN l
        LINDEX l -3
        "#,
    ),
    (
        "lrem",
        r#"
        LREM nokey 0 a
        LREM nokey abc a
        RPUSH l a b a c a b a
        LREM l abc a
        LREM l 1 a
        LRANGE l 0 -1
        LREM l -1 a
        LRANGE l 0 -1
        LREM l 0 b
        LRANGE l 0 -1
        LREM l 0 nothere
        LREM l -9223372036854775808 a
        LLEN l
        RPUSH n 1 01 1 +1 1
        LREM n 0 1
        LRANGE n 0 -1
        LREM n 9223372036854775807 01
        LRANGE n 0 -1
        "#,
    ),
    (
        "ltrim",
        r#"
        LTRIM nokey 0 1
        LTRIM nokey a b
        RPUSH l a b c d e f g h
        LTRIM l a 1
        LTRIM l 0 b
        LTRIM l 1 -2
        LRANGE l 0 -1
        LTRIM l -100 100
        LRANGE l 0 -1
        LTRIM l 1 1
        LRANGE l 0 -1
        LTRIM l 2 1
        LLEN l
        RPUSH l a b c
        LTRIM l 5 10
        LLEN l
        RPUSH l a b c
        LTRIM l -1 -2
        LLEN l
        RPUSH l a b c
        LTRIM l -9223372036854775808 9223372036854775807
        LRANGE l 0 -1
        "#,
    ),
    (
        "lpos",
        r#"
        LPOS nokey a
        LPOS nokey a COUNT 0
        LPOS nokey a RANK 0
        RPUSH l a b c a b c a 1 01
        LPOS l a
        LPOS l c
        LPOS l z
        LPOS l a RANK 2
        LPOS l a RANK -1
        LPOS l a RANK -2
        LPOS l a RANK 4
        LPOS l a RANK -4
        LPOS l a COUNT 0
        LPOS l a COUNT 2
        LPOS l a COUNT 2 RANK 2
        LPOS l a COUNT 0 RANK -1
        LPOS l a COUNT 1 RANK -3
        LPOS l a MAXLEN 1
        LPOS l a MAXLEN 4 COUNT 0
        LPOS l a MAXLEN 4 COUNT 0 RANK -1
        LPOS l c MAXLEN 2
        LPOS l a MAXLEN 0 COUNT 0
        LPOS l z COUNT 0
        LPOS l 1
        LPOS l 01
        LPOS l +1
        LPOS l a RANK 0
        LPOS l a RANK abc
        LPOS l a RANK
        LPOS l a COUNT -1
        LPOS l a COUNT abc
        LPOS l a MAXLEN -1
        LPOS l a MAXLEN abc
        LPOS l a FOO 1
        LPOS l a count 1 rank 1 maxlen 0
        LPOS l a RANK 1 RANK -1
        LPOS l a RANK -9223372036854775808
        LPOS l a RANK -9223372036854775808 COUNT 1
        LPOS l a RANK -9223372036854775808 COUNT 2 MAXLEN 3
        LPOS l a RANK 9223372036854775807
        LPOS l a RANK 9223372036854775807 COUNT 0
        "#,
    ),
    (
        "lmove",
        r#"
        LMOVE nokey d LEFT RIGHT
        LMOVE nokey d UP RIGHT
        LMOVE nokey d LEFT DOWN
        RPUSH s a b c
        LMOVE s d LEFT RIGHT
        LMOVE s d left left
        LMOVE s d RIGHT RIGHT
        LRANGE d 0 -1
        LLEN s
        LMOVE d d LEFT RIGHT
        LRANGE d 0 -1
        LMOVE d d RIGHT LEFT
        LRANGE d 0 -1
        RPUSH one x
        LMOVE one one LEFT RIGHT
        LRANGE one 0 -1
        RPOPLPUSH d e
        RPOPLPUSH d e
        RPOPLPUSH d e
        RPOPLPUSH d e
        LRANGE e 0 -1
        RPOPLPUSH e e
        LRANGE e 0 -1
        RPOPLPUSH nokey e
        RPOPLPUSH e
        LMOVE e f LEFT
        "#,
    ),
    (
        "lmpop",
        r#"
        LMPOP 1 nokey LEFT
        LMPOP 2 nokey nokey2 RIGHT
        RPUSH a 1 2 3 4 5
        RPUSH b x y
        LMPOP 2 nokey a LEFT
        LMPOP 2 nokey a RIGHT COUNT 2
        LMPOP 2 b a LEFT COUNT 10
        LLEN b
        LMPOP 1 a right count 1
        LMPOP 1 a LEFT COUNT 0
        LMPOP 1 a LEFT COUNT -1
        LMPOP 1 a LEFT COUNT abc
        LMPOP 1 a LEFT COUNT
        LMPOP 1 a LEFT COUNT 1 COUNT 1
        LMPOP 1 a LEFT FOO
        LMPOP 1 a MIDDLE
        LMPOP 0 a LEFT
        LMPOP -1 a LEFT
        LMPOP abc a LEFT
        LMPOP 2 a LEFT
        LMPOP 3 a b LEFT
        LMPOP 9223372036854775807 a LEFT
        LMPOP 1 a LEFT COUNT 9223372036854775807
        LMPOP 1
        LMPOP 1 a
        "#,
    ),
    (
        "blocking_when_data_is_there",
        r#"
        RPUSH a 1 2 3
        BLPOP nokey a 0
        BRPOP a nokey 0
        BLPOP a 0.5
        RPUSH a x y z
        BLPOP a -1
        BLPOP a abc
        BLPOP a inf
        BLPOP a 1e30
        BLPOP a nan
        BLPOP a ""
        BLMOVE a b LEFT RIGHT 0
        BLMOVE a b LEFT UP 0
        BLMOVE a b LEFT RIGHT abc
        BLMOVE a b LEFT RIGHT -1
        BRPOPLPUSH a b 0
        BRPOPLPUSH a b x
        LRANGE b 0 -1
        RPUSH a p q r s
        BLMPOP 0 2 nokey a LEFT COUNT 2
        BLMPOP 0 1 a RIGHT
        BLMPOP 0 1 a RIGHT COUNT 0
        BLMPOP x 1 a RIGHT
        BLMPOP -1 1 a RIGHT
        BLMPOP 0 0 a RIGHT
        BLMPOP 0 2 a RIGHT
        BLMPOP 0 1 a SIDEWAYS
        BLMPOP 0 1 a LEFT COUNT 1 COUNT 1
        LLEN a
        BLPOP a
        BLMOVE a b LEFT RIGHT
        BLMPOP 0 1 a
        "#,
    ),
    (
        "timeouts_on_missing_keys",
        r#"
        BLPOP nokey 0.01
        BRPOP nokey nokey2 0.01
        BLMOVE nokey d LEFT RIGHT 0.01
        BRPOPLPUSH nokey d 0.01
        BLMPOP 0.01 2 nokey nokey2 LEFT COUNT 3
        LLEN d
        "#,
    ),
    (
        "big_values_and_nodes",
        r#"
        RPUSH l <a*5000> <b*5000> <c*5000> small <d*70000>
        LLEN l
        LINDEX l 1
        LINDEX l -2
        LRANGE l 2 3
        LINSERT l AFTER small <e*9000>
        LREM l 0 <b*5000>
        LPOS l small
        LSET l 0 x
        LRANGE l 0 0
        LTRIM l 1 -1
        LLEN l
        "#,
    ),
    (
        "generic",
        r#"
        RPUSH l a b c
        TYPE l
        OBJECT ENCODING l
        RPUSH big <x*100000>
        OBJECT ENCODING big
        COPY l l2
        LPUSH l2 z
        LRANGE l 0 -1
        LRANGE l2 0 -1
        RENAME l2 l3
        LRANGE l3 0 -1
        DEBUG DIGEST-VALUE l l3 big
        DEBUG DIGEST
        MOVE l3 1
        EXISTS l3
        ~ SCAN 0 TYPE list COUNT 100
        DEL l big
        EXISTS l big
        RPUSH u a
        UNLINK u nokey
        EXISTS u
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
fn differential_cases_resp3() {
    let Some(mut duo) = Duo::for_test("differential_cases_resp3", &[]) else {
        return;
    };
    let replies = duo.both(&["HELLO", "3"]);
    assert!(matches!(&replies, Some((Value::Map(_), Value::Map(_)))), "{replies:?}");
    duo.run_cases(CASES);
    duo.finish("differential_cases_resp3");
}

/// DEBUG OBJECT's quicklist fields (everything but the address, LRU and serialized length).
fn shape(c: &mut Raw, key: &str) -> Option<String> {
    match c.cmd(&["DEBUG", "OBJECT", key]) {
        Value::Simple(line) => {
            let line = String::from_utf8_lossy(&line).into_owned();
            let fields: Vec<&str> = line.split(' ').filter(|f| f.starts_with("ql_")).collect();
            Some(fields.join(" "))
        }
        _ => None,
    }
}

#[test]
fn debug_object_shows_the_same_quicklist_shape() {
    let Some(mut duo) = Duo::for_test("debug_object_shows_the_same_quicklist_shape", &[]) else {
        return;
    };
    duo.fail_fast();
    for (fill, depth) in [
        ("-2", "0"),
        ("-1", "0"),
        ("5", "0"),
        ("0", "0"),
        ("-9", "3"),
        ("100000", "0"),
    ] {
        duo.clear();
        duo.both(&[
            "CONFIG",
            "SET",
            "list-max-listpack-size",
            fill,
            "list-compress-depth",
            depth,
        ]);
        let mut cmd = vec!["RPUSH".to_string(), "l".to_string()];
        cmd.extend((0..3000).map(|i| format!("v{i}")));
        duo.both(&cmd);
        let mut cmd = vec!["LPUSH".to_string(), "l".to_string()];
        cmd.extend((0..500).map(|i| "x".repeat(i % 300)));
        duo.both(&cmd);
        for (i, piv) in ["v5", "v1000", "v2999", "v1500"].iter().enumerate() {
            duo.both(&[
                "LINSERT",
                "l",
                if i % 2 == 0 { "AFTER" } else { "BEFORE" },
                piv,
                "inserted",
            ]);
        }
        duo.both(&["LREM", "l", "7", "x"]);
        duo.both(&["LTRIM", "l", "3", "-4"]);
        let (ours, theirs) = (shape(&mut duo.ours, "l"), shape(&mut duo.theirs, "l"));
        assert!(ours.is_some());
        assert_eq!(ours, theirs, "fill {fill}");
        // A later CONFIG SET leaves existing lists alone.
        duo.both(&["CONFIG", "SET", "list-max-listpack-size", "-5"]);
        duo.both(&["RPUSH", "l", "after"]);
        assert_eq!(
            shape(&mut duo.ours, "l"),
            shape(&mut duo.theirs, "l"),
            "fill {fill} then -5"
        );
        duo.check(&format!("fill {fill}"), &["DEBUG", "DIGEST-VALUE", "l"], Cmp::Exact);
    }
    duo.finish("debug_object_shows_the_same_quicklist_shape");
}

/// `lazyfreed_objects` from INFO memory.
fn lazyfreed(c: &mut Raw) -> i64 {
    let Value::Bulk(info) = c.cmd(&["INFO", "memory"]) else {
        panic!("INFO memory is not a bulk string")
    };
    String::from_utf8_lossy(&info)
        .lines()
        .find_map(|l| l.strip_prefix("lazyfreed_objects:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("lazyfreed_objects field")
}

/// UNLINK frees a list on the background thread when it has more than 64 nodes (Redis's free effort
/// of a list is its node count), and at once otherwise.
#[test]
fn unlink_hands_lists_of_many_nodes_to_the_background() {
    let Some(mut duo) = Duo::for_test("unlink_hands_lists_of_many_nodes_to_the_background", &[]) else {
        return;
    };
    duo.fail_fast();
    duo.both(&["CONFIG", "SET", "list-max-listpack-size", "1"]);
    for (key, n) in [("at_limit", 64), ("over", 65)] {
        let mut cmd = vec!["RPUSH".to_string(), key.to_string()];
        cmd.extend((0..n).map(|i| i.to_string()));
        duo.both(&cmd);
    }
    duo.check("", &["UNLINK", "at_limit"], Cmp::Exact);
    assert_eq!((lazyfreed(&mut duo.ours), lazyfreed(&mut duo.theirs)), (0, 0));
    duo.check("", &["UNLINK", "over"], Cmp::Exact);
    for c in [&mut duo.ours, &mut duo.theirs] {
        assert!(eventually(Duration::from_secs(10), || lazyfreed(c) == 1));
    }
    duo.finish("unlink_hands_lists_of_many_nodes_to_the_background");
}

// ---- random differential runs ----

/// `FERRITE_LISTS_SEED` and `FERRITE_LISTS_STEPS` override the defaults (a failure prints the seed).
fn env_or(name: &str, default: u64) -> u64 {
    env_u64(name, default)
}

const KEYS: &[&str] = &["l1", "l2", "l3", "s", "nokey"];

fn random_value(rng: &mut Rng) -> Vec<u8> {
    match rng.below(20) {
        0..=9 => rng
            .pick(&["a", "b", "c", "1", "2", "-1", "01", "x y", "", "9223372036854775807"])
            .into(),
        10..=15 => (0..1 + rng.below(40)).map(|_| b'a' + rng.below(3) as u8).collect(),
        16..=17 => (rng.below(1 << 20) as i64 - (1 << 19)).to_string().into_bytes(),
        18 => vec![b'm'; 100 + rng.below(3000)],
        _ => vec![b'B'; 5000 + rng.below(6000)],
    }
}

fn random_index(rng: &mut Rng) -> String {
    match rng.below(20) {
        0 => rng
            .pick(&[
                "abc",
                "1.5",
                "",
                "9223372036854775807",
                "-9223372036854775808",
                "99999999999999999999",
            ])
            .into(),
        1..=3 => (rng.below(400) as i64 - 200).to_string(),
        _ => (rng.below(24) as i64 - 12).to_string(),
    }
}

fn random_count(rng: &mut Rng) -> String {
    match rng.below(12) {
        0 => rng.pick(&["-1", "abc", "0", "9223372036854775807"]).into(),
        _ => rng.below(6).to_string(),
    }
}

fn random_side(rng: &mut Rng) -> String {
    rng.pick(&["LEFT", "RIGHT", "left", "Right", "LEFT", "RIGHT", "UP"])
        .into()
}

/// A command line being built.
#[derive(Default)]
struct Words(Vec<Vec<u8>>);

impl Words {
    fn s(&mut self, w: &str) {
        self.0.push(w.as_bytes().to_vec());
    }
    fn b(&mut self, w: Vec<u8>) {
        self.0.push(w);
    }
}

fn random_command(rng: &mut Rng) -> Vec<Vec<u8>> {
    let key = |rng: &mut Rng| {
        if rng.below(15) == 0 {
            rng.pick(KEYS).to_string()
        } else {
            rng.pick(&KEYS[..3]).to_string()
        }
    };
    let mut c = Words::default();
    match rng.below(40) {
        0..=7 => {
            c.s(rng.pick(&["LPUSH", "RPUSH", "LPUSH", "RPUSH", "LPUSHX", "RPUSHX"]));
            c.s(&key(rng));
            for _ in 0..1 + rng.below(6) {
                c.b(random_value(rng));
            }
        }
        8..=11 => {
            c.s(rng.pick(&["LPOP", "RPOP"]));
            c.s(&key(rng));
            if rng.below(2) == 0 {
                c.s(&random_count(rng));
            }
        }
        12 => {
            c.s("LLEN");
            c.s(&key(rng));
        }
        13..=15 => {
            c.s("LRANGE");
            c.s(&key(rng));
            c.s(&random_index(rng));
            c.s(&random_index(rng));
        }
        16..=17 => {
            c.s("LINDEX");
            c.s(&key(rng));
            c.s(&random_index(rng));
        }
        18..=19 => {
            c.s("LSET");
            c.s(&key(rng));
            c.s(&random_index(rng));
            c.b(random_value(rng));
        }
        20..=23 => {
            c.s("LINSERT");
            c.s(&key(rng));
            c.s(rng.pick(&["BEFORE", "AFTER", "after", "before", "AROUND"]));
            c.b(random_value(rng));
            c.b(random_value(rng));
        }
        24..=25 => {
            c.s("LREM");
            c.s(&key(rng));
            c.s(&(rng.below(7) as i64 - 3).to_string());
            c.b(random_value(rng));
        }
        26 => {
            c.s("LTRIM");
            c.s(&key(rng));
            c.s(&(rng.below(5) as i64 - 1).to_string());
            c.s(&(rng.below(30) as i64 - 5).to_string());
        }
        27..=29 => {
            c.s("LPOS");
            c.s(&key(rng));
            c.b(random_value(rng));
            for _ in 0..rng.below(3) {
                match rng.below(7) {
                    0..=1 => {
                        c.s("RANK");
                        c.s(&(rng.below(7) as i64 - 3).to_string());
                    }
                    2..=3 => {
                        c.s("COUNT");
                        c.s(&random_count(rng));
                    }
                    4..=5 => {
                        c.s("MAXLEN");
                        c.s(&random_count(rng));
                    }
                    _ => c.s("BOGUS"),
                }
            }
        }
        30..=32 => {
            c.s("LMOVE");
            c.s(&key(rng));
            c.s(&key(rng));
            c.s(&random_side(rng));
            c.s(&random_side(rng));
        }
        33 => {
            c.s("RPOPLPUSH");
            c.s(&key(rng));
            c.s(&key(rng));
        }
        34..=35 => {
            let n = 1 + rng.below(3);
            c.s("LMPOP");
            c.s(&(if rng.below(15) == 0 { n + 1 } else { n }).to_string());
            for _ in 0..n {
                c.s(&key(rng));
            }
            c.s(&random_side(rng));
            if rng.below(2) == 0 {
                c.s("COUNT");
                c.s(&random_count(rng));
            }
        }
        // The blocking forms, with a short timeout so a miss costs 10 ms on both sides.
        36 => {
            c.s(rng.pick(&["BLPOP", "BRPOP"]));
            for _ in 0..1 + rng.below(2) {
                c.s(&key(rng));
            }
            c.s("0.01");
        }
        37 => {
            c.s("BLMOVE");
            c.s(&key(rng));
            c.s(&key(rng));
            c.s(&random_side(rng));
            c.s(&random_side(rng));
            c.s("0.01");
        }
        38 => {
            c.s("BRPOPLPUSH");
            c.s(&key(rng));
            c.s(&key(rng));
            c.s("0.01");
        }
        _ => {
            c.s("BLMPOP");
            c.s("0.01");
            c.s("2");
            c.s(&key(rng));
            c.s(&key(rng));
            c.s(&random_side(rng));
            if rng.below(2) == 0 {
                c.s("COUNT");
                c.s(&random_count(rng));
            }
        }
    }
    c.0
}

/// The same random command stream to both servers, at one node size: every reply exactly, and every
/// 25 steps the digest of each key, the quicklist's shape and the encoding.
fn random_run(fill: &str, seed: u64, steps: u64) {
    let mut duo = Duo::start(&[]);
    duo.fail_fast().set_label(&format!("fill {fill} seed {seed:#x}"));
    duo.both(&["CONFIG", "SET", "list-max-listpack-size", fill]);
    duo.both(&["SET", "s", "a string"]);
    let mut rng = Rng::new(seed);
    for step in 0..steps {
        let cmd = random_command(&mut rng);
        let context = format!("step {step}");
        duo.check(&context, &cmd, Cmp::Exact);
        if step % 25 == 24 {
            for key in &KEYS[..3] {
                duo.check(&context, &["DEBUG", "DIGEST-VALUE", key], Cmp::Exact);
                let (ours, theirs) = (shape(&mut duo.ours, key), shape(&mut duo.theirs, key));
                if ours != theirs {
                    duo.fail(format!("{context}: {key}: shape {ours:?} vs {theirs:?}"));
                }
                duo.check(&context, &["OBJECT", "ENCODING", key], Cmp::Exact);
            }
            duo.check(&context, &["DEBUG", "DIGEST"], Cmp::Exact);
        }
    }
    duo.finish(&format!("random run, fill {fill} seed {seed:#x}"));
}

#[test]
fn differential_random_default_nodes() {
    if !redis_available("differential_random_default_nodes") {
        return;
    }
    let steps = env_or("FERRITE_LISTS_STEPS", 2500);
    random_run("-2", env_or("FERRITE_LISTS_SEED", 0x1157_0001), steps);
}

#[test]
fn differential_random_small_and_huge_nodes() {
    if !redis_available("differential_random_small_and_huge_nodes") {
        return;
    }
    let steps = env_or("FERRITE_LISTS_STEPS", 2500) / 2;
    let seed = env_or("FERRITE_LISTS_SEED", 0x1157_0002);
    for (i, fill) in ["1", "3", "-1", "-5"].iter().enumerate() {
        random_run(fill, seed + i as u64, steps);
    }
}

// ---- blocking, on the binary alone ----

/// `blocked_clients` from INFO.
fn blocked_clients(c: &mut Raw) -> i64 {
    let Value::Bulk(info) = c.cmd(&["INFO", "clients"]) else {
        panic!("INFO clients is not a bulk string")
    };
    String::from_utf8_lossy(&info)
        .lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("blocked_clients field")
}

/// Wait until `n` clients are blocked (so the next command finds them waiting).
fn wait_blocked(c: &mut Raw, n: i64) {
    assert!(
        eventually(Duration::from_secs(10), || blocked_clients(c) == n),
        "expected {n} blocked clients, INFO says {}",
        blocked_clients(c)
    );
}

/// Nothing arrives on `c` for `ms` milliseconds.
fn silent_for(c: &mut Raw, ms: u64) -> bool {
    c.stream
        .set_read_timeout(Some(Duration::from_millis(ms)))
        .expect("timeout");
    let got = c.try_read();
    c.stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    got.is_none()
}

fn arr(items: Vec<Value>) -> Value {
    Value::Array(items)
}

fn client_id(c: &mut Raw) -> i64 {
    match c.cmd(&["CLIENT", "ID"]) {
        Value::Int(i) => i,
        other => panic!("CLIENT ID: {other:?}"),
    }
}

/// A client blocked with a timeout an hour away is answered as soon as another client pushes: the
/// wake-up comes from the push, not from a timer.
#[test]
fn a_push_wakes_a_waiter_at_once() {
    let f = Server::ferrite(&[]);
    let (mut waiter, mut pusher) = (f.raw(), f.raw());
    waiter.send(&["BLPOP", "k", "3600"]);
    wait_blocked(&mut pusher, 1);
    assert!(silent_for(&mut waiter, 100), "answered before anything was pushed");
    let start = Instant::now();
    assert_eq!(pusher.cmd(&["RPUSH", "k", "v"]), int(1));
    assert_eq!(waiter.read(), arr(vec![bulk("k"), bulk("v")]));
    assert!(start.elapsed() < Duration::from_secs(5));
    // Served, and the list it emptied is gone.
    assert_eq!(pusher.cmd(&["LLEN", "k"]), int(0));
    assert_eq!(blocked_clients(&mut pusher), 0);
    assert_eq!(waiter.cmd(&["PING"]), simple("PONG"));
}

/// Waiters on one key are served first come, first served, one element each, while elements last.
#[test]
fn waiters_are_served_in_fifo_order() {
    let f = Server::ferrite(&[]);
    let mut admin = f.raw();
    let mut waiters: Vec<Raw> = (0..4).map(|_| f.raw()).collect();
    for (i, w) in waiters.iter_mut().enumerate() {
        w.send(&["BRPOP", "other", "q", "0"]);
        wait_blocked(&mut admin, i as i64 + 1);
    }
    assert_eq!(admin.cmd(&["LPUSH", "q", "a", "b", "c"]), int(3));
    // BRPOP takes from the tail: the first waiter gets "a".
    for (w, v) in waiters.iter_mut().zip(["a", "b", "c"]) {
        assert_eq!(w.read(), arr(vec![bulk("q"), bulk(v)]));
    }
    assert!(silent_for(&mut waiters[3], 100));
    assert_eq!(blocked_clients(&mut admin), 1);
    assert_eq!(admin.cmd(&["RPUSH", "other", "z"]), int(1));
    assert_eq!(waiters[3].read(), arr(vec![bulk("other"), bulk("z")]));
    assert_eq!(admin.cmd(&["LLEN", "q"]), int(0));
}

/// A woken client is served from the key that woke it, even if it listed another key first.
#[test]
fn served_from_the_key_that_became_ready() {
    let f = Server::ferrite(&[]);
    let (mut w, mut c) = (f.raw(), f.raw());
    w.send(&["BLMPOP", "0", "3", "a", "b", "c", "LEFT", "COUNT", "5"]);
    wait_blocked(&mut c, 1);
    assert_eq!(c.cmd(&["RPUSH", "b", "1", "2"]), int(2));
    assert_eq!(w.read(), arr(vec![bulk("b"), arr(vec![bulk("1"), bulk("2")])]));
}

/// Fractional timeouts expire on time with each command's reply, in both protocols.
#[test]
fn timeouts_answer_with_null() {
    let f = Server::ferrite(&[]);
    let mut c = f.raw();
    let start = Instant::now();
    assert_eq!(c.cmd(&["BLPOP", "k", "0.2"]), Value::NullArray);
    // Not answered early. Deadlines are whole milliseconds of the server's clock (as in Redis), so the
    // wait may end up to a millisecond before the client's own stopwatch says 200 ms.
    assert!(start.elapsed() >= Duration::from_millis(198));
    // Rounded up to whole milliseconds, as Redis 7.0 does: these wait 1 ms, not for ever.
    for tiny in ["0.001", "0.0001", "1e-10"] {
        assert_eq!(c.cmd(&["BLPOP", "k", tiny]), Value::NullArray, "BLPOP k {tiny}");
    }
    assert_eq!(c.cmd(&["BLMOVE", "k", "d", "LEFT", "LEFT", "0.05"]), Value::NullArray);
    assert_eq!(c.cmd(&["BRPOPLPUSH", "k", "d", "0.05"]), Value::NullArray);
    assert_eq!(c.cmd(&["BLMPOP", "0.05", "1", "k", "LEFT"]), Value::NullArray);
    assert!(matches!(c.cmd(&["HELLO", "3"]), Value::Map(_)));
    assert_eq!(c.cmd(&["BRPOP", "k", "0.05"]), Value::Null);
    assert_eq!(c.cmd(&["BLMOVE", "k", "d", "LEFT", "LEFT", "0.05"]), Value::Null);
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
    assert_eq!(c.cmd(&["LLEN", "d"]), int(0));
}

/// BLMOVE chains: a served BLMOVE pushes into a key another client waits on, which is served in turn.
#[test]
fn blmove_chains_wake_the_next_waiter() {
    let f = Server::ferrite(&[]);
    let mut admin = f.raw();
    let mut first = f.raw();
    let mut second = f.raw();
    let mut third = f.raw();
    first.send(&["BLMOVE", "a", "b", "RIGHT", "LEFT", "0"]);
    wait_blocked(&mut admin, 1);
    second.send(&["BRPOPLPUSH", "b", "c", "0"]);
    wait_blocked(&mut admin, 2);
    third.send(&["BLPOP", "c", "0"]);
    wait_blocked(&mut admin, 3);
    assert_eq!(admin.cmd(&["RPUSH", "a", "x"]), int(1));
    assert_eq!(first.read(), bulk("x"));
    assert_eq!(second.read(), bulk("x"));
    assert_eq!(third.read(), arr(vec![bulk("c"), bulk("x")]));
    for k in ["a", "b", "c"] {
        assert_eq!(admin.cmd(&["LLEN", k]), int(0), "{k}");
    }
    assert_eq!(blocked_clients(&mut admin), 0);
}

/// A BLMOVE whose destination turned into another type while it waited gets WRONGTYPE, and the
/// element stays where it was.
#[test]
fn blmove_to_a_wrong_type_fails_when_served() {
    let f = Server::ferrite(&[]);
    let (mut w, mut c) = (f.raw(), f.raw());
    w.send(&["BLMOVE", "src", "dst", "LEFT", "LEFT", "0"]);
    wait_blocked(&mut c, 1);
    assert_eq!(c.cmd(&["SET", "dst", "string"]), simple("OK"));
    assert_eq!(c.cmd(&["RPUSH", "src", "v"]), int(1));
    assert_eq!(
        w.read(),
        err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
    assert_eq!(c.cmd(&["LRANGE", "src", "0", "-1"]), arr(vec![bulk("v")]));
    assert_eq!(blocked_clients(&mut c), 0);
}

/// A key that becomes a string does not wake a list waiter; the waiter is served when a list appears.
#[test]
fn another_type_leaves_the_waiter_blocked() {
    let f = Server::ferrite(&[]);
    let (mut w, mut c) = (f.raw(), f.raw());
    w.send(&["BLPOP", "k", "0"]);
    wait_blocked(&mut c, 1);
    assert_eq!(c.cmd(&["SET", "k", "v"]), simple("OK"));
    assert!(silent_for(&mut w, 100));
    assert_eq!(blocked_clients(&mut c), 1);
    assert_eq!(c.cmd(&["DEL", "k"]), int(1));
    assert_eq!(c.cmd(&["LPUSH", "k", "x"]), int(1));
    assert_eq!(w.read(), arr(vec![bulk("k"), bulk("x")]));
}

/// CLIENT UNBLOCK answers with the timeout's reply or an UNBLOCKED error; the client's pipeline goes on.
#[test]
fn client_unblock_ends_the_wait() {
    let f = Server::ferrite(&[]);
    let (mut w, mut c) = (f.raw(), f.raw());
    let id = client_id(&mut w).to_string();
    w.send(&["BLMOVE", "k", "d", "LEFT", "LEFT", "0"]);
    w.send(&["PING"]);
    wait_blocked(&mut c, 1);
    assert_eq!(c.cmd(&["CLIENT", "UNBLOCK", &id, "TIMEOUT"]), int(1));
    assert_eq!(w.read(), Value::NullArray);
    assert_eq!(w.read(), simple("PONG"));
    w.send(&["BLPOP", "k", "0"]);
    wait_blocked(&mut c, 1);
    assert_eq!(c.cmd(&["CLIENT", "UNBLOCK", &id, "ERROR"]), int(1));
    assert_eq!(w.read(), err("UNBLOCKED client unblocked via CLIENT UNBLOCK"));
    assert_eq!(c.cmd(&["CLIENT", "UNBLOCK", &id]), int(0));
    assert_eq!(blocked_clients(&mut c), 0);
    // Nothing was left waiting on k.
    assert_eq!(c.cmd(&["RPUSH", "k", "v"]), int(1));
    assert_eq!(c.cmd(&["LLEN", "k"]), int(1));
}

/// A waiter that disconnects is forgotten: the next push is not lost to it.
#[test]
fn a_waiter_that_leaves_is_forgotten() {
    let f = Server::ferrite(&[]);
    let mut c = f.raw();
    {
        let mut w = f.raw();
        w.send(&["BLPOP", "k", "0"]);
        wait_blocked(&mut c, 1);
    }
    wait_blocked(&mut c, 0);
    assert_eq!(c.cmd(&["RPUSH", "k", "v"]), int(1));
    assert_eq!(c.cmd(&["LRANGE", "k", "0", "-1"]), arr(vec![bulk("v")]));
}

/// A client pipelining commands after a blocking one gets their replies after the blocking reply.
#[test]
fn pipelined_commands_wait_behind_the_blocked_one() {
    let f = Server::ferrite(&[]);
    let (mut w, mut c) = (f.raw(), f.raw());
    let mut batch = Raw::encode(&["BLPOP", "k", "0"]);
    batch.extend(Raw::encode(&["RPUSH", "mine", "1"]));
    batch.extend(Raw::encode(&["LLEN", "k"]));
    w.send_raw(&batch);
    wait_blocked(&mut c, 1);
    assert_eq!(c.cmd(&["LLEN", "mine"]), int(0));
    assert_eq!(c.cmd(&["RPUSH", "k", "a", "b"]), int(2));
    assert_eq!(w.read(), arr(vec![bulk("k"), bulk("a")]));
    assert_eq!(w.read(), int(1));
    assert_eq!(w.read(), int(1));
}

/// A key created by RENAME, COPY or MOVE wakes its waiters like a push does.
#[test]
fn keys_created_by_other_commands_wake_waiters() {
    let f = Server::ferrite(&[]);
    let (mut w, mut c) = (f.raw(), f.raw());
    assert_eq!(c.cmd(&["RPUSH", "src", "a", "b"]), int(2));
    w.send(&["BLPOP", "dst", "0"]);
    wait_blocked(&mut c, 1);
    assert_eq!(c.cmd(&["RENAME", "src", "dst"]), simple("OK"));
    assert_eq!(w.read(), arr(vec![bulk("dst"), bulk("a")]));
    w.send(&["BRPOP", "copy", "0"]);
    wait_blocked(&mut c, 1);
    assert_eq!(c.cmd(&["COPY", "dst", "copy"]), int(1));
    assert_eq!(w.read(), arr(vec![bulk("copy"), bulk("b")]));
    assert_eq!(c.cmd(&["LRANGE", "dst", "0", "-1"]), arr(vec![bulk("b")]));
    // MOVE into the database the waiter has selected.
    assert_eq!(w.cmd(&["SELECT", "1"]), simple("OK"));
    w.send(&["BLPOP", "dst", "0"]);
    wait_blocked(&mut c, 1);
    assert_eq!(c.cmd(&["MOVE", "dst", "1"]), int(1));
    assert_eq!(w.read(), arr(vec![bulk("dst"), bulk("b")]));
    assert_eq!(w.cmd(&["EXISTS", "dst"]), int(0));
}

// ---- blocking, side by side with Redis ----

/// Run the same multi-client scenario on a server and collect what every client received, in a fixed
/// order, so the transcripts of Ferrite and Redis can be compared.
fn scenario(s: &Server) -> Vec<String> {
    let mut admin = s.raw();
    let mut log = vec![];
    let mut record = |who: &str, v: Value| log.push(format!("{who}: {}", show(&v)));
    let mut w: Vec<Raw> = (0..5).map(|_| s.raw()).collect();
    // Two keys, mixed commands, one element pushed at a time and several at once.
    w[0].send(&["BLPOP", "k1", "k2", "0"]);
    wait_blocked(&mut admin, 1);
    w[1].send(&["BRPOP", "k2", "0"]);
    wait_blocked(&mut admin, 2);
    w[2].send(&["BLMPOP", "0", "2", "k2", "k1", "RIGHT", "COUNT", "3"]);
    wait_blocked(&mut admin, 3);
    w[3].send(&["BLMOVE", "k1", "k3", "LEFT", "RIGHT", "0"]);
    wait_blocked(&mut admin, 4);
    w[4].send(&["BRPOPLPUSH", "k3", "k2", "0"]);
    wait_blocked(&mut admin, 5);
    record("push k2", admin.cmd(&["RPUSH", "k2", "a", "b", "c", "d"]));
    for (i, c) in w.iter_mut().enumerate().take(3) {
        record(&format!("w{i}"), c.read());
    }
    record("push k1", admin.cmd(&["LPUSH", "k1", "x", "y"]));
    for (i, c) in w.iter_mut().enumerate().skip(3) {
        record(&format!("w{i}"), c.read());
    }
    for k in ["k1", "k2", "k3"] {
        record(k, admin.cmd(&["LRANGE", k, "0", "-1"]));
    }
    record("blocked", Value::Int(blocked_clients(&mut admin)));
    log
}

#[test]
fn blocking_scenario_matches_redis() {
    if !redis_available("blocking_scenario_matches_redis") {
        return;
    }
    let (f, r) = (Server::ferrite(&[]), Server::redis(&[]));
    assert_eq!(scenario(&f), scenario(&r));
}
