//! The command table against a real redis-server: every row's `COMMAND INFO` must be Redis's, in RESP2
//! and RESP3; every row is documented in our words; `COMMAND` and its subcommands answer like Redis;
//! key extraction matches Redis's `COMMAND GETKEYSANDFLAGS` for Redis's own key specs.
//!
//! Redis lists a container's subcommands in hash order, which changes from run to run, so both
//! answers are compared with subcommands sorted by name; a subcommand Redis has and we do not is
//! reported, not failed (containers grow subcommand by subcommand).

mod common;

use common::{bulk, err, int, Raw, Server, Value};
use ferrite::commands::getkeys::{self, KeyRef};
use ferrite::commands::spec::{flags, ks, BeginSearch, Command, Doc, FindKeys, KeySpec};
use ferrite::commands::table;
use ferrite::commands::OwnedArgs;
use ferrite::testing::Harness;
use resp::Protocol;

/// Ferrite in RESP3: over the wire once HELLO exists, else in-process through the same dispatcher.
enum Resp3 {
    Wire(Raw),
    InProcess(Box<Harness>),
}

impl Resp3 {
    fn new(server: &Server) -> Resp3 {
        let mut raw = server.raw();
        match raw.cmd(&["HELLO", "3"]) {
            Value::Map(_) => Resp3::Wire(raw),
            _ => {
                let mut h = Harness::new();
                h.set_protocol(Protocol::Resp3);
                Resp3::InProcess(Box::new(h))
            }
        }
    }

    fn cmd(&mut self, args: &[&str]) -> Value {
        match self {
            Resp3::Wire(r) => r.cmd(args),
            Resp3::InProcess(h) => h.run(args),
        }
    }
}

fn redis3(server: &Server) -> Raw {
    let mut raw = server.raw();
    assert!(matches!(raw.cmd(&["HELLO", "3"]), Value::Map(_)));
    raw
}

fn name_of(entry: &Value) -> Vec<u8> {
    match entry {
        Value::Array(v) => match v.first() {
            Some(Value::Bulk(n)) => n.clone(),
            _ => vec![],
        },
        _ => vec![],
    }
}

/// One `COMMAND INFO` entry with its subcommands sorted by name, keeping only those `keep` accepts
/// (the others are appended to `missing`).
fn normalize(entry: Value, keep: &dyn Fn(&[u8]) -> bool, missing: &mut Vec<String>) -> Value {
    let Value::Array(mut fields) = entry else {
        return entry;
    };
    if let Some(Value::Array(subs)) = fields.get_mut(9) {
        let mut kept: Vec<Value> = std::mem::take(subs)
            .into_iter()
            .filter(|s| {
                let n = name_of(s);
                let k = keep(&n);
                if !k {
                    missing.push(String::from_utf8_lossy(&n).into_owned());
                }
                k
            })
            .collect();
        kept.sort_by_key(name_of);
        *subs = kept;
    }
    Value::Array(fields)
}

fn single(v: Value) -> Value {
    match v {
        Value::Array(mut items) if items.len() == 1 => items.remove(0),
        other => panic!("expected one COMMAND INFO entry, got {other:?}"),
    }
}

#[test]
fn every_row_matches_redis_command_info() {
    if !common::redis_available("every_row_matches_redis_command_info") {
        return;
    }
    let redis = Server::redis(&[]);
    let ferrite = Server::ferrite(&[]);
    let (mut r2, mut f2) = (redis.raw(), ferrite.raw());
    let (mut r3, mut f3) = (redis3(&redis), Resp3::new(&ferrite));
    let ours = |n: &[u8]| table::find(n).is_some();
    let (mut mismatches, mut missing) = (vec![], vec![]);
    let mut checked = 0;
    for (_, cmd) in table::all().filter(|(_, c)| !is_extension(c.full_name)) {
        let name = cmd.full_name;
        let q = ["COMMAND", "INFO", name];
        let theirs = normalize(single(r2.cmd(&q)), &ours, &mut missing);
        let mine = normalize(single(f2.cmd(&q)), &|_| true, &mut vec![]);
        if theirs != mine {
            mismatches.push(format!("{name} (RESP2)\n  redis:   {theirs:?}\n  ferrite: {mine:?}"));
        }
        let theirs = normalize(single(r3.cmd(&q)), &ours, &mut vec![]);
        let mine = normalize(single(f3.cmd(&q)), &|_| true, &mut vec![]);
        if theirs != mine {
            mismatches.push(format!("{name} (RESP3)\n  redis:   {theirs:?}\n  ferrite: {mine:?}"));
        }
        checked += 1;
    }
    if !missing.is_empty() {
        eprintln!(
            "subcommands Redis has and Ferrite does not (yet): {}",
            missing.join(", ")
        );
    }
    assert!(
        mismatches.is_empty(),
        "COMMAND INFO differs:\n{}",
        mismatches.join("\n")
    );
    assert_eq!(
        checked,
        table::all().filter(|(_, c)| !is_extension(c.full_name)).count()
    );
}

/// Ferrite's own commands are named as module commands are (`lock.acquire`): Redis has none of them.
fn is_extension(name: &str) -> bool {
    name.contains('.')
}

#[test]
fn rows_are_documented_in_our_words_and_redis_facts() {
    if !common::redis_available("rows_are_documented_in_our_words_and_redis_facts") {
        return;
    }
    let redis = Server::redis(&[]);
    let mut r = redis.raw();
    let mut problems = vec![];
    for (_, cmd) in table::all().filter(|(_, c)| !is_extension(c.full_name)) {
        let d: &Doc = &cmd.doc;
        let name = cmd.full_name;
        for (what, text) in [("summary", d.summary), ("complexity", d.complexity)] {
            if text.trim().is_empty() || text.contains("WRITE ME") {
                problems.push(format!("{name}: {what} is {text:?}"));
            }
        }
        if let Some((replaced_by, _)) = d.replaced_by {
            if replaced_by.trim().is_empty() || replaced_by.contains("WRITE ME") {
                problems.push(format!("{name}: replaced_by is {replaced_by:?}"));
            }
        }
        // The facts (not the prose) must be Redis's: since, group, doc flags, deprecated_since.
        let Value::Array(top) = r.cmd(&["COMMAND", "DOCS", name]) else {
            panic!("COMMAND DOCS reply")
        };
        if top.len() != 2 {
            problems.push(format!("{name}: unknown to redis-server"));
            continue;
        }
        let fields = pairs(&top[1]);
        let text = |k: &str| match fields.iter().find(|(n, _)| n == k) {
            Some((_, Value::Bulk(v))) => Some(String::from_utf8_lossy(v).into_owned()),
            _ => None,
        };
        if text("since").as_deref() != Some(d.since) {
            problems.push(format!("{name}: since {} but Redis says {:?}", d.since, text("since")));
        }
        if text("group").as_deref() != Some(d.group) {
            problems.push(format!("{name}: group {} but Redis says {:?}", d.group, text("group")));
        }
        if text("deprecated_since").as_deref() != d.replaced_by.map(|(_, v)| v) {
            problems.push(format!(
                "{name}: deprecated_since differs from Redis's {:?}",
                text("deprecated_since")
            ));
        }
        let doc_flags: Vec<Vec<u8>> = match fields.iter().find(|(n, _)| n == "doc_flags") {
            Some((_, Value::Array(v))) => v
                .iter()
                .map(|f| match f {
                    Value::Simple(s) => s.clone(),
                    _ => vec![],
                })
                .collect(),
            _ => vec![],
        };
        let mut ours = vec![];
        if d.replaced_by.is_some() {
            ours.push(b"deprecated".to_vec());
        }
        if d.syscmd {
            ours.push(b"syscmd".to_vec());
        }
        if doc_flags != ours {
            problems.push(format!("{name}: doc flags differ from Redis's"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A RESP2 map (flat array) as (name, value) pairs.
fn pairs(v: &Value) -> Vec<(String, Value)> {
    match v {
        Value::Array(items) => items
            .chunks(2)
            .map(|c| match &c[0] {
                Value::Bulk(k) => (String::from_utf8_lossy(k).into_owned(), c[1].clone()),
                other => panic!("map key {other:?}"),
            })
            .collect(),
        Value::Map(items) => items
            .iter()
            .map(|(k, v)| match k {
                Value::Bulk(k) => (String::from_utf8_lossy(k).into_owned(), v.clone()),
                other => panic!("map key {other:?}"),
            })
            .collect(),
        other => panic!("not a map: {other:?}"),
    }
}

#[test]
fn command_count_is_the_number_of_top_level_rows() {
    let ferrite = Server::ferrite(&[]);
    let mut f = ferrite.raw();
    assert_eq!(f.cmd(&["COMMAND", "COUNT"]), int(table::top_level().count() as i64));
    let Value::Array(all) = f.cmd(&["COMMAND"]) else {
        panic!("COMMAND")
    };
    assert_eq!(all.len(), table::top_level().count());
    let Value::Array(all) = f.cmd(&["COMMAND", "INFO"]) else {
        panic!("COMMAND INFO")
    };
    assert_eq!(all.len(), table::top_level().count());
    let Value::Array(all) = f.cmd(&["COMMAND", "LIST"]) else {
        panic!("COMMAND LIST")
    };
    assert_eq!(all.len(), table::count_all());
}

/// Replies that depend only on commands both servers have, compared exactly.
#[test]
fn command_subcommands_answer_like_redis() {
    if !common::redis_available("command_subcommands_answer_like_redis") {
        return;
    }
    let redis = Server::redis(&[]);
    let ferrite = Server::ferrite(&[]);
    let (mut r, mut f) = (redis.raw(), ferrite.raw());
    let script: &[&[&str]] = &[
        &[
            "COMMAND",
            "INFO",
            "get",
            "nosuch",
            "GET",
            "Memory|Usage",
            "get|x",
            "debug",
        ],
        &["COMMAND", "DOCS", "nosuch", "x|y"],
        &["COMMAND", "COUNT", "x"],
        &["COMMAND", "HELP", "x"],
        &["COMMAND", "foo"],
        &["COMMAND", "LIST", "FILTERBY"],
        &["COMMAND", "LIST", "FILTERBY", "pattern"],
        &["COMMAND", "LIST", "FILTERBY", "pattern", "a", "b"],
        &["COMMAND", "LIST", "FILTERBY", "nosuch", "x"],
        &["COMMAND", "LIST", "foo"],
        &["COMMAND", "LIST", "FILTERBY", "MODULE", "x"],
        &["COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch"],
        &["COMMAND", "GETKEYS"],
        &["COMMAND", "GETKEYS", "get"],
        &["COMMAND", "GETKEYS", "get", "k"],
        &["COMMAND", "GETKEYS", "GET", "k"],
        &["COMMAND", "GETKEYS", "get", "a", "b"],
        &["COMMAND", "GETKEYS", "nosuch", "a"],
        &["COMMAND", "GETKEYS", "ping", "x"],
        &["COMMAND", "GETKEYS", "echo", "x"],
        &["COMMAND", "GETKEYS", "memory", "usage", "k"],
        &["COMMAND", "GETKEYS", "memory", "nosuch", "k"],
        &["COMMAND", "GETKEYS", "slowlog", "get"],
        &["COMMAND", "GETKEYSANDFLAGS", "get", "k"],
        &["COMMAND", "GETKEYSANDFLAGS", "memory", "usage", "k", "samples", "3"],
        &["COMMAND", "GETKEYSANDFLAGS", "nosuch", "k"],
    ];
    for args in script {
        assert_eq!(f.cmd(args), r.cmd(args), "{args:?}");
    }
    // RESP3 (sets and maps).
    let mut r3 = redis3(&redis);
    let mut f3 = Resp3::new(&ferrite);
    for args in [
        &["COMMAND", "GETKEYSANDFLAGS", "get", "k"][..],
        &["COMMAND", "INFO", "nosuch"],
        &["COMMAND", "DOCS", "nosuch"],
        &["COMMAND", "GETKEYS", "memory", "usage", "k"],
    ] {
        assert_eq!(f3.cmd(args), r3.cmd(args), "{args:?} in RESP3");
    }
}

/// COMMAND LIST filters: ours lists exactly Redis's answer restricted to the rows we have.
#[test]
fn command_list_filters_like_redis() {
    if !common::redis_available("command_list_filters_like_redis") {
        return;
    }
    let redis = Server::redis(&[]);
    let ferrite = Server::ferrite(&[]);
    let (mut r, mut f) = (redis.raw(), ferrite.raw());
    let names = |v: Value| -> Vec<Vec<u8>> {
        let Value::Array(items) = v else { panic!("list") };
        let mut out: Vec<Vec<u8>> = items
            .into_iter()
            .map(|i| match i {
                Value::Bulk(b) => b,
                other => panic!("{other:?}"),
            })
            .collect();
        out.sort();
        out
    };
    for filter in [
        &["COMMAND", "LIST"][..],
        &["COMMAND", "LIST", "FILTERBY", "PATTERN", "s*"],
        &["COMMAND", "LIST", "FILTERBY", "pattern", "SLOWLOG|*"],
        &["COMMAND", "LIST", "FILTERBY", "pattern", "*e*"],
        &["COMMAND", "LIST", "FILTERBY", "aclcat", "connection"],
        &["COMMAND", "LIST", "FILTERBY", "ACLCAT", "Dangerous"],
        &["COMMAND", "LIST", "FILTERBY", "aclcat", "read"],
    ] {
        let theirs: Vec<Vec<u8>> = names(r.cmd(filter))
            .into_iter()
            .filter(|n| table::find(n).is_some())
            .collect();
        let ours: Vec<Vec<u8>> = names(f.cmd(filter))
            .into_iter()
            .filter(|n| !is_extension(&String::from_utf8_lossy(n)))
            .collect();
        assert_eq!(ours, theirs, "{filter:?}");
    }
    // The extensions are listed too, and match filters like any command.
    let listed = names(f.cmd(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "lock.*"]));
    assert!(listed.contains(&b"lock.acquire".to_vec()), "{listed:?}");
}

#[test]
fn command_docs_shape() {
    let ferrite = Server::ferrite(&[]);
    let mut f = ferrite.raw();
    let docs = f.cmd(&["COMMAND", "DOCS", "slowlog", "debug", "get"]);
    let top = pairs(&docs);
    assert_eq!(
        top.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["slowlog", "debug", "get"]
    );
    let slowlog = pairs(&top[0].1);
    let keys: Vec<&str> = slowlog.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(keys, ["summary", "since", "group", "complexity", "subcommands"]);
    let subs = pairs(&slowlog[4].1);
    assert!(subs.iter().any(|(n, _)| n == "slowlog|get"));
    let debug = pairs(&top[1].1);
    assert_eq!(
        debug[4],
        ("doc_flags".to_string(), Value::Array(vec![common::simple("syscmd")]))
    );
    assert_eq!(pairs(&top[2].1)[1], ("since".to_string(), bulk("1.0.0")));
    assert_eq!(f.cmd(&["COMMAND", "DOCS", "nosuch"]), Value::Array(vec![]));
    assert_eq!(
        f.cmd(&["COMMAND", "HELP", "x"]),
        err("ERR wrong number of arguments for 'command|help' command")
    );
    let Value::Array(help) = f.cmd(&["COMMAND", "HELP"]) else {
        panic!("help")
    };
    assert!(help.iter().all(|l| matches!(l, Value::Simple(_))));
}

// ---- Key extraction against Redis's own key specs ----

fn leak(s: &[u8]) -> &'static str {
    Box::leak(String::from_utf8_lossy(s).into_owned().into_boxed_str())
}

fn as_int(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        other => panic!("not an int: {other:?}"),
    }
}

fn simple_names(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) | Value::Set(items) => items
            .iter()
            .map(|i| match i {
                Value::Simple(s) | Value::Bulk(s) => String::from_utf8_lossy(s).into_owned(),
                other => panic!("{other:?}"),
            })
            .collect(),
        other => panic!("{other:?}"),
    }
}

fn bits<T: Copy + Into<u64>>(names: &[String], table: &[(T, &str)]) -> u64 {
    names
        .iter()
        .map(|n| {
            table
                .iter()
                .find(|(_, t)| t.eq_ignore_ascii_case(n))
                .map(|(b, _)| (*b).into())
                .unwrap_or(0)
        })
        .fold(0, |a, b| a | b)
}

fn key_spec(v: &Value) -> KeySpec {
    let f = pairs(v);
    let get = |k: &str| f.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).expect(k);
    let flag_names = simple_names(&get("flags"));
    let step = |which: &str| {
        let s = pairs(&get(which));
        let kind = match &s[0].1 {
            Value::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
            other => panic!("{other:?}"),
        };
        (kind, pairs(&s[1].1))
    };
    let (bkind, bspec) = step("begin_search");
    let num = |s: &[(String, Value)], k: &str| as_int(&s.iter().find(|(n, _)| n == k).expect(k).1) as i32;
    let begin = match bkind.as_str() {
        "index" => BeginSearch::Index(num(&bspec, "index")),
        "keyword" => BeginSearch::Keyword {
            keyword: match &bspec[0].1 {
                Value::Bulk(b) => leak(b),
                other => panic!("{other:?}"),
            },
            start_from: num(&bspec, "startfrom"),
        },
        _ => BeginSearch::Unknown,
    };
    let (fkind, fspec) = step("find_keys");
    let find = match fkind.as_str() {
        "range" => FindKeys::Range {
            last_key: num(&fspec, "lastkey"),
            step: num(&fspec, "keystep"),
            limit: num(&fspec, "limit"),
        },
        "keynum" => FindKeys::Keynum {
            keynum_idx: num(&fspec, "keynumidx"),
            first_key: num(&fspec, "firstkey"),
            step: num(&fspec, "keystep"),
        },
        _ => FindKeys::Unknown,
    };
    let ks_names: Vec<(u64, &str)> = ks::NAMES.iter().map(|&(b, n)| (u64::from(b), n)).collect();
    KeySpec {
        notes: None,
        flags: bits(&flag_names, &ks_names) as u32,
        begin,
        find,
    }
}

/// A row built from Redis's COMMAND INFO answer, with the extractor Redis uses for that command.
fn row_from_redis(r: &mut Raw, name: &str) -> &'static Command {
    let info = single(r.cmd(&["COMMAND", "INFO", name]));
    let Value::Array(f) = info else { panic!("info") };
    let specs: Vec<KeySpec> = match &f[8] {
        Value::Array(v) => v.iter().map(key_spec).collect(),
        other => panic!("{other:?}"),
    };
    let getkeys: Option<getkeys::KeysFn> = match name {
        "set" => Some(getkeys::set),
        "bitfield" => Some(getkeys::bitfield),
        "sort" => Some(getkeys::sort),
        "sort_ro" => Some(getkeys::sort_ro),
        "migrate" => Some(getkeys::migrate),
        _ => None,
    };
    Box::leak(Box::new(Command {
        name: leak(name.as_bytes()),
        full_name: leak(name.as_bytes()),
        arity: as_int(&f[1]) as i32,
        flags: bits(&simple_names(&f[2]), flags::NAMES),
        acl: 0,
        first_key: as_int(&f[3]) as i32,
        last_key: as_int(&f[4]) as i32,
        key_step: as_int(&f[5]) as i32,
        key_specs: Box::leak(specs.into_boxed_slice()),
        tips: &[],
        handler: None,
        subcommands: &[],
        getkeys,
        doc: Doc {
            summary: "",
            since: "",
            group: "",
            complexity: "",
            replaced_by: None,
            syscmd: false,
        },
    }))
}

#[test]
fn key_extraction_matches_redis_for_its_key_specs() {
    if !common::redis_available("key_extraction_matches_redis_for_its_key_specs") {
        return;
    }
    let redis = Server::redis(&[]);
    let mut r = redis.raw();
    let cases: &[&[&str]] = &[
        &["mset", "a", "1", "b", "2"],
        &["mset", "a", "1", "b"],
        &["mget", "a", "b", "c"],
        &["del", "a"],
        &["smove", "s", "d", "m"],
        &["bitop", "and", "d", "a", "b"],
        &["pfmerge", "d", "a", "b"],
        &["blpop", "a", "b", "0"],
        &["bzpopmin", "a", "b", "0"],
        &["xread", "streams", "a", "b", "1", "2"],
        &["xread", "COUNT", "2", "STREAMS", "a", "1"],
        &["xread", "streams", "a", "b", "1"],
        &["xread", "count", "1", "streams"],
        &["xreadgroup", "group", "g", "c", "streams", "a", "0"],
        &["zunionstore", "d", "2", "a", "b", "weights", "1", "2"],
        &["zunionstore", "d", "5", "a"],
        &["zunionstore", "d", "x", "a"],
        &["zunionstore", "d", "0", "a"],
        &["zinter", "2", "a", "b"],
        &["zintercard", "1", "a", "limit", "3"],
        &["sintercard", "2", "a", "b"],
        &["lmpop", "2", "a", "b", "left"],
        &["blmpop", "0", "1", "a", "left"],
        &["eval", "s", "2", "a", "b", "c"],
        &["eval", "s", "0"],
        &["eval", "s", "5", "a"],
        &["fcall", "f", "1", "a"],
        &["georadius", "k", "0", "0", "1", "km", "store", "d"],
        &["georadius", "k", "0", "0", "1", "km", "storedist", "d", "store", "e"],
        &["georadius", "k", "0", "0", "1", "km", "store"],
        &["geosearchstore", "d", "s", "frommember", "m", "byradius", "1", "km"],
        &["object", "encoding", "k"],
        &["memory", "usage", "k"],
        &["sunsubscribe", "a"],
        &["spublish", "c", "m"],
        &["set", "k", "v"],
        &["set", "k", "v", "get"],
        &["set", "k", "v", "ex", "10", "GET"],
        &["bitfield", "k", "get", "u8", "0"],
        &["bitfield", "k", "get", "u8", "0", "set", "u8", "0", "1"],
        &["bitfield", "k", "overflow", "wrap", "incrby", "u8", "0", "1"],
        &["bitfield", "k", "foo"],
        &["sort", "k"],
        &["sort", "k", "by", "w", "get", "#", "store", "d", "limit", "0", "1"],
        &["sort", "k", "store", "d1", "store", "d2"],
        &["sort_ro", "k", "by", "x"],
        &["migrate", "h", "1", "k", "0", "5"],
        &[
            "migrate", "h", "1", "", "0", "5", "copy", "auth", "pw", "keys", "a", "b",
        ],
        &["migrate", "h", "1", "", "0", "5", "auth2", "u", "keys", "keys", "a"],
        &["migrate", "h", "1", "k", "0", "5", "keys", "a"],
        &["lcs", "a", "b"],
        &["copy", "a", "b", "db", "1"],
        &["rename", "a", "b"],
        &["getex", "k", "persist"],
    ];
    let mut problems = vec![];
    for case in cases {
        let parts: Vec<&str> = case[..2].to_vec();
        // Containers (`object encoding`) resolve to their subcommand row.
        let info = single(r.cmd(&["COMMAND", "INFO", &format!("{}|{}", parts[0], parts[1])]));
        let name = if info == Value::NullBulk {
            case[0].to_string()
        } else {
            format!("{}|{}", case[0], case[1])
        };
        let row = row_from_redis(&mut r, &name);
        let mut q = vec!["COMMAND", "GETKEYSANDFLAGS"];
        q.extend_from_slice(case);
        let theirs = r.cmd(&q);
        let owned = OwnedArgs::from_slices(case.iter().map(|s| s.as_bytes()));
        let mut keys: Vec<KeyRef> = vec![];
        getkeys::get_keys(row, &owned.view(), &mut keys);
        let mine = if !getkeys::has_keys(row) {
            err("ERR The command has no key arguments")
        } else if keys.is_empty() && !row.has(flags::NO_MANDATORY_KEYS) {
            err("ERR Invalid arguments specified for command")
        } else {
            Value::Array(
                keys.iter()
                    .map(|k| {
                        let names: Vec<Value> = ks::NAMES
                            .iter()
                            .filter(|(b, _)| k.flags & b != 0)
                            .map(|(_, n)| common::simple(n))
                            .collect();
                        Value::Array(vec![bulk(case[k.pos]), Value::Array(names)])
                    })
                    .collect(),
            )
        };
        if mine != theirs {
            problems.push(format!("{case:?}\n  redis:   {theirs:?}\n  ferrite: {mine:?}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
