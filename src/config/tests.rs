use super::*;

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn get1(c: &Config, name: &str) -> String {
    c.get(&[name.as_bytes()])
        .first()
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn fatal_reason(r: Result<(Config, Vec<String>), ConfigError>) -> String {
    match r {
        Err(ConfigError::Fatal { reason, .. }) => reason,
        other => panic!("expected a fatal error, got {other:?}"),
    }
}

#[test]
fn defaults_and_typed_fields() {
    let c = Config::default();
    assert_eq!(c.port, 6379);
    assert_eq!(c.hz, 10);
    assert_eq!(c.proto_max_bulk_len, 512 << 20);
    assert_eq!(c.maxmemory, 0);
    assert_eq!(c.bind, vec!["*", "-::*"]);
    assert_eq!(get1(&c, "save"), "3600 1 300 100 60 10000", "Redis's save points");
    assert_eq!(
        get1(&c, "client-output-buffer-limit"),
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
    );
    assert_eq!(get1(&c, "latency-tracking-info-percentiles"), "50 99 99.9");
    assert_eq!(get1(&c, "oom-score-adj-values"), "0 200 800");
    assert_eq!(get1(&c, "unixsocketperm"), "0");
    assert_eq!(get1(&c, "shutdown-on-sigint"), "default");
}

#[test]
fn every_directive_is_in_the_table_once() {
    let mut names: Vec<&str> = Config::directives()
        .iter()
        .flat_map(|d| std::iter::once(d.name).chain(d.alias))
        .collect();
    let n = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), n, "duplicate names");
    // 192 names in CONFIG GET * plus 6 hidden ones.
    assert_eq!(n, 198);
}

#[test]
fn bool_values() {
    let mut c = Config::default();
    assert!(c.set(&[(b"protected-mode", b"NO")]).is_ok());
    assert!(!c.protected_mode);
    let e = c.set(&[(b"protected-mode", b"maybe")]).unwrap_err();
    assert_eq!(
        e,
        "ERR CONFIG SET failed (possibly related to argument 'protected-mode') - argument must be 'yes' or 'no'"
    );
}

#[test]
fn memory_and_percent_values() {
    let mut c = Config::default();
    c.set(&[(b"maxmemory", b"1gb")]).unwrap();
    assert_eq!(c.maxmemory, 1 << 30);
    assert_eq!(get1(&c, "maxmemory"), "1073741824");
    // Client eviction is not built: only 0 is accepted, but the value format is Redis's.
    let e = c.set(&[(b"maxmemory-clients", b"5%")]).unwrap_err();
    assert!(e.contains("not yet supported by Ferrite"), "{e}");
    let mut shown = Config::default();
    shown.maxmemory_clients = -5;
    assert_eq!(get1(&shown, "maxmemory-clients"), "5%");
    let e = c.set(&[(b"maxmemory", b"abc")]).unwrap_err();
    assert!(e.ends_with("argument must be a memory value"), "{e}");
    let e = c.set(&[(b"maxmemory-clients", b"101%")]).unwrap_err();
    assert!(e.ends_with("percentage argument must be less or equal to 100"), "{e}");
    let e = c.set(&[(b"proto-max-bulk-len", b"1")]).unwrap_err();
    assert!(
        e.ends_with("argument must be between 1048576 and 9223372036854775807 inclusive"),
        "{e}"
    );
}

#[test]
fn integer_octal_and_enum_values() {
    let mut c = Config::default();
    let e = c.set(&[(b"hz", b"+5")]).unwrap_err();
    assert!(e.ends_with("argument couldn't be parsed into an integer"));
    c.set(&[(b"hz", b"1000")]).unwrap();
    assert_eq!(c.hz, 500, "hz is clamped like Redis");
    let (c2, _) = Config::from_args(&args(&["--unixsocketperm", "700"])).unwrap();
    assert_eq!(c2.unixsocketperm, 0o700);
    assert_eq!(get1(&c2, "unixsocketperm"), "700");
    c.set(&[(b"loglevel", b"WARNING")]).unwrap();
    assert_eq!(c.loglevel, LogLevel::Warning);
    let e = c.set(&[(b"loglevel", b"loud")]).unwrap_err();
    assert!(e.ends_with("argument(s) must be one of the following: debug, verbose, notice, warning"));
    c.set(&[(b"shutdown-on-sigint", b"now save")]).unwrap();
    assert_eq!(get1(&c, "shutdown-on-sigint"), "save now");
    assert!(c.set(&[(b"oom-score-adj", b"relative")]).is_err(), "not built");
    assert_eq!(OomScoreAdj::Relative.name(), "yes", "CONFIG GET prints the first name");
}

#[test]
fn special_values() {
    let mut c = Config::default();
    c.set(&[(b"client-output-buffer-limit", b"pubsub 1mb 2kb 7")]).unwrap();
    assert_eq!(
        c.client_output_buffer_limit.pubsub,
        ObufLimit {
            hard_bytes: 1 << 20,
            soft_bytes: 2048,
            soft_seconds: 7
        }
    );
    let e = c.set(&[(b"client-output-buffer-limit", b"master 1 1 1")]).unwrap_err();
    assert!(e.ends_with("Invalid client class specified in buffer limit configuration."));
    c.set(&[(b"bind", b"127.0.0.1 ::1")]).unwrap();
    assert_eq!(c.bind, vec!["127.0.0.1", "::1"]);
    assert_eq!(get1(&c, "save"), "3600 1 300 100 60 10000");
    c.set(&[(b"save", b"3600 1")]).unwrap();
    assert_eq!(get1(&c, "save"), "3600 1");
    c.set(&[(b"save", b"")]).unwrap();
    assert_eq!(get1(&c, "save"), "");
    let e = c.set(&[(b"save", b"10")]).unwrap_err();
    assert!(e.ends_with("Invalid save parameters"));
    c.set(&[(b"notify-keyspace-events", b"KEA")]).unwrap();
    assert_eq!(get1(&c, "notify-keyspace-events"), "AKE");
    c.set(&[(b"notify-keyspace-events", b"Egx$lmn")]).unwrap();
    assert_eq!(get1(&c, "notify-keyspace-events"), "g$lxnEm");
    let e = c.set(&[(b"notify-keyspace-events", b"Kq")]).unwrap_err();
    assert!(e.ends_with("Invalid event class character. Use 'Ag$lshzxeKEtmdn'."));
    c.set(&[(b"latency-tracking-info-percentiles", b"90 99.99")]).unwrap();
    assert_eq!(get1(&c, "latency-tracking-info-percentiles"), "90 99.99");
}

#[test]
fn set_is_atomic_and_reports_changes() {
    let mut c = Config::default();
    let before = c.get(&[b"*"]);
    let e = c.set(&[(b"timeout", b"5"), (b"hz", b"x")]).unwrap_err();
    assert!(e.contains("'hz'"));
    assert_eq!(c.get(&[b"*"]), before, "nothing applied");
    let changed = c
        .set(&[(b"timeout", b"5"), (b"hz", b"10"), (b"maxmemory", b"1mb")])
        .unwrap();
    assert_eq!(changed, vec!["timeout", "maxmemory"]);
    assert_eq!(c.timeout, 5);
}

#[test]
fn set_errors_follow_redis_precedence() {
    let mut c = Config::default();
    let e = c.set(&[(b"port", b"1"), (b"xx", b"1"), (b"PORT", b"2")]).unwrap_err();
    assert_eq!(e, "ERR Unknown option or number of arguments for CONFIG SET - 'xx'");
    let e = c.set(&[(b"port", b"1"), (b"PORT", b"2"), (b"xx", b"1")]).unwrap_err();
    assert_eq!(
        e,
        "ERR CONFIG SET failed (possibly related to argument 'PORT') - duplicate parameter"
    );
    let e = c.set(&[(b"maxmemory", b"abc"), (b"daemonize", b"no")]).unwrap_err();
    assert_eq!(
        e,
        "ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config"
    );
    let e = c.set(&[(b"dir", b"/tmp")]).unwrap_err();
    assert_eq!(
        e,
        "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config"
    );
    assert!(
        c.set(&[(b"replica-read-only", b"no"), (b"slave-read-only", b"yes")])
            .is_ok(),
        "alias is no duplicate"
    );
    assert!(c.replica_read_only);
    let e = c.set(&[(b"slave-priority", b"-1")]).unwrap_err();
    assert!(e.contains("'slave-priority'"), "errors name the alias used: {e}");
}

#[test]
fn maxmemory_policy_needs_noeviction_once_maxmemory_is_set() {
    let mut c = Config::default();
    c.set(&[(b"maxmemory-policy", b"allkeys-lru")]).unwrap();
    let e = c.set(&[(b"maxmemory", b"1gb")]).unwrap_err();
    assert!(e.contains("maxmemory-policy"), "{e}");
    assert_eq!(c.maxmemory, 0);
    let r = Config::from_args(&args(&["--maxmemory-policy", "allkeys-lru", "--maxmemory", "1gb"]));
    assert!(fatal_reason(r).contains("not yet supported by Ferrite"));
}

#[test]
fn get_patterns_dedup_and_echo() {
    let c = Config::default();
    let names: Vec<String> = c
        .get(&[b"PORT", b"port", b"po*"])
        .into_iter()
        .map(|(n, _)| n.into_owned())
        .collect();
    assert_eq!(names, vec!["PORT"]);
    let r = c.get(&[b"slaveof", b"replicaof"]);
    assert_eq!(r.len(), 2);
    assert!(
        c.get(&[b"key-load*"]).is_empty(),
        "hidden directives need an exact name"
    );
    assert_eq!(c.get(&[b"key-load-delay"]).len(), 1);
    assert!(c.get(&[b"nope"]).is_empty());
}

#[test]
fn args_become_numbered_lines() {
    let r = Config::from_args(&args(&["--port", "0", "--hz", "abc"]));
    let e = r.unwrap_err();
    assert_eq!(
        e.to_string(),
        "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 3\n>>> 'hz \"abc\"'\nargument couldn't be parsed into an integer\n"
    );
    let e = Config::from_args(&args(&["--bogus", "x", "y"])).unwrap_err();
    assert!(e
        .to_string()
        .ends_with(">>> 'bogus \"x\" \"y\"'\nBad directive or wrong number of arguments\n"));
    let (c, _) = Config::from_args(&args(&["--save", "--port", "7000"])).unwrap();
    assert_eq!(c.port, 7000);
    let (c, _) = Config::from_args(&args(&["--bind", "127.0.0.1", "::1"])).unwrap();
    assert_eq!(c.bind, vec!["127.0.0.1", "::1"]);
    let (c, _) = Config::from_args(&args(&["--maxmemory 2mb"])).unwrap();
    assert_eq!(c.maxmemory, 2 << 20);
}

#[test]
fn unbuilt_features_refuse_to_start() {
    for a in [
        &["--replicaof", "127.0.0.1 6380"][..],
        &["--cluster-enabled", "yes"],
        &["--tls-port", "6380"],
        &["--aclfile", "/etc/users.acl"],
        &["--loadmodule", "/x.so"],
        &["--user", "alice", "on"],
    ] {
        let reason = fatal_reason(Config::from_args(&args(a)));
        assert!(reason.contains("not yet supported by Ferrite"), "{a:?}: {reason}");
    }
    let (_, log) = Config::from_args(&args(&["--replicaof", "no one", "--rdbcompression", "no"])).unwrap();
    assert!(
        log.iter()
            .any(|l| l.contains("rdbcompression") && l.contains("accepted because it changes nothing")),
        "{log:?}"
    );
    assert!(Config::from_args(&args(&["--user", "default", "on", "nopass", "~*", "&*", "+@all"])).is_ok());
    let reason = fatal_reason(Config::from_args(&args(&["--sentinel"])));
    assert!(reason.contains("Sentinel"));
}

#[test]
fn file_features() {
    let dir = tempfile::tempdir().unwrap();
    let inc = dir.path().join("inc.conf");
    std::fs::write(&inc, "timeout 5\nhz abc\n").unwrap();
    let main = dir.path().join("main.conf");
    std::fs::write(&main, format!("port 7000\ninclude {}\n", inc.display())).unwrap();
    let e = Config::from_args(&[main.display().to_string()]).unwrap_err();
    assert!(
        e.to_string().contains("at line 2\n>>> 'hz abc'"),
        "line of the included file: {e}"
    );
    std::fs::write(&inc, "timeout 5\nrename-command FLUSHALL \"\"\n").unwrap();
    let (c, _) = Config::from_args(&[main.display().to_string()]).unwrap();
    assert_eq!(c.timeout, 5);
    assert_eq!(c.renamed_commands[0].old, "FLUSHALL");
    assert_eq!(c.renamed_commands[0].new, "");
    assert_eq!(c.config_file(), Some(main.as_path()));
    let e = Config::from_args(&[dir.path().join("missing.conf").display().to_string()]).unwrap_err();
    assert!(matches!(e, ConfigError::CantOpen { .. }));
    let mut c = Config::default();
    assert!(c.load_str("save 900 1\nsave \"\"\n").is_ok(), "the final value counts");
}

#[test]
fn rewrite_keeps_the_file_shape() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.conf");
    let old = "# top\nport 7000\nslave-read-only no\nmaxmemory 2mb\nbind 127.0.0.1\nbind 127.0.0.2\n\n# tail\n";
    std::fs::write(&path, old).unwrap();
    let (mut c, _) = Config::from_args(&[path.display().to_string()]).unwrap();
    assert_eq!(c.bind, vec!["127.0.0.2"]);
    c.set(&[(b"maxmemory", b"3mb"), (b"timeout", b"7")]).unwrap();
    c.rewrite().unwrap();
    let new = std::fs::read_to_string(&path).unwrap();
    let expected = format!(
        "# top\nport 7000\nreplica-read-only no\nmaxmemory 3mb\nbind 127.0.0.2\n\n# tail\n\n\
         # Generated by CONFIG REWRITE\ntimeout 7\ndir \"{}\"\nsave 3600 1\nsave 300 100\nsave 60 10000\n\
         latency-tracking-info-percentiles 50 99 99.9\nuser default on nopass ~* &* +@all\n",
        c.dir.display()
    );
    assert_eq!(new, expected);
    // Rewriting again changes nothing but squeezes the trailing blank line.
    let (c2, _) = Config::from_args(&[path.display().to_string()]).unwrap();
    c2.rewrite().unwrap();
    let again = std::fs::read_to_string(&path).unwrap();
    assert_eq!(again.trim_end(), new.trim_end());
    assert!(Config::default()
        .rewrite()
        .unwrap_err()
        .contains("without a config file"));
}
