//! HyperLogLog, black-box and against a real `redis-server`: the same commands must give the same
//! replies and leave the *same bytes* (GET), so values move between the two servers; corrupt values must
//! be refused the same way, never trusted.

mod common;

use common::cases::Duo;
use common::diff::{show, show_args, Cmp};
use common::{err, int, simple, Rng, Server, Value};
use ferrite::testing::Harness;

/// Both servers for `test`, stopping at the first difference.
fn duo(test: &str) -> Option<Duo> {
    let mut d = Duo::for_test(test, &[])?;
    d.fail_fast();
    Some(d)
}

/// Send to both and require the same reply; returns Ferrite's.
fn same<A: AsRef<[u8]>>(duo: &mut Duo, args: &[A]) -> Value {
    let (a, _) = duo.check("", args, Cmp::Exact).expect("a command both servers know");
    a
}

/// The bytes of `key` on both servers must be equal.
fn same_bytes(duo: &mut Duo, key: &str, context: &str) {
    duo.check(&format!("{context}: GET {key} differs"), &["GET", key], Cmp::Exact);
}

fn bytes(v: Value) -> Vec<u8> {
    match v {
        Value::Bulk(b) => b,
        other => panic!("not a bulk: {}", show(&other)),
    }
}

fn encoding(c: &mut common::Raw, key: &str) -> String {
    match c.cmd(&["DEBUG", "OBJECT", key]) {
        Value::Simple(s) => String::from_utf8_lossy(&s)
            .split(' ')
            .find_map(|w| w.strip_prefix("encoding:"))
            .unwrap_or("?")
            .to_string(),
        other => show(&other),
    }
}

// ---- the binary alone ----

#[test]
fn counts_are_close() {
    let f = Server::ferrite(&[]);
    let mut c = f.raw();
    assert_eq!(c.cmd(&["PFCOUNT", "h"]), int(0));
    assert_eq!(c.cmd(&["PFADD", "h"]), int(1));
    assert_eq!(c.cmd(&["PFADD", "h"]), int(0));
    for chunk in 0..100 {
        let mut cmd = vec!["PFADD".to_string(), "h".to_string()];
        cmd.extend((0..100).map(|i| format!("e{}", chunk * 100 + i)));
        c.cmd(&cmd);
    }
    let Value::Int(n) = c.cmd(&["PFCOUNT", "h"]) else {
        panic!("int")
    };
    assert!((n - 10_000).abs() < 300, "estimate {n}");
    assert_eq!(c.cmd(&["PFDEBUG", "ENCODING", "h"]), simple("dense"));
    assert_eq!(c.cmd(&["PFSELFTEST"]), simple("OK"));
}

/// PFCOUNT of one key caches its estimate in the header, and that write is propagated; a cached
/// answer writes nothing.
#[test]
fn pfcount_propagates_only_when_it_caches() {
    let mut h = Harness::new();
    h.tap_journal();
    h.run(&["PFADD", "h", "a", "b"]);
    assert_eq!(h.run(&["PFCOUNT", "h"]), int(2));
    assert_eq!(h.run(&["PFCOUNT", "h"]), int(2));
    assert_eq!(h.run(&["PFCOUNT", "h", "nokey"]), int(2));
    assert_eq!(
        h.journal(),
        vec![vec!["SELECT", "0"], vec!["PFADD", "h", "a", "b"], vec!["PFCOUNT", "h"]]
    );
    assert_eq!(h.run(&["PFADD", "h", "a"]), int(0));
    assert_eq!(h.run(&["PFDEBUG", "TODENSE", "h"]), int(1));
    assert_eq!(h.run(&["PFDEBUG", "TODENSE", "h"]), int(0));
    assert_eq!(h.journal(), vec![vec!["PFDEBUG", "TODENSE", "h"]]);
}

// ---- against redis-server ----

const SCRIPT: &[&[&str]] = &[
    &["PFADD", "h"],
    &["GET", "h"],
    &["PFADD", "h"],
    &["PFADD", "h", "a", "b", "c"],
    &["PFADD", "h", "a"],
    &["GET", "h"],
    &["PFCOUNT", "h"],
    &["GET", "h"],
    &["PFCOUNT", "h"],
    &["PFCOUNT", "nokey"],
    &["PFCOUNT", "h", "nokey"],
    &["PFADD", "g", "c", "d", "e"],
    &["PFCOUNT", "h", "g"],
    &["PFMERGE", "m", "h", "g"],
    &["GET", "m"],
    &["PFCOUNT", "m"],
    &["PFMERGE", "m"],
    &["PFMERGE", "new"],
    &["GET", "new"],
    &["PFMERGE", "h", "g", "nokey"],
    &["GET", "h"],
    &["PFDEBUG", "ENCODING", "h"],
    &["PFDEBUG", "DECODE", "h"],
    &["PFDEBUG", "encoding", "nokey"],
    &["PFDEBUG", "nosuch", "nokey"],
    &["PFDEBUG", "nosuch", "h"],
    &["PFDEBUG", "TODENSE", "h"],
    &["PFDEBUG", "TODENSE", "h"],
    &["PFDEBUG", "DECODE", "h"],
    &["PFDEBUG", "ENCODING", "h"],
    &["GET", "h"],
    &["PFCOUNT", "h"],
    &["PFMERGE", "m2", "h", "g"],
    &["PFDEBUG", "ENCODING", "m2"],
    &["GET", "m2"],
    &["PFDEBUG", "GETREG", "g"],
    &["GET", "g"],
    // Not HyperLogLogs.
    &["SET", "s", "hello"],
    &["PFADD", "s", "a"],
    &["PFCOUNT", "s"],
    &["PFCOUNT", "h", "s"],
    &["PFMERGE", "h", "s"],
    &["PFMERGE", "s", "h"],
    &["PFDEBUG", "ENCODING", "s"],
    &["SET", "n", "12345"],
    &["PFADD", "n", "a"],
    &["PFCOUNT", "n"],
    &["HSET", "hash", "f", "v"],
    &["PFADD", "hash", "a"],
    &["PFCOUNT", "hash"],
    &["PFCOUNT", "h", "hash"],
    &["PFMERGE", "hash", "h"],
    &["PFMERGE", "h", "hash"],
    &["PFDEBUG", "GETREG", "hash"],
    &["SET", "short", "HYLL"],
    &["PFCOUNT", "short"],
    &["SET", "enc2", "HYLL\u{2}\0\0\0\0\0\0\0\0\0\0\0"],
    &["PFCOUNT", "enc2"],
    &["SET", "densebad", "HYLL\0\0\0\0\0\0\0\0\0\0\0\0"],
    &["PFCOUNT", "densebad"],
    // Sparse headers with bad opcodes: valid-looking until used.
    &["SET", "nocover", "HYLL\u{1}\0\0\0\0\0\0\0\0\0\0\0"],
    &["PFCOUNT", "nocover"],
    &["PFADD", "nocover", "a"],
    &["PFMERGE", "x", "nocover"],
    &["PFDEBUG", "DECODE", "nocover"],
    &["PFDEBUG", "GETREG", "nocover"],
    &["SET", "short-xzero", "HYLL\u{1}\0\0\0\0\0\0\0\0\0\0\0\u{7f}"],
    &["PFCOUNT", "short-xzero"],
    &["PFADD", "short-xzero", "a", "b", "c", "d"],
    &["GET", "short-xzero"],
    &["PFDEBUG", "DECODE", "short-xzero"],
];

#[test]
fn differential_script() {
    let Some(mut duo) = duo("differential_script") else {
        return;
    };
    for cmd in SCRIPT {
        same(&mut duo, cmd);
    }
    duo.finish("differential_script");
}

/// Values stay strings with Redis's encodings: a client SET gives embstr/raw, and every command that
/// may write makes it raw (even when nothing changes).
#[test]
fn differential_string_encodings() {
    let Some(mut duo) = duo("differential_string_encodings") else {
        return;
    };
    same(&mut duo, &["PFADD", "h", "a"]);
    let sparse = bytes(duo.theirs.cmd(&["GET", "h"]));
    for (setup, probe) in [
        (None, &["PFCOUNT", "k"][..]),
        (None, &["PFADD", "k"][..]),
        (None, &["PFCOUNT", "k", "h"][..]),
        (None, &["PFMERGE", "other", "k"][..]),
        (Some("dense"), &["PFDEBUG", "ENCODING", "k"][..]),
    ] {
        same(&mut duo, &[&b"SET"[..], b"k", &sparse]);
        if setup.is_some() {
            same(&mut duo, &["PFDEBUG", "TODENSE", "k"]);
        }
        assert_eq!(
            encoding(&mut duo.ours, "k"),
            encoding(&mut duo.theirs, "k"),
            "after SET"
        );
        same(&mut duo, probe);
        assert_eq!(
            encoding(&mut duo.ours, "k"),
            encoding(&mut duo.theirs, "k"),
            "after {probe:?}"
        );
    }
    duo.finish("differential_string_encodings");
}

fn element(rng: &mut Rng) -> Vec<u8> {
    match rng.below(4) {
        0 => (rng.next() % 1_000_000).to_string().into_bytes(),
        1 => (0..rng.below(20)).map(|_| rng.next() as u8).collect(),
        _ => format!("element:{}", rng.next() % 100_000).into_bytes(),
    }
}

/// Random PFADDs (small batches, so values cross every sparse size and the dense promotion), PFMERGEs
/// and PFCOUNTs under several `hll-sparse-max-bytes`: replies and bytes equal after every step.
#[test]
fn differential_random_bytes_identical() {
    let Some(mut duo) = duo("differential_random_bytes_identical") else {
        return;
    };
    let mut rng = Rng::new(0x4c1_0c0de);
    let keys = ["a", "b", "c", "d"];
    for (round, max) in ["3000", "200", "30", "12000", "0"].iter().enumerate() {
        same(&mut duo, &["CONFIG", "SET", "hll-sparse-max-bytes", max]);
        for step in 0..400 {
            let key = rng.pick(&keys);
            let cmd: Vec<Vec<u8>> = match rng.below(10) {
                0 => {
                    let mut c = vec![b"PFMERGE".to_vec(), key.as_bytes().to_vec()];
                    c.extend((0..rng.below(3)).map(|_| rng.pick(&keys).as_bytes().to_vec()));
                    c
                }
                1 | 2 => {
                    let mut c = vec![b"PFCOUNT".to_vec(), key.as_bytes().to_vec()];
                    c.extend((0..rng.below(2)).map(|_| rng.pick(&keys).as_bytes().to_vec()));
                    c
                }
                _ => {
                    let mut c = vec![b"PFADD".to_vec(), key.as_bytes().to_vec()];
                    let n = if rng.below(10) == 0 { 200 } else { rng.below(8) };
                    c.extend((0..n).map(|_| element(&mut rng)));
                    c
                }
            };
            let context = format!("round {round} step {step}: {}", show_args(&cmd));
            duo.check(&context, &cmd, Cmp::Exact);
            same_bytes(&mut duo, key, &context);
        }
        for key in keys {
            same_bytes(&mut duo, key, "end of round");
            same(&mut duo, &["PFDEBUG", "ENCODING", key]);
        }
    }
    duo.finish("differential_random_bytes_identical");
}

/// A value made by Redis, SET into Ferrite, counts the same and grows into the same bytes (and the
/// other way round).
#[test]
fn values_round_trip_between_servers() {
    let Some(mut duo) = duo("values_round_trip_between_servers") else {
        return;
    };
    let (fc, rc) = (&mut duo.ours, &mut duo.theirs);
    let mut rng = Rng::new(7);
    for (from, size) in [("redis", 50), ("redis", 5000), ("ferrite", 300), ("ferrite", 20000)] {
        let (src, dst) = if from == "redis" {
            (&mut *rc, &mut *fc)
        } else {
            (&mut *fc, &mut *rc)
        };
        let key = format!("k{from}{size}");
        let k = key.as_str();
        let mut all: Vec<Vec<u8>> = vec![b"PFADD".to_vec(), key.clone().into_bytes()];
        all.extend((0..size).map(|_| element(&mut rng)));
        src.cmd(&all);
        let value = bytes(src.cmd(&["GET", k]));
        assert_eq!(
            dst.cmd(
                &[k.as_bytes(), &value][..]
                    .iter()
                    .fold(vec![b"SET".to_vec()], |mut v, a| {
                        v.push(a.to_vec());
                        v
                    })
            ),
            simple("OK")
        );
        assert_eq!(src.cmd(&["PFCOUNT", k]), dst.cmd(&["PFCOUNT", k]), "{from} {size}");
        assert_eq!(
            src.cmd(&["GET", k]),
            dst.cmd(&["GET", k]),
            "{from} {size}: cached count"
        );
        let mut more: Vec<Vec<u8>> = vec![b"PFADD".to_vec(), key.clone().into_bytes()];
        more.extend((0..size / 2 + 10).map(|_| element(&mut rng)));
        assert_eq!(src.cmd(&more), dst.cmd(&more));
        assert_eq!(src.cmd(&["GET", k]), dst.cmd(&["GET", k]), "{from} {size}: after PFADD");
    }
    duo.finish("values_round_trip_between_servers");
}

/// Valid values with random bytes overwritten (opcodes, header, registers): both servers give the
/// same answer to every command, and leave the same bytes. Ferrite must never crash.
#[test]
fn differential_corrupted_values() {
    let Some(mut duo) = Duo::for_test("differential_corrupted_values", &[]) else {
        return;
    };
    let mut rng = Rng::new(0xbad_c0de);
    let mut originals = Vec::new();
    for size in [1usize, 10, 100, 600] {
        let mut cmd = vec![b"PFADD".to_vec(), b"src".to_vec()];
        cmd.extend((0..size).map(|_| element(&mut rng)));
        same(&mut duo, &cmd);
        originals.push(bytes(duo.theirs.cmd(&["GET", "src"])));
        same(&mut duo, &["GETDEL", "src"]);
    }
    let cases: usize = std::env::var("FERRITE_HLL_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    'cases: for case in 0..cases {
        let mut v = originals[rng.below(originals.len())].clone();
        match rng.below(4) {
            0 => {
                // Overwrite opcode bytes.
                for _ in 0..1 + rng.below(3) {
                    let i = 16 + rng.below(v.len() - 16);
                    v[i] = rng.next() as u8;
                }
            }
            1 => {
                // Truncate or extend the opcodes.
                if rng.below(2) == 0 && v.len() > 17 {
                    v.truncate(17 + rng.below(v.len() - 17));
                } else {
                    v.push(rng.next() as u8);
                }
            }
            2 => {
                // Header: the cache, the encoding byte.
                let i = rng.pick(&[4usize, 8, 15]);
                v[i] = rng.pick(&[0u8, 1, 2, 0x80, 0xff]);
            }
            _ => {
                // A dense value with random registers (all registers at 51 and above included).
                v = b"HYLL\0\0\0\0\0\0\0\0\0\0\0\x80".to_vec();
                let fill = rng.below(3);
                v.extend((0..12288).map(|_| match fill {
                    0 => rng.next() as u8,
                    1 => 0xff,
                    _ => 0,
                }));
            }
        }
        for cmd in [
            vec![b"SET".to_vec(), b"k".to_vec(), v.clone()],
            vec![b"PFCOUNT".to_vec(), b"k".to_vec()],
            vec![b"PFCOUNT".to_vec(), b"k".to_vec(), b"nokey".to_vec()],
            vec![b"PFDEBUG".to_vec(), b"DECODE".to_vec(), b"k".to_vec()],
            vec![
                b"PFADD".to_vec(),
                b"k".to_vec(),
                b"x".to_vec(),
                b"y".to_vec(),
                element(&mut rng),
            ],
            vec![b"GET".to_vec(), b"k".to_vec()],
            vec![b"PFMERGE".to_vec(), b"dst".to_vec(), b"k".to_vec()],
            vec![b"GET".to_vec(), b"dst".to_vec()],
            vec![b"PFDEBUG".to_vec(), b"GETREG".to_vec(), b"k".to_vec()],
            vec![b"GET".to_vec(), b"k".to_vec()],
            vec![b"GETDEL".to_vec(), b"dst".to_vec()],
        ] {
            if !duo.agrees(&format!("case {case}"), &cmd, Cmp::Exact) {
                duo.fail(format!("case {case}: the value was {v:02x?}"));
                break 'cases;
            }
        }
    }
    duo.finish("differential_corrupted_values");
}

#[test]
fn wrong_type_messages() {
    let f = Server::ferrite(&[]);
    let mut c = f.raw();
    c.cmd(&["SET", "s", "x"]);
    assert_eq!(
        c.cmd(&["PFADD", "s", "a"]),
        err("WRONGTYPE Key is not a valid HyperLogLog string value.")
    );
    c.cmd(&["HSET", "h", "f", "v"]);
    assert_eq!(
        c.cmd(&["PFCOUNT", "h"]),
        err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
    c.cmd(&[&b"SET"[..], b"bad", b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80"]);
    assert_eq!(
        c.cmd(&["PFCOUNT", "bad"]),
        err("INVALIDOBJ Corrupted HLL object detected")
    );
}
