//! RDB files: SAVE, the load at start-up, SHUTDOWN SAVE, and files that move between Ferrite and a
//! real redis-server 7.0 both ways with equal DEBUG DIGEST and encodings.

mod common;

use std::time::Duration;

use common::dataset::{digest, dir_arg, no_temp_file, populate, shape, stop};
use common::{redis_available, simple, Raw, Server, Value};

#[test]
fn save_then_restart_keeps_every_type_and_the_counters_follow() {
    let mut f = Server::ferrite(&[]);
    let mut c = f.raw();
    populate(&mut c);
    c.cmd(&["SET", "short-lived", "v", "PX", "1"]);
    std::thread::sleep(Duration::from_millis(20));
    // Gone (a read deletes it), so the digest below no longer counts it; a save would skip it anyway.
    assert_eq!(c.cmd(&["GET", "short-lived"]), Value::NullBulk);
    let before = (digest(&mut c), shape(&mut c));
    assert_ne!(info_field(&mut c, "rdb_changes_since_last_save"), "0");
    let Value::Int(last0) = c.cmd(&["LASTSAVE"]) else {
        panic!("lastsave")
    };
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(c.cmd(&["SAVE"]), simple("OK"));
    let Value::Int(last1) = c.cmd(&["LASTSAVE"]) else {
        panic!("lastsave")
    };
    assert!(last1 > last0, "LASTSAVE moves: {last0} -> {last1}");
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "0");
    assert_eq!(info_field(&mut c, "rdb_saves"), "1");
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
    assert!(f.dir().join("dump.rdb").exists());
    assert!(no_temp_file(f.dir()), "no temp file left");
    stop(&mut f);

    let g = Server::ferrite(&["--dir", &dir_arg(f.dir())]);
    let mut c = g.raw();
    assert_eq!((digest(&mut c), shape(&mut c)), before);
    assert_eq!(
        info_field(&mut c, "rdb_last_load_keys_loaded"),
        before.1.iter().filter(|k| !k.1.starts_with('(')).count().to_string()
    );
    let Value::Array(libs) = c.cmd(&["FUNCTION", "LIST"]) else {
        panic!("function list")
    };
    assert_eq!(libs.len(), 1);
    assert_eq!(c.cmd(&["FCALL", "myf", "0"]), Value::Int(1));
    // `dir` is also where the relative log file goes (the server works from there, as Redis does).
    let log = std::fs::read_to_string(f.dir().join("server.log")).expect("log");
    assert!(log.contains("DB loaded from disk"), "{log}");
}

#[test]
fn shutdown_save_writes_the_file_and_the_next_start_loads_it() {
    let mut f = Server::ferrite(&[]);
    let mut c = f.raw();
    c.cmd(&["SET", "k", "v"]);
    c.send(&["SHUTDOWN", "SAVE"]);
    assert!(f.wait_exit(Duration::from_secs(10)).expect("exit").success());
    let g = Server::ferrite(&["--dir", &dir_arg(f.dir())]);
    assert_eq!(g.raw().cmd(&["GET", "k"]), Value::Bulk(b"v".to_vec()));
}

#[test]
fn a_failed_save_leaves_the_previous_file_and_reports_err() {
    let f = Server::ferrite(&[]);
    let mut c = f.raw();
    c.cmd(&["SET", "k", "v1"]);
    assert_eq!(c.cmd(&["SAVE"]), simple("OK"));
    let saved = std::fs::read(f.dir().join("dump.rdb")).expect("file");
    // The rename target becomes a directory: the save fails at its last step.
    std::fs::remove_file(f.dir().join("dump.rdb")).expect("rm");
    std::fs::create_dir(f.dir().join("dump.rdb")).expect("mkdir");
    std::fs::write(f.dir().join("dump.rdb").join("x"), b"x").expect("fill");
    c.cmd(&["SET", "k", "v2"]);
    assert_eq!(c.cmd(&["SAVE"]), common::err("ERR"));
    let Value::Bulk(info) = c.cmd(&["INFO", "persistence"]) else {
        panic!("info")
    };
    assert!(String::from_utf8_lossy(&info).contains("rdb_last_bgsave_status:err"));
    assert!(f.log().contains("Write error saving DB on disk"), "{}", f.log());
    assert!(no_temp_file(f.dir()), "the temp file is removed");
    assert!(!saved.is_empty());
}

#[test]
fn a_corrupt_file_stops_the_start_with_a_reason() {
    let dir = tempfile::tempdir().expect("dir");
    let mut f = Server::ferrite(&[]);
    let mut c = f.raw();
    populate(&mut c);
    assert_eq!(c.cmd(&["SAVE"]), simple("OK"));
    stop(&mut f);
    let good = std::fs::read(f.dir().join("dump.rdb")).expect("file");
    for (name, bytes) in [
        ("truncated", good[..good.len() / 2].to_vec()),
        ("bad checksum", {
            let mut b = good.clone();
            let n = b.len();
            b[n - 3] ^= 0x55;
            b
        }),
        ("not an rdb", b"hello world".to_vec()),
    ] {
        std::fs::write(dir.path().join("dump.rdb"), &bytes).expect("write");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ferrite-server"))
            .args([
                "--port",
                &common::free_port().to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args(["--dir", &dir_arg(dir.path())])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(1), "{name}");
        let log = String::from_utf8_lossy(&out.stdout);
        assert!(log.contains("Fatal error loading the DB"), "{name}: {log}");
    }
}

/// Ferrite's file loads in redis-server and redis-server's file loads in Ferrite: same digest, same
/// encodings, TTLs and functions; `redis-check-rdb` accepts Ferrite's file.
#[test]
fn rdb_files_move_between_ferrite_and_redis_both_ways() {
    if !redis_available("rdb_files_move_between_ferrite_and_redis_both_ways") {
        return;
    }
    for compression in ["yes", "no"] {
        // Ferrite -> Redis.
        let mut f = Server::ferrite(&["--rdbcompression", compression]);
        let mut c = f.raw();
        populate(&mut c);
        let want = (digest(&mut c), shape(&mut c));
        assert_eq!(c.cmd(&["SAVE"]), simple("OK"));
        stop(&mut f);
        let check = std::process::Command::new("redis-check-rdb")
            .arg(f.dir().join("dump.rdb"))
            .output()
            .expect("redis-check-rdb");
        let report = String::from_utf8_lossy(&check.stdout);
        assert!(check.status.success() && report.contains("RDB looks OK"), "{report}");
        let r = Server::redis(&["--dir", &dir_arg(f.dir())]).loaded();
        let mut rc = r.raw();
        assert_eq!((digest(&mut rc), shape(&mut rc)), want, "Redis loading Ferrite's file");
        assert_eq!(rc.cmd(&["FCALL", "myf", "0"]), Value::Int(1));
        assert_eq!(
            rc.cmd(&["XPENDING", "st", "grp"]),
            Value::Array(vec![
                Value::Int(1),
                Value::Bulk(b"1-1".to_vec()),
                Value::Bulk(b"1-1".to_vec()),
                Value::Array(vec![Value::Array(vec![
                    Value::Bulk(b"alice".to_vec()),
                    Value::Bulk(b"1".to_vec())
                ])]),
            ])
        );

        // Redis -> Ferrite.
        let mut r = Server::redis(&["--rdbcompression", compression]);
        let mut rc = r.raw();
        populate(&mut rc);
        let want = (digest(&mut rc), shape(&mut rc));
        let groups = rc.cmd(&["XINFO", "GROUPS", "st"]);
        let consumers: Vec<Value> = (0..2).map(|_| rc.cmd(&["XINFO", "CONSUMERS", "st", "grp"])).collect();
        assert_eq!(rc.cmd(&["SAVE"]), simple("OK"));
        stop(&mut r);
        let g = Server::ferrite(&["--dir", &dir_arg(r.dir())]);
        let mut gc = g.raw();
        assert_eq!((digest(&mut gc), shape(&mut gc)), want, "Ferrite loading Redis's file");
        assert_eq!(gc.cmd(&["XINFO", "GROUPS", "st"]), groups);
        // Idle times move on; the names and pending counts must match.
        let strip = |v: Value| match v {
            Value::Array(cs) => cs
                .into_iter()
                .map(|c| match c {
                    Value::Array(kv) => kv
                        .chunks(2)
                        .filter(|p| p[0] != Value::Bulk(b"idle".to_vec()))
                        .flat_map(|p| p.to_vec())
                        .collect::<Vec<_>>(),
                    other => vec![other],
                })
                .collect::<Vec<_>>(),
            other => vec![vec![other]],
        };
        assert_eq!(
            strip(gc.cmd(&["XINFO", "CONSUMERS", "st", "grp"])),
            strip(consumers[0].clone())
        );
        assert_eq!(gc.cmd(&["FCALL", "myf", "0"]), Value::Int(1));
    }
}

#[test]
fn debug_reload_saves_empties_and_loads_back() {
    let f = Server::ferrite(&[]);
    let mut c = f.raw();
    populate(&mut c);
    let before = (digest(&mut c), shape(&mut c));
    assert_eq!(c.cmd(&["DEBUG", "RELOAD"]), simple("OK"));
    assert_eq!((digest(&mut c), shape(&mut c)), before);
    assert_eq!(c.cmd(&["FCALL", "myf", "0"]), Value::Int(1));
    // NOSAVE loads the file as it is: a key written since is gone.
    c.cmd(&["SET", "after", "1"]);
    assert_eq!(c.cmd(&["DEBUG", "RELOAD", "NOSAVE"]), simple("OK"));
    assert_eq!(c.cmd(&["EXISTS", "after"]), Value::Int(0));
    // NOFLUSH without MERGE fails on the keys already there; with MERGE they are replaced.
    assert_eq!(
        c.cmd(&["DEBUG", "RELOAD", "NOSAVE", "NOFLUSH"]),
        common::err("ERR Error trying to load the RDB dump, check server logs.")
    );
    c.cmd(&["SET", "s-embstr", "changed"]);
    c.cmd(&["SET", "extra", "kept"]);
    assert_eq!(c.cmd(&["DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE"]), simple("OK"));
    assert_eq!(c.cmd(&["GET", "s-embstr"]), Value::Bulk(b"hello".to_vec()));
    assert_eq!(c.cmd(&["GET", "extra"]), Value::Bulk(b"kept".to_vec()));
    std::fs::remove_file(f.dir().join("dump.rdb")).expect("rm");
    assert_eq!(
        c.cmd(&["DEBUG", "RELOAD", "NOSAVE"]),
        common::err("ERR Error trying to load the RDB dump, check server logs.")
    );
    if redis_available("debug_reload_saves_empties_and_loads_back") {
        let r = Server::redis(&[]);
        let mut rc = r.raw();
        for cmd in [&["DEBUG", "RELOAD", "BOGUS"][..], &["DEBUG", "RELOAD", "NOSAVE", "x"]] {
            assert_eq!(c.cmd(cmd), rc.cmd(cmd), "{cmd:?}");
        }
    }
}

/// DEBUG OBJECT's serializedlength is the RDB writer's own figure, as in Redis.
#[test]
fn serialized_lengths_match_redis() {
    if !redis_available("serialized_lengths_match_redis") {
        return;
    }
    let f = Server::ferrite(&[]);
    let r = Server::redis(&[]);
    let (mut fc, mut rc) = (f.raw(), r.raw());
    populate(&mut fc);
    populate(&mut rc);
    let length = |c: &mut Raw, key: &str| -> String {
        let Value::Simple(line) = c.cmd(&["DEBUG", "OBJECT", key]) else {
            panic!("debug object")
        };
        let line = String::from_utf8_lossy(&line).into_owned();
        line.split(' ')
            .find_map(|w| w.strip_prefix("serializedlength:").map(str::to_string))
            .expect("serializedlength")
    };
    for key in [
        "s-embstr", "s-int", "s-min", "s-raw", "s-lzf", "l-small", "set-ints", "h-small", "z-small",
    ] {
        assert_eq!(length(&mut fc, key), length(&mut rc, key), "{key}");
    }
}

/// A field of INFO persistence.
fn info_field(c: &mut Raw, field: &str) -> String {
    common::info_field(c, "persistence", field)
}

fn wait_bgsave(c: &mut Raw) {
    assert!(
        common::eventually(Duration::from_secs(60), || info_field(c, "rdb_bgsave_in_progress")
            == "0"),
        "the background save ends"
    );
}

/// BGSAVE's file is the dataset as it was when BGSAVE answered, although writes of every kind
/// (overwrites, deletes, new keys, in-place changes of collections, SWAPDB, FLUSHDB, expiries) run
/// all through the save.
#[test]
fn bgsave_is_a_point_in_time_image_while_writes_go_on() {
    let mut f = Server::ferrite(&[]);
    let mut c = f.raw();
    populate(&mut c);
    c.cmd(&["DEBUG", "POPULATE", "300000", "key", "16"]);
    c.cmd(&["SELECT", "3"]);
    c.cmd(&["DEBUG", "POPULATE", "50000", "three", "8"]);
    c.cmd(&["SELECT", "0"]);
    let before = digest(&mut c);
    // Live at the cut, expired before the file is loaded: in the image, dropped by the load.
    for i in 0..1000 {
        c.cmd(&["SET", &format!("ttl:{i}"), "v", "PX", "1000"]);
    }
    assert_eq!(c.cmd(&["BGSAVE"]), simple("Background saving started"));
    let cut = std::time::Instant::now();
    assert_eq!(
        c.cmd(&["BGSAVE"]),
        common::err("ERR Background save already in progress")
    );
    assert_eq!(c.cmd(&["SAVE"]), common::err("ERR Background save already in progress"));
    let mut w = f.raw();
    let mut rounds = 0;
    while info_field(&mut c, "rdb_bgsave_in_progress") == "1" && rounds < 100_000 {
        let i = rounds.to_string();
        w.send(&["SET", &format!("key:{i}"), "changed"]);
        w.send(&["DEL", &format!("key:{}", 299_999 - rounds)]);
        w.send(&["SET", &format!("new:{i}"), "x"]);
        w.send(&["HSET", "h-small", &format!("f{i}"), "v"]);
        w.send(&["RPUSH", "l-small", "more"]);
        w.send(&["XADD", "st", "*", "f", "later"]);
        if rounds == 50 {
            w.send(&["SWAPDB", "0", "3"]);
            w.send(&["SWAPDB", "0", "3"]);
            w.send(&["SELECT", "15"]);
            w.send(&["FLUSHDB"]);
            w.send(&["SELECT", "0"]);
        }
        rounds += 1;
        if rounds % 50 == 0 {
            // Collect the replies now and then.
            w.cmd(&["PING"]);
            while w.cmd(&["PING"]) != simple("PONG") {}
        }
    }
    wait_bgsave(&mut c);
    assert!(rounds > 50, "writes ran during the save ({rounds} rounds)");
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
    assert_ne!(
        info_field(&mut c, "rdb_changes_since_last_save"),
        "0",
        "the writes after the cut count"
    );
    assert!(
        f.log().contains("Background saving terminated with success"),
        "{}",
        f.log()
    );
    stop(&mut f);
    std::thread::sleep(Duration::from_millis(1200).saturating_sub(cut.elapsed()));
    let g = Server::ferrite(&["--dir", &dir_arg(f.dir())]);
    let mut gc = g.raw();
    assert_eq!(info_field(&mut gc, "rdb_last_load_keys_expired"), "1000");
    assert_eq!(digest(&mut gc), before, "the image is the dataset at the cut");
}

/// A `save` point starts a background save on its own; when that fails, writes (and PING) get
/// MISCONF while `stop-writes-on-bgsave-error` is on, as in Redis.
#[test]
fn save_points_save_and_a_failed_save_stops_writes() {
    let f = Server::ferrite(&["--save", "1 1"]);
    let mut c = f.raw();
    c.cmd(&["SET", "k", "v"]);
    assert!(
        common::eventually(Duration::from_secs(10), || f.dir().join("dump.rdb").exists()),
        "the point saved"
    );
    assert!(common::eventually(Duration::from_secs(5), || f
        .log()
        .contains("1 changes in 1 seconds. Saving...")));

    let run = |server: &Server| -> Vec<Value> {
        std::fs::create_dir(server.dir().join("dump.rdb")).expect("mkdir");
        std::fs::write(server.dir().join("dump.rdb").join("x"), b"x").expect("fill");
        let mut c = server.raw();
        c.cmd(&["SET", "k", "v"]);
        assert!(
            common::eventually(Duration::from_secs(15), || info_field(&mut c, "rdb_last_bgsave_status")
                == "err"),
            "the save failed"
        );
        let replies = vec![
            c.cmd(&["SET", "k", "v2"]),
            c.cmd(&["PING"]),
            c.cmd(&["GET", "k"]),
            c.cmd(&["CONFIG", "SET", "stop-writes-on-bgsave-error", "no"]),
            c.cmd(&["SET", "k", "v3"]),
        ];
        replies
    };
    let g = Server::ferrite(&["--save", "1 1"]);
    let ours = run(&g);
    assert!(
        matches!(&ours[0], Value::Error(e) if e.starts_with(b"MISCONF")),
        "{ours:?}"
    );
    assert_eq!(ours[4], simple("OK"));
    if redis_available("save_points_save_and_a_failed_save_stops_writes") {
        let r = Server::redis(&["--save", "1 1"]);
        assert_eq!(ours, run(&r));
    }
}

#[test]
fn bgsave_replies_match_redis() {
    let f = Server::ferrite(&[]);
    let mut c = f.raw();
    let script: &[&[&str]] = &[
        &["BGSAVE", "NOW"],
        &["BGSAVE", "SCHEDULE", "X"],
        &["MULTI"],
        &["BGSAVE"],
        &["EXEC"],
    ];
    let ours: Vec<Value> = script.iter().map(|s| c.cmd(s)).collect();
    assert_eq!(
        ours[4],
        Value::Array(vec![simple("Background saving scheduled")]),
        "inside a transaction it is scheduled"
    );
    // The cron starts the scheduled save.
    assert!(common::eventually(Duration::from_secs(10), || f
        .dir()
        .join("dump.rdb")
        .exists()));
    wait_bgsave(&mut c);
    assert_eq!(c.cmd(&["BGSAVE", "SCHEDULE"]), simple("Background saving started"));
    if redis_available("bgsave_replies_match_redis") {
        let r = Server::redis(&[]);
        let mut rc = r.raw();
        let theirs: Vec<Value> = script.iter().map(|s| rc.cmd(s)).collect();
        assert_eq!(ours, theirs);
    }
}

/// With `save` points, SIGTERM saves before exiting (Redis's prepareForShutdown).
#[test]
fn sigterm_saves_when_save_points_are_set() {
    let mut f = Server::ferrite(&["--save", "3600 1"]);
    let mut c = f.raw();
    c.cmd(&["SET", "k", "v"]);
    f.signal(libc::SIGTERM);
    assert!(f.wait_exit(Duration::from_secs(10)).expect("exit").success());
    assert!(
        f.log().contains("Saving the final RDB snapshot before exiting."),
        "{}",
        f.log()
    );
    let g = Server::ferrite(&["--dir", &dir_arg(f.dir())]);
    assert_eq!(g.raw().cmd(&["GET", "k"]), Value::Bulk(b"v".to_vec()));
}

// ---- loading while answering ----

const LOADING: &str = "LOADING Redis is loading the dataset in memory";

/// A saved dataset of every type plus `keys` small keys, in a fresh directory; returns the server
/// (stopped), the dataset's digest and how many keys it holds.
fn saved_dataset(keys: usize) -> (Server, Value, usize) {
    let mut f = Server::ferrite(&[]);
    let mut c = f.raw();
    populate(&mut c);
    c.cmd(&["DEBUG", "POPULATE", &keys.to_string(), "key", "16"]);
    let before = digest(&mut c);
    let mut total = 0;
    for db in ["0", "3", "15"] {
        c.cmd(&["SELECT", db]);
        let Value::Int(n) = c.cmd(&["DBSIZE"]) else {
            panic!("dbsize")
        };
        total += n as usize;
    }
    assert_eq!(c.cmd(&["SAVE"]), simple("OK"));
    stop(&mut f);
    (f, before, total)
}

/// Start-up options that make a load of a few thousand keys last seconds, processing events every
/// 1024 bytes (Redis's hidden `key-load-delay` and `loading-process-events-interval-bytes`).
fn slow_load(dir: &str) -> Vec<&str> {
    vec![
        "--dir",
        dir,
        "--key-load-delay",
        "100",
        "--loading-process-events-interval-bytes",
        "1024",
    ]
}

/// The log of the last server started in `dir` (a server started with `--dir` logs there, after
/// the lines of those before it).
fn last_log(dir: &std::path::Path) -> String {
    let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
    match log.rfind("oO0OoO0OoO0Oo Ferrite is starting") {
        Some(at) => log[at..].to_string(),
        None => log,
    }
}

fn info_text(c: &mut Raw, section: &str) -> String {
    match c.cmd(&["INFO", section]) {
        Value::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("INFO {section}: {other:?}"),
    }
}

/// A client connected during the load gets `-LOADING` for key commands (and PING, as in Redis),
/// while INFO, CONFIG, CLIENT and SELECT answer and INFO's loading fields progress; then everything
/// answers and the dataset is whole.
#[test]
fn clients_get_loading_during_the_load_then_the_whole_dataset() {
    let (f, before, keys) = saved_dataset(20_000);
    let dir = dir_arg(f.dir());
    let file_size = std::fs::metadata(f.dir().join("dump.rdb")).expect("file").len();
    let g = Server::ferrite_loading(&slow_load(&dir));
    let mut c = g.raw();
    assert_eq!(c.cmd(&["GET", "key:1"]), common::err(LOADING));
    assert_eq!(c.cmd(&["PING"]), common::err(LOADING));
    assert_eq!(c.cmd(&["DBSIZE"]), common::err(LOADING));
    assert_eq!(c.cmd(&["SELECT", "3"]), simple("OK"));
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "dbfilename"]),
        Value::Array(vec![common::bulk("dbfilename"), common::bulk("dump.rdb")])
    );
    assert!(matches!(c.cmd(&["CLIENT", "LIST"]), Value::Bulk(_)));
    let info = info_text(&mut c, "persistence");
    let field = |info: &str, name: &str| -> String {
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")).map(str::to_string))
            .unwrap_or_else(|| panic!("no {name} in {info}"))
    };
    assert_eq!(field(&info, "loading"), "1");
    assert_eq!(field(&info, "async_loading"), "0");
    assert_eq!(field(&info, "loading_total_bytes"), file_size.to_string());
    assert!(field(&info, "loading_rdb_used_mem").parse::<u64>().expect("number") > 0);
    let start: i64 = field(&info, "loading_start_time").parse().expect("number");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    assert!((now - start).abs() < 30, "start {start}, now {now}");
    // The fields come last, in Redis's order.
    let tail: Vec<&str> = info
        .lines()
        .rev()
        .take(6)
        .map(|l| l.split(':').next().unwrap_or(""))
        .collect();
    assert_eq!(
        tail,
        [
            "loading_eta_seconds",
            "loading_loaded_perc",
            "loading_loaded_bytes",
            "loading_rdb_used_mem",
            "loading_total_bytes",
            "loading_start_time"
        ]
    );
    // Progress: the loaded bytes grow (and stay under the total) while the load goes on.
    let first: u64 = field(&info, "loading_loaded_bytes").parse().expect("number");
    assert!(first < file_size);
    let mut progressed = false;
    assert!(common::eventually(Duration::from_secs(60), || {
        let info = info_text(&mut c, "persistence");
        if field(&info, "loading") == "0" {
            return true;
        }
        let now: u64 = field(&info, "loading_loaded_bytes").parse().expect("number");
        let perc: f64 = field(&info, "loading_loaded_perc").parse().expect("number");
        assert!((0.0..=100.0).contains(&perc), "{perc}");
        progressed |= now > first;
        false
    }));
    assert!(progressed, "loading_loaded_bytes grew during the load");
    // Done: everything answers, the dataset is whole, the loading fields are gone.
    assert!(!info_text(&mut c, "persistence").contains("loading_total_bytes"));
    c.cmd(&["SELECT", "0"]);
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
    assert_eq!(digest(&mut c), before);
    assert_eq!(info_field(&mut c, "rdb_last_load_keys_loaded"), keys.to_string());
    let log = last_log(f.dir());
    let order = [
        "Loading RDB produced by version 7.0.15",
        "RDB age ",
        "RDB memory usage when created ",
        "Done loading RDB, keys loaded: ",
        "DB loaded from disk: ",
        "Ready to accept connections",
    ];
    let at: Vec<usize> = order
        .iter()
        .map(|l| log.find(l).unwrap_or_else(|| panic!("no {l:?} in {log}")))
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{log}");
}

/// During a load Ferrite answers what redis-server 7.0 answers (same file, same commands).
#[test]
fn replies_during_a_load_match_redis() {
    if !redis_available("replies_during_a_load_match_redis") {
        return;
    }
    let (f, _, _) = saved_dataset(20_000);
    let script: Vec<Vec<&str>> = vec![
        vec!["GET", "key:1"],
        vec!["SET", "a", "b"],
        vec!["PING"],
        vec!["DBSIZE"],
        vec!["ECHO", "hi"],
        vec!["SELECT", "1"],
        vec!["CONFIG", "GET", "maxmemory"],
        vec!["CLIENT", "SETNAME", "probe"],
        vec!["CLIENT", "GETNAME"],
        vec!["PUBLISH", "ch", "m"],
        vec!["FLUSHALL"],
        vec!["BGSAVE"],
        vec!["SAVE"],
        vec!["SCRIPT", "FLUSH"],
        vec!["EVAL", "return 1", "0"],
        vec!["FUNCTION", "LIST"],
        vec!["KEYS"],
        vec!["GET"],
        vec!["NOSUCHCOMMAND"],
        vec!["MULTI"],
        vec!["GET", "key:1"],
        vec!["EXEC"],
        vec!["SLOWLOG", "LEN"],
        vec!["OBJECT", "ENCODING", "key:1"],
        vec!["MEMORY", "USAGE", "key:1"],
    ];
    let run = |s: &Server| -> Vec<Value> {
        let mut c = s.raw();
        let replies = script.iter().map(|cmd| c.cmd(cmd)).collect();
        assert_eq!(info_field(&mut c, "loading"), "1", "the script ran during the load");
        replies
    };
    let dir = dir_arg(f.dir());
    let ferrite = run(&Server::ferrite_loading(&slow_load(&dir)));
    let redis = run(&Server::redis_loading(&slow_load(&dir)));
    for ((cmd, a), b) in script.iter().zip(&ferrite).zip(&redis) {
        assert_eq!(a, b, "{cmd:?}");
    }
}

/// A file that turns out damaged after the load has served clients for a while still stops the
/// server with exit code 1 and the reason in the log.
#[test]
fn a_load_that_fails_midway_exits_1() {
    let (f, _, _) = saved_dataset(20_000);
    let path = f.dir().join("dump.rdb");
    let good = std::fs::read(&path).expect("file");
    std::fs::write(&path, &good[..good.len() * 3 / 4]).expect("write");
    let dir = dir_arg(f.dir());
    let mut g = Server::ferrite_loading(&slow_load(&dir));
    assert_eq!(g.raw().cmd(&["GET", "key:1"]), common::err(LOADING));
    let status = g.wait_exit(Duration::from_secs(60)).expect("exits");
    assert_eq!(status.code(), Some(1));
    let log = last_log(f.dir());
    let line = log
        .lines()
        .find(|l| l.contains("Fatal error loading the DB from "))
        .unwrap_or_else(|| panic!("{log}"));
    assert!(
        line.contains("dump.rdb: ") && line.contains("(at byte ") && line.ends_with(". Exiting."),
        "{line}"
    );
    assert!(!log.contains("Ready to accept connections"), "{log}");
}

/// SHUTDOWN and SIGTERM during a load exit at once without saving, even with `save` points set
/// (Redis's prepareForShutdown skips the save while loading); the file is left as it was.
#[test]
fn shutdown_during_the_load_does_not_save() {
    let (f, _, _) = saved_dataset(20_000);
    let path = f.dir().join("dump.rdb");
    let good = std::fs::read(&path).expect("file");
    let dir = dir_arg(f.dir());
    let mut opts = slow_load(&dir);
    opts.extend(["--save", "3600 1"]);
    let mut g = Server::ferrite_loading(&opts);
    g.signal(libc::SIGTERM);
    let status = g.wait_exit(Duration::from_secs(20)).expect("exits");
    assert_eq!(status.code(), Some(0));
    let log = last_log(f.dir());
    assert!(
        log.contains("Received shutdown signal during loading, scheduling shutdown."),
        "{log}"
    );
    assert!(!log.contains("Saving the final RDB snapshot"), "{log}");
    assert_eq!(std::fs::read(&path).expect("file"), good);

    let mut h = Server::ferrite_loading(&opts);
    h.raw().send(&["SHUTDOWN"]);
    let status = h.wait_exit(Duration::from_secs(20)).expect("exits");
    assert_eq!(status.code(), Some(0));
    let log = last_log(f.dir());
    assert!(log.contains("User requested shutdown..."), "{log}");
    assert!(!log.contains("Saving the final RDB snapshot"), "{log}");
    assert_eq!(std::fs::read(&path).expect("file"), good);
}

/// Values larger than the loader's window (4 MB) load whole: the window grows for them.
#[test]
fn values_larger_than_the_window_load() {
    let mut f = Server::ferrite(&["--rdbcompression", "no"]);
    let mut c = f.raw();
    c.cmd(&["DEBUG", "POPULATE", "3", "big", "9000000"]);
    c.cmd(&["SET", "small", "v"]);
    c.cmd(&["RPUSH", "list", "a", "b"]);
    let before = digest(&mut c);
    assert_eq!(c.cmd(&["SAVE"]), simple("OK"));
    stop(&mut f);
    assert!(std::fs::metadata(f.dir().join("dump.rdb")).expect("file").len() > 27_000_000);
    let g = Server::ferrite(&["--dir", &dir_arg(f.dir())]);
    let mut c = g.raw();
    assert_eq!(digest(&mut c), before);
    assert_eq!(c.cmd(&["STRLEN", "big:0"]), Value::Int(9_000_000));
}

/// BGSAVE's file announces each database's sizes at the cut (RESIZEDB after its SELECTDB), as
/// Redis's files do, so a loader sizes its table at once.
#[test]
fn bgsave_writes_the_sizes_of_each_database() {
    let f = Server::ferrite(&[]);
    let mut c = f.raw();
    for k in ["a", "b", "c"] {
        c.cmd(&["SET", k, "v"]);
    }
    c.cmd(&["SELECT", "5"]);
    c.cmd(&["SET", "d", "v"]);
    c.cmd(&["SET", "e", "v", "EX", "1000"]);
    assert_eq!(c.cmd(&["BGSAVE"]), simple("Background saving started"));
    wait_bgsave(&mut c);
    let file = std::fs::read(f.dir().join("dump.rdb")).expect("file");
    let has = |needle: &[u8]| file.windows(needle.len()).any(|w| w == needle);
    // SELECTDB 0, RESIZEDB 3 0; SELECTDB 5, RESIZEDB 2 1.
    assert!(has(&[0xFE, 0, 0xFB, 3, 0]), "{file:?}");
    assert!(has(&[0xFE, 5, 0xFB, 2, 1]), "{file:?}");
}
