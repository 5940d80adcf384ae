//! Cross-area differential test: seeded random command streams over every implemented command, sent to
//! Ferrite and to a real `redis-server` 7.0, replies compared by class (exact, unordered, shape, near).
//! Keys and values come from small pools so commands collide on the same keys, types and encodings:
//! strings, keys and expiry meet lists, hashes, sets, sorted sets and HyperLogLogs on the same keys
//! (WRONGTYPE, RENAME/COPY/MOVE/SWAPDB of every type, TTLs on collections, blocking pops with a short
//! timeout), and DEBUG DIGEST compares whole datasets along the way. Then the comparison framework's own
//! rules (`common::cases`): script words, and a command Ferrite lacks failing unless the test names it.
//! Skips when redis-server is absent (fails instead under FERRITE_REQUIRE_REDIS=1).

mod common;

use common::cases::{case_file, env_u64, words, Duo};
use common::diff::Cmp;
use common::Rng;

const KEYS: &[&str] = &["k1", "k2", "k3", "{t}a", "{t}b", "num", "bits", "long", ""];
const VALUES: &[&str] = &[
    "",
    "0",
    "1",
    "-1",
    "42",
    "007",
    "3.5",
    "-2.25e3",
    "1e400",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "hello",
    "hello world",
    " 1",
    "1 ",
    "+5",
    "0x10",
    "inf",
    "nan",
    "\u{0}\u{1}\u{ff}",
    "12345678901234567890",
    "a-string-of-exactly-forty-four-bytes-long!!!",
    "a-string-of-exactly-forty-five-bytes-long!!!!",
];
const INTS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "7",
    "-3",
    "100",
    "-100",
    "9223372036854775807",
    "x",
    "1.5",
    "",
];
const FLOATS: &[&str] = &["0", "1.5", "-0.25", "1e3", "inf", "-inf", "nan", "x", "5.0e-3", "10.1"];
const FIELDS: &[&str] = &[
    "f1",
    "f2",
    "f3",
    "n",
    "",
    "a-rather-long-field-name-over-sixty-four-bytes-to-force-a-hash-table",
];
const MEMBERS: &[&str] = &[
    "a",
    "b",
    "c",
    "1",
    "2",
    "-7",
    "300",
    "x y",
    "",
    "m-longer-than-sixty-four-bytes-so-the-encoding-changes-xxxxxxxxxxxxxx",
];
const SCORES: &[&str] = &["0", "1", "-1", "2.5", "1e3", "inf", "-inf", "nan", "x", "10"];
const OFFSETS: &[&str] = &["0", "1", "3", "7", "8", "15", "100", "-1", "-3", "4294967295", "x"];

struct Gen<'a> {
    rng: &'a mut Rng,
}

impl Gen<'_> {
    fn key(&mut self) -> String {
        self.rng.pick(KEYS).to_string()
    }
    fn value(&mut self) -> String {
        if self.rng.below(30) == 0 {
            return "v".repeat(self.rng.below(200) + 40);
        }
        self.rng.pick(VALUES).to_string()
    }
    fn int(&mut self) -> String {
        self.rng.pick(INTS).to_string()
    }
    fn float(&mut self) -> String {
        self.rng.pick(FLOATS).to_string()
    }
    fn offset(&mut self) -> String {
        self.rng.pick(OFFSETS).to_string()
    }
    /// A relative expiry long enough that both servers see the same state.
    fn ttl(&mut self) -> String {
        self.rng
            .pick(&["100", "1000", "86400", "0", "-5", "x", "9223372036854775807"])
            .to_string()
    }
    fn maybe(&mut self, n: usize) -> bool {
        self.rng.below(n) == 0
    }

    /// One random command and how its reply is compared.
    fn command(&mut self) -> (Vec<String>, Cmp) {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let k = self.key();
        let pick = self.rng.below(58 + 45);
        if pick >= 58 {
            return self.collection(k);
        }
        let exact = |v: Vec<String>| (v, Cmp::Exact);
        match pick {
            0..=3 => exact(s(&["GET", &k])),
            4..=7 => {
                let mut v = s(&["SET", &k]);
                v.push(self.value());
                for _ in 0..self.rng.below(3) {
                    match self.rng.below(8) {
                        0 => v.push("NX".into()),
                        1 => v.push("XX".into()),
                        2 => v.push("GET".into()),
                        3 => v.push("KEEPTTL".into()),
                        4 => v.extend(["EX".into(), self.ttl()]),
                        5 => v.extend(["PX".into(), format!("{}000", self.rng.below(100) + 100)]),
                        6 => v.push("BOGUS".into()),
                        _ => v.extend(["EXAT".into(), "99999999999".into()]),
                    }
                }
                exact(v)
            }
            8 => exact(vec!["SETNX".into(), k, self.value()]),
            9 => exact(vec!["SETEX".into(), k, self.ttl(), self.value()]),
            10 => exact(vec![
                "PSETEX".into(),
                k,
                format!("{}000", self.rng.below(1000) + 100),
                self.value(),
            ]),
            11 => {
                let mut v = vec!["GETEX".into(), k];
                match self.rng.below(4) {
                    0 => v.extend(["EX".into(), self.ttl()]),
                    1 => v.push("PERSIST".into()),
                    2 => v.extend(["PXAT".into(), "99999999999999".into()]),
                    _ => {}
                }
                exact(v)
            }
            12 => exact(vec!["GETDEL".into(), k]),
            13 => exact(vec!["GETSET".into(), k, self.value()]),
            14 => {
                let mut v = vec!["MGET".into()];
                for _ in 0..self.rng.below(4) + 1 {
                    v.push(self.key());
                }
                exact(v)
            }
            15 | 16 => {
                let cmd = if pick == 15 { "MSET" } else { "MSETNX" };
                let mut v = vec![cmd.to_string()];
                for _ in 0..self.rng.below(3) + 1 {
                    v.push(self.key());
                    v.push(self.value());
                }
                if self.maybe(10) {
                    v.pop();
                }
                exact(v)
            }
            17 => exact(vec!["APPEND".into(), k, self.value()]),
            18 => exact(vec!["STRLEN".into(), k]),
            19 => exact(vec![self.rng.pick(&["INCR", "DECR"]).into(), k]),
            20 => exact(vec![self.rng.pick(&["INCRBY", "DECRBY"]).into(), k, self.int()]),
            21 => exact(vec!["INCRBYFLOAT".into(), k, self.float()]),
            22 => exact(vec![
                self.rng.pick(&["GETRANGE", "SUBSTR"]).into(),
                k,
                self.offset(),
                self.offset(),
            ]),
            23 => exact(vec![
                "SETRANGE".into(),
                k,
                self.rng.pick(&["0", "1", "5", "-1", "x"]).into(),
                self.value(),
            ]),
            24 => {
                let mut v = vec!["LCS".into(), k, self.key()];
                match self.rng.below(4) {
                    0 => v.push("LEN".into()),
                    1 => v.extend(["IDX".into(), "WITHMATCHLEN".into()]),
                    2 => v.extend(["IDX".into(), "MINMATCHLEN".into(), "2".into()]),
                    _ => {}
                }
                exact(v)
            }
            // Offsets stay small: the largest legal one would build a 512 MB string on both servers.
            25 => exact(vec![
                "SETBIT".into(),
                k,
                self.rng
                    .pick(&["0", "1", "7", "8", "100", "-1", "4294967296", "x"])
                    .into(),
                self.rng.pick(&["0", "1", "2"]).into(),
            ]),
            26 => exact(vec!["GETBIT".into(), k, self.offset()]),
            27 => {
                let mut v = vec!["BITCOUNT".into(), k];
                if self.maybe(2) {
                    v.extend([self.offset(), self.offset()]);
                    if self.maybe(2) {
                        v.push(self.rng.pick(&["BIT", "BYTE"]).into());
                    }
                }
                exact(v)
            }
            28 => {
                let mut v = vec!["BITPOS".into(), k, self.rng.pick(&["0", "1"]).into()];
                if self.maybe(2) {
                    v.push(self.offset());
                    if self.maybe(2) {
                        v.push(self.offset());
                        if self.maybe(2) {
                            v.push(self.rng.pick(&["BIT", "BYTE"]).into());
                        }
                    }
                }
                exact(v)
            }
            29 => {
                let op = self.rng.pick(&["AND", "OR", "XOR", "NOT"]);
                let mut v = vec!["BITOP".into(), op.into(), self.key(), k];
                if op != "NOT" || self.maybe(4) {
                    v.push(self.key());
                }
                exact(v)
            }
            30 => {
                let mut v = vec![self.rng.pick(&["BITFIELD", "BITFIELD_RO"]).to_string(), k];
                for _ in 0..self.rng.below(3) + 1 {
                    let ty = self
                        .rng
                        .pick(&["u8", "i8", "u1", "i16", "u63", "i64", "u64", "x8"])
                        .to_string();
                    let off = self.rng.pick(&["0", "3", "#1", "100", "-1"]).to_string();
                    match self.rng.below(4) {
                        0 => v.extend(["GET".into(), ty, off]),
                        1 => v.extend(["SET".into(), ty, off, self.int()]),
                        2 => v.extend(["INCRBY".into(), ty, off, self.int()]),
                        _ => v.extend(["OVERFLOW".into(), self.rng.pick(&["WRAP", "SAT", "FAIL", "NO"]).into()]),
                    }
                }
                exact(v)
            }
            31 | 32 => {
                let mut v = vec![self.rng.pick(&["DEL", "UNLINK", "EXISTS", "TOUCH"]).to_string()];
                for _ in 0..self.rng.below(3) + 1 {
                    v.push(self.key());
                }
                exact(v)
            }
            33 => exact(vec!["TYPE".into(), k]),
            34 => exact(vec![self.rng.pick(&["RENAME", "RENAMENX"]).into(), k, self.key()]),
            35 => {
                let mut v = vec!["COPY".into(), k, self.key()];
                if self.maybe(2) {
                    v.push("REPLACE".into());
                }
                if self.maybe(4) {
                    v.extend(["DB".into(), self.rng.pick(&["0", "1", "16", "x"]).into()]);
                }
                exact(v)
            }
            36 => exact(vec![
                "MOVE".into(),
                k,
                self.rng.pick(&["0", "1", "2", "16", "-1"]).into(),
            ]),
            37 => (
                vec![
                    "KEYS".into(),
                    self.rng.pick(&["*", "k*", "?", "k[12]", "{t}*", "*[^a]", "\\*"]).into(),
                ],
                Cmp::Unordered,
            ),
            38 => (vec!["RANDOMKEY".into()], Cmp::Shape),
            39 | 40 => {
                let cmd = self.rng.pick(&["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"]);
                let t = match cmd {
                    "EXPIRE" => self.ttl(),
                    "PEXPIRE" => self.rng.pick(&["100000", "86400000", "0", "-1", "x"]).into(),
                    "EXPIREAT" => self.rng.pick(&["99999999999", "1", "x"]).into(),
                    _ => self.rng.pick(&["99999999999999", "1", "x"]).into(),
                };
                let mut v = vec![cmd.to_string(), k, t];
                if self.maybe(3) {
                    // GT/LT against a relative deadline depends on which millisecond each server reads
                    // (two EXPIRE k 100 in a row may or may not land in the same one): absolute only.
                    let relative = cmd == "EXPIRE" || cmd == "PEXPIRE";
                    let opts: &[&str] = if relative {
                        &["NX", "XX", "ZZ"]
                    } else {
                        &["NX", "XX", "GT", "LT", "ZZ"]
                    };
                    v.push(self.rng.pick(opts).into());
                }
                exact(v)
            }
            41 => (vec!["TTL".into(), k], Cmp::Near(1)),
            42 => (vec!["PTTL".into(), k], Cmp::Near(500)),
            43 => (vec!["EXPIRETIME".into(), k], Cmp::Near(1)),
            44 => (vec!["PEXPIRETIME".into(), k], Cmp::Near(500)),
            45 => exact(vec!["PERSIST".into(), k]),
            46 => exact(vec!["OBJECT".into(), "ENCODING".into(), k]),
            47 => exact(vec!["DBSIZE".into()]),
            48 => exact(vec!["SELECT".into(), self.rng.pick(&["0", "0", "1", "16", "x"]).into()]),
            49 => exact(vec![
                "SWAPDB".into(),
                self.rng.pick(&["0", "1"]).into(),
                self.rng.pick(&["0", "1", "16"]).into(),
            ]),
            50 => exact(vec!["PING".into()]),
            51 => exact(vec!["ECHO".into(), self.value()]),
            52 => exact(vec!["STRLEN".into(), k, "extra".into()]),
            53 => exact(vec!["OBJECT".into(), "REFCOUNT".into(), k]),
            54 if self.maybe(20) => exact(vec!["FLUSHDB".into()]),
            54 => exact(vec!["EXISTS".into(), self.key()]),
            55 => exact(vec!["NOSUCHCOMMAND".into(), k]),
            56 => exact(vec!["GET".into()]),
            _ => exact(vec!["SET".into(), k, self.value(), "EX".into(), "-1".into()]),
        }
    }

    fn member(&mut self) -> String {
        self.rng.pick(MEMBERS).to_string()
    }
    fn field(&mut self) -> String {
        self.rng.pick(FIELDS).to_string()
    }
    fn score(&mut self) -> String {
        self.rng.pick(SCORES).to_string()
    }
    fn end(&mut self) -> String {
        self.rng.pick(&["LEFT", "RIGHT", "UP"]).to_string()
    }

    /// A command on a collection (or on whatever `k` holds: WRONGTYPE is part of the comparison).
    fn collection(&mut self, k: String) -> (Vec<String>, Cmp) {
        let exact = |v: Vec<String>| (v, Cmp::Exact);
        let unordered = |v: Vec<String>| (v, Cmp::Unordered);
        match self.rng.below(45) {
            0..=3 => {
                let mut v = vec![self.rng.pick(&["LPUSH", "RPUSH", "LPUSHX", "RPUSHX"]).to_string(), k];
                for _ in 0..self.rng.below(3) + 1 {
                    v.push(self.member());
                }
                exact(v)
            }
            4 | 5 => {
                let mut v = vec![self.rng.pick(&["LPOP", "RPOP"]).to_string(), k];
                if self.maybe(3) {
                    v.push(self.rng.pick(&["0", "1", "2", "5", "-1", "x"]).into());
                }
                exact(v)
            }
            6 | 7 => exact(vec![
                "LRANGE".into(),
                k,
                self.offset(),
                self.rng.pick(&["-1", "0", "2", "100"]).into(),
            ]),
            8 => exact(vec![self.rng.pick(&["LLEN", "LINDEX"]).into(), k, self.offset()]),
            9 => exact(vec!["LMOVE".into(), k, self.key(), self.end(), self.end()]),
            10 => exact(vec![
                "LREM".into(),
                k,
                self.rng.pick(&["0", "1", "-2"]).into(),
                self.member(),
            ]),
            11 => exact(vec!["LPOS".into(), k, self.member()]),
            12..=14 => {
                let mut v = vec![self.rng.pick(&["HSET", "HSET", "HSETNX", "HMSET"]).to_string(), k];
                for _ in 0..self.rng.below(2) + 1 {
                    v.push(self.field());
                    v.push(self.value());
                }
                if v[0] == "HSETNX" {
                    v.truncate(4);
                }
                exact(v)
            }
            15 => exact(vec![
                self.rng.pick(&["HGET", "HEXISTS", "HSTRLEN"]).into(),
                k,
                self.field(),
            ]),
            16 => unordered(vec![self.rng.pick(&["HGETALL", "HKEYS", "HVALS"]).into(), k]),
            17 => exact(vec!["HINCRBY".into(), k, self.field(), self.int()]),
            18 => exact(vec!["HINCRBYFLOAT".into(), k, self.field(), self.float()]),
            19 => exact(vec!["HDEL".into(), k, self.field(), self.field()]),
            20 => exact(vec!["HLEN".into(), k]),
            21..=23 => {
                let mut v = vec!["SADD".to_string(), k];
                for _ in 0..self.rng.below(3) + 1 {
                    v.push(self.member());
                }
                exact(v)
            }
            24 => exact(vec!["SREM".into(), k, self.member(), self.member()]),
            25 => unordered(vec!["SMEMBERS".into(), k]),
            26 => exact(vec![self.rng.pick(&["SCARD", "SISMEMBER"]).into(), k, self.member()]),
            27 => {
                let cmd = self.rng.pick(&["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]);
                exact(vec![cmd.into(), self.key(), k, self.key()])
            }
            28 => exact(vec!["SMOVE".into(), k, self.key(), self.member()]),
            29..=31 => {
                let mut v = vec!["ZADD".to_string(), k];
                if self.maybe(3) {
                    v.push(self.rng.pick(&["NX", "XX", "GT", "LT", "CH", "INCR"]).into());
                }
                for _ in 0..self.rng.below(2) + 1 {
                    v.push(self.score());
                    v.push(self.member());
                }
                exact(v)
            }
            32 => {
                let mut v = vec![
                    "ZRANGE".into(),
                    k,
                    self.offset(),
                    self.rng.pick(&["-1", "1", "10"]).into(),
                ];
                if self.maybe(2) {
                    v.push("WITHSCORES".into());
                }
                exact(v)
            }
            33 => exact(vec!["ZINCRBY".into(), k, self.score(), self.member()]),
            34 => exact(vec![
                self.rng.pick(&["ZSCORE", "ZRANK", "ZREVRANK"]).into(),
                k,
                self.member(),
            ]),
            35 => exact(vec![self.rng.pick(&["ZPOPMIN", "ZPOPMAX"]).into(), k]),
            36 => {
                let cmd = self.rng.pick(&["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"]);
                exact(vec![cmd.into(), self.key(), "2".into(), k, self.key()])
            }
            37 => exact(vec![
                "ZRANGEBYSCORE".into(),
                k,
                "-inf".into(),
                "+inf".into(),
                "WITHSCORES".into(),
            ]),
            38 => {
                let mut v = vec!["PFADD".to_string(), k];
                for _ in 0..self.rng.below(3) {
                    v.push(self.member());
                }
                exact(v)
            }
            39 => exact(vec!["PFCOUNT".into(), k]),
            40 => {
                let mut v = vec!["SORT".to_string(), k];
                if self.maybe(2) {
                    v.push("ALPHA".into());
                }
                if self.maybe(3) {
                    v.extend(["LIMIT".into(), "0".into(), "2".into()]);
                }
                if self.maybe(3) {
                    v.extend(["STORE".into(), self.key()]);
                }
                exact(v)
            }
            // Blocking commands with a 10 ms timeout: served at once when the key has elements, else
            // a timeout reply (the same on both, as both wait out the same timeout).
            41 => exact(vec![
                self.rng.pick(&["BLPOP", "BRPOP"]).into(),
                k,
                self.key(),
                "0.01".into(),
            ]),
            42 => exact(vec![self.rng.pick(&["BZPOPMIN", "BZPOPMAX"]).into(), k, "0.01".into()]),
            43 => exact(vec![
                "BLMOVE".into(),
                k,
                self.key(),
                self.end(),
                self.end(),
                "0.01".into(),
            ]),
            _ => exact(vec!["DEBUG".into(), "DIGEST".into()]),
        }
    }
}

#[test]
fn random_streams_match_redis() {
    let Some(mut duo) = Duo::for_test("random_streams_match_redis", &[]) else {
        return;
    };
    duo.history_in_failures(8);
    let seeds = env_u64("FERRITE_DIFF_SEEDS", 100);
    let mut diverged = 0;
    for seed in 1..=seeds {
        // Fresh connections (database 0, RESP2) and an empty keyspace for each stream.
        duo.reconnect();
        duo.clear();
        let mut rng = Rng::new(seed * 7919);
        for step in 0..400 {
            let (cmd, cmp) = Gen { rng: &mut rng }.command();
            let context = format!("seed {seed} step {step}");
            if !duo.agrees(&context, &cmd, cmp) {
                diverged += 1;
                break;
            }
            if step % 50 == 49 {
                let before = duo.failures.len();
                duo.check_full_scan(&format!("{context}: SCAN sets differ"), &[] as &[&str]);
                if duo.failures.len() > before {
                    diverged += 1;
                    break;
                }
            }
        }
    }
    eprintln!("random_streams_match_redis: {diverged} of {seeds} streams diverged");
    duo.finish("random_streams_match_redis");
}

// ---- the framework's own rules ----

/// A case file splits at its `## name` lines; its header is no case.
#[test]
fn case_file_sections() {
    let text = "# header\n## one\n= PING\n= GET k\n## two\n## three\n= SET k v";
    assert_eq!(
        case_file(text),
        vec![("one", "= PING\n= GET k\n"), ("two", ""), ("three", "= SET k v")]
    );
}

/// The script words of `common::cases`.
#[test]
fn case_words() {
    assert_eq!(
        words(r#"SADD s "a b" \x00x "" end"#),
        vec![
            b"SADD".to_vec(),
            b"s".to_vec(),
            b"a b".to_vec(),
            b"\x00x".to_vec(),
            b"".to_vec(),
            b"end".to_vec()
        ]
    );
    assert_eq!(
        words(r#"RPUSH l "\x00\xff\x22\x5c" <z*3> "<z*3>" a\*b"#),
        vec![
            b"RPUSH".to_vec(),
            b"l".to_vec(),
            b"\x00\xff\"\\".to_vec(),
            b"zzz".to_vec(),
            b"<z*3>".to_vec(),
            b"a\\*b".to_vec()
        ]
    );
}

/// A command (or subcommand) Ferrite answers `unknown` to while Redis knows it fails the comparison,
/// unless the test names it in `not_built_yet`; naming one Ferrite has is refused.
#[test]
fn a_command_ferrite_lacks_fails_unless_named() {
    let Some(mut duo) = Duo::for_test("a_command_ferrite_lacks_fails_unless_named", &[]) else {
        return;
    };
    // Harmless commands Ferrite may not have yet: the first it lacks is the example.
    let candidates: &[&[&str]] = &[
        &["GEOADD", "g", "0", "0", "m"],
        &["XADD", "x", "*", "f", "v"],
        &["FCALL", "f", "0"],
        &["PUBLISH", "ch", "m"],
        &["LOLWUT"],
    ];
    let lacking = candidates
        .iter()
        .find(|c| common::cases::is_unknown_command(&duo.ours.cmd(c)));
    let Some(cmd) = lacking else {
        eprintln!("a_command_ferrite_lacks_fails_unless_named: Ferrite has every candidate; nothing to check");
        duo.finish("a_command_ferrite_lacks_fails_unless_named");
        return;
    };
    assert!(!duo.agrees("unnamed", cmd, Cmp::Exact));
    assert_eq!(duo.failures.len(), 1);
    assert!(duo.failures[0].contains("Ferrite does not know"), "{}", duo.failures[0]);
    duo.failures.clear();
    duo.not_built_yet(&[cmd[0]]);
    assert!(duo.agrees("named", cmd, Cmp::Exact));
    duo.run_script("named", &format!("{}\nSET k v\nGET k", cmd.join(" ")));
    assert!(
        duo.failures.is_empty() && duo.skipped.contains(cmd[0]),
        "{:?}",
        duo.failures
    );
    // A subcommand is named with its container; the container alone is not enough to be refused.
    let sub = ["MEMORY", "DOCTOR"];
    if common::cases::is_unknown_command(&duo.ours.cmd(&sub)) {
        assert!(duo.both(&sub).is_none());
        assert_eq!(duo.failures.len(), 1, "{:?}", duo.failures);
        duo.failures.clear();
        duo.not_built_yet(&["MEMORY DOCTOR"]);
        assert!(duo.both(&sub).is_none() && duo.failures.is_empty());
    }
    // `not_built_yet` refuses a command Ferrite has, as `ours_has` tells them apart.
    assert!(duo.ours_has("GET") && duo.ours_has("OBJECT FREQ") && !duo.ours_has(cmd[0]));
    duo.finish("a_command_ferrite_lacks_fails_unless_named");
}
