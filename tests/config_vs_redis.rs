//! The registry against a real `redis-server` 7.0: defaults (`CONFIG GET *`), the fatal errors
//! of bad config lines, CONFIG GET texts after CONFIG SET, and CONFIG SET errors. Differences
//! are allowed only for Ferrite's documented exceptions (docs/config.md).

mod common;

use common::{redis_available, Server};
use ferrite::config::{Config, Support};
use std::collections::BTreeMap;
use std::process::Command;

/// Directives whose CONFIG GET value depends on how the oracle was started.
const STARTUP_DEPENDENT: &[&str] = &["port", "dir", "bind"];

#[test]
fn defaults_match_config_get_star() {
    if !redis_available("defaults_match_config_get_star") {
        return;
    }
    let oracle = Server::redis_plain(&[]);
    let mut con = oracle.conn();
    let flat: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("*")
        .query(&mut con)
        .expect("CONFIG GET");
    let theirs: BTreeMap<String, String> = flat.chunks(2).map(|kv| (kv[0].clone(), kv[1].clone())).collect();
    let cfg = Config::default();
    let ours: BTreeMap<String, String> = cfg.get(&[b"*"]).into_iter().map(|(k, v)| (k.into_owned(), v)).collect();
    let names_theirs: Vec<&String> = theirs.keys().collect();
    let names_ours: Vec<&String> = ours.keys().collect();
    assert_eq!(names_ours, names_theirs, "the same directive names");
    for (name, value) in &theirs {
        // The oracle runs with `save ""` (tests must not write files behind our back); the built-in
        // points are checked below.
        if STARTUP_DEPENDENT.contains(&name.as_str()) || name == "save" {
            continue;
        }
        assert_eq!(&ours[name], value, "default of {name}");
    }
    assert_eq!(ours["save"], "3600 1 300 100 60 10000");
    assert_eq!(ours["port"], "6379");
    assert_eq!(ours["bind"], "* -::*");
}

/// Runs `redis-server --port 0 <args> --zz-not-a-directive x` and returns its stderr: the
/// trailing bad directive guarantees the process exits after parsing, whatever `args` do.
fn redis_parse_error(args: &[&str]) -> String {
    let out = Command::new("redis-server")
        .args(["--port", "0"])
        .args(args)
        .args(["--zz-not-a-directive", "x"])
        .output()
        .expect("run redis-server");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn ferrite_parse_error(args: &[&str]) -> String {
    let mut v: Vec<String> = vec!["--port".into(), "0".into()];
    v.extend(args.iter().map(|s| s.to_string()));
    v.extend(["--zz-not-a-directive".to_string(), "x".to_string()]);
    match Config::from_args(&v) {
        Ok(_) => "<accepted>".to_string(),
        Err(e) => e.to_string(),
    }
}

/// A Ferrite refusal of an unbuilt feature is an allowed difference.
fn is_ferrite_refusal(text: &str) -> bool {
    text.contains("is not yet supported by Ferrite")
}

const PROBES: &[&str] = &[
    "-1",
    "0",
    "1",
    "99999999999999999999",
    "9223372036854775808",
    "abc",
    "",
    "1.5",
    "yes",
    "no",
    "1gb",
    "5mb",
    "3k",
    "50%",
    "101%",
    "777",
    "0x10",
    "+5",
    "007",
    "1 2",
    "save now",
    "nosave save",
    "local",
    "a b c d",
    "normal 0 0 0",
    "pubsub 1mb 2mb x",
    "master 1 1 1",
    "1 2 3",
    "-2001 0 0",
    "KEA",
    "Ex",
    "z!",
    "127.0.0.1",
    "127.0.0.1 6379",
    "host 70000",
    "no one",
    "50 99.9",
    "101",
    "{title}",
    "x{port}",
    "{bad}",
    "a/b",
    "-:*",
];

#[test]
fn bad_values_fail_like_redis() {
    if !redis_available("bad_values_fail_like_redis") {
        return;
    }
    let mut checked = 0;
    let mut mismatches = Vec::new();
    for d in Config::directives() {
        if ["dir", "include"].contains(&d.name) {
            continue; // Paths: compared in a test of their own.
        }
        for name in std::iter::once(d.name).chain(d.alias) {
            for probe in PROBES {
                let arg = format!("--{name}");
                let ours = ferrite_parse_error(&[&arg, probe]);
                let alone = Config::from_args(&[arg.clone(), probe.to_string()])
                    .err()
                    .map(|e| e.to_string());
                if is_ferrite_refusal(&ours) || alone.as_deref().is_some_and(is_ferrite_refusal) {
                    continue;
                }
                let theirs = redis_parse_error(&[&arg, probe]);
                if ours != theirs {
                    mismatches.push(format!("--{name} {probe:?}:\n ours:   {ours:?}\n theirs: {theirs:?}"));
                }
                checked += 1;
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {checked} differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn config_file_errors_like_redis() {
    if !redis_available("config_file_errors_like_redis") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let cases: &[&str] = &[
        "port 0\nhz abc\n",
        "port 0\n\n  # comment\n\tmaxmemory 1xb\n",
        "port 0\nhz \"10\nport 1\n",
        "port 0\nHZ 5 6\n",
        "port 0\nsave 10\n",
        "port 0\nsave 3600 1 300\n",
        "port 0\nsentinel monitor a b c d\n",
        "port 0\nfoo.bar\n",
        "port 0\nlist-max-ziplist-entries 5\nlua-replicate-commands yes\nzz\n",
        "port 0\nrename-command\n",
        "port 0\nbind 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n",
        "port 0\nslaveof a\n",
        "port 0\nclient-output-buffer-limit normal 0 0\n",
        "port 0\r\nhz 'x'y\r\n",
        "port 0\nlatency-tracking-info-percentiles 50 abc\n",
        "port 0\nshutdown-on-sigterm \"save nosave\"\n",
        "port 0\nnotify-keyspace-events\n",
        "port 0\ndbfilename a/b\n",
        "port 0\nappenddirname \"\"\n",
        "port 0\ncluster-announce-hostname a_b\n",
        "port 0\ndir /nonexistent/dir\n",
        "port 0\ndir /etc/hostname\n",
        "port 0\ninclude /nonexistent/file.conf\n",
    ];
    for (i, text) in cases.iter().enumerate() {
        let path = dir.path().join(format!("case{i}.conf"));
        std::fs::write(&path, text).expect("write");
        let p = path.to_string_lossy().into_owned();
        let out = Command::new("redis-server")
            .args([&p, "--zz-not-a-directive", "x"])
            .output()
            .expect("run");
        let theirs = String::from_utf8_lossy(&out.stderr).into_owned();
        let theirs_stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let ours = match Config::from_args(&[p.clone(), "--zz-not-a-directive".into(), "x".into()]) {
            Ok(_) => "<accepted>".to_string(),
            Err(e) => e.to_string(),
        };
        if is_ferrite_refusal(&ours) {
            continue;
        }
        if ours.starts_with("Fatal error, can't open") {
            // Redis logs this one (with a log prefix) on stdout.
            assert!(
                theirs_stdout.trim_end().ends_with(&ours),
                "case {text:?}: {ours:?} vs {theirs_stdout:?}"
            );
        } else {
            assert_eq!(ours, theirs, "case {text:?}");
        }
    }
}

#[test]
fn set_then_get_like_redis() {
    if !redis_available("set_then_get_like_redis") {
        return;
    }
    let oracle = Server::redis_plain(&[]);
    let mut con = oracle.conn();
    let mut cfg = Config::default();
    // As the oracle (started with `save ""`).
    cfg.set(&[(b"save", b"")]).expect("save");
    let mut checked = 0;
    for d in Config::directives() {
        if ["port", "bind", "dir"].contains(&d.name) {
            continue; // Side effects on the oracle's listener and directory.
        }
        for probe in PROBES {
            let theirs: redis::RedisResult<String> =
                redis::cmd("CONFIG").arg("SET").arg(d.name).arg(*probe).query(&mut con);
            let ours = cfg.set(&[(d.name.as_bytes(), probe.as_bytes())]);
            match (&ours, &theirs) {
                (Err(e), _) if e.contains("is not yet supported by Ferrite") => {}
                (Ok(_), Ok(_)) => {}
                (Err(e), Err(t)) => {
                    let t = format!("{} {}", t.code().unwrap_or(""), t.detail().unwrap_or(""));
                    assert_eq!(e.trim(), t.trim(), "CONFIG SET {} {probe:?}", d.name);
                }
                _ => panic!("CONFIG SET {} {probe:?}: ours {ours:?}, theirs {theirs:?}", d.name),
            }
            let theirs: Vec<String> = redis::cmd("CONFIG")
                .arg("GET")
                .arg(d.name)
                .query(&mut con)
                .expect("GET");
            let ours = cfg.get(&[d.name.as_bytes()]);
            if !matches!(d.support, Support::Unbuilt { .. }) || ours[0].1 == theirs[1] {
                assert_eq!(ours[0].1, theirs[1], "CONFIG GET {} after SET {probe:?}", d.name);
            }
            checked += 1;
        }
        // Put the oracle back at the default, so that cross-directive checks start clean.
        let default = Config::default().get(&[d.name.as_bytes()])[0].1.clone();
        let _: redis::RedisResult<String> = redis::cmd("CONFIG")
            .arg("SET")
            .arg(d.name)
            .arg(&default)
            .query(&mut con);
        let _ = cfg.set(&[(d.name.as_bytes(), default.as_bytes())]);
    }
    assert!(checked > 1000);
}
