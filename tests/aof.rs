//! The append-only file: Redis 7.0's multi-part layout, restarts that replay it, rewrites (RDB
//! preamble and commands) while writes go on, turning it on at run time, torn tails, and directories
//! that move between Ferrite and a real redis-server 7.0 both ways with equal DEBUG DIGEST.

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::dataset::{digest, dir_arg, populate, shape, stop};
use common::{redis_available, simple, Raw, Server, Value};

fn info_field(c: &mut Raw, field: &str) -> String {
    common::info_field(c, "persistence", field)
}

fn manifest(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("appendonlydir").join("appendonly.aof.manifest")).expect("manifest")
}

/// The files in `appendonlydir`, sorted.
fn aof_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("appendonlydir"))
        .expect("appendonlydir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn wait_rewrite(c: &mut Raw) {
    // One INFO for both fields: a scheduled rewrite may start between two.
    let idle = |c: &mut Raw| {
        let Value::Bulk(text) = c.cmd(&["INFO", "persistence"]) else {
            panic!("INFO")
        };
        let text = String::from_utf8_lossy(&text).into_owned();
        text.contains("aof_rewrite_in_progress:0") && text.contains("aof_rewrite_scheduled:0")
    };
    assert!(
        common::eventually(Duration::from_secs(60), || idle(c)),
        "the rewrite ends"
    );
}

fn bulk(s: &str) -> Value {
    Value::Bulk(s.as_bytes().to_vec())
}

#[test]
fn writes_reach_the_incr_file_and_a_restart_replays_them() {
    let mut f = Server::ferrite(&["--appendonly", "yes"]);
    let mut c = f.raw();
    assert_eq!(
        aof_files(f.dir()),
        [
            "appendonly.aof.1.base.rdb",
            "appendonly.aof.1.incr.aof",
            "appendonly.aof.manifest"
        ]
    );
    assert_eq!(
        manifest(f.dir()),
        "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
    );
    populate(&mut c);
    c.cmd(&["SET", "gone", "v", "PX", "1"]);
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(c.cmd(&["GET", "gone"]), Value::NullBulk);
    // A transaction and a script are journaled as what they did.
    c.cmd(&["MULTI"]);
    c.cmd(&["INCR", "counter"]);
    c.cmd(&["EXPIRE", "counter", "1000"]);
    c.cmd(&["EXEC"]);
    c.cmd(&[
        "EVAL",
        "redis.call('SET', KEYS[1], 'x') return redis.call('INCR', 'counter')",
        "1",
        "fromlua",
    ]);
    let before = (digest(&mut c), shape(&mut c));
    assert_eq!(info_field(&mut c, "aof_enabled"), "1");
    assert_eq!(info_field(&mut c, "aof_last_write_status"), "ok");
    let incr = std::fs::read(f.dir().join("appendonlydir/appendonly.aof.1.incr.aof")).expect("incr");
    assert!(
        incr.starts_with(b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"),
        "{:?}",
        &incr[..40]
    );
    let text = String::from_utf8_lossy(&incr);
    assert!(text.contains("PEXPIREAT"), "relative TTLs are journaled as absolute");
    assert!(text.contains("MULTI") && text.contains("EXEC"));
    let size: u64 = ["appendonly.aof.1.base.rdb", "appendonly.aof.1.incr.aof"]
        .iter()
        .map(|n| {
            std::fs::metadata(f.dir().join("appendonlydir").join(n))
                .expect("meta")
                .len()
        })
        .sum();
    assert_eq!(info_field(&mut c, "aof_current_size"), size.to_string());
    stop(&mut f);

    let g = Server::ferrite(&["--appendonly", "yes", "--dir", &dir_arg(f.dir())]);
    let mut c = g.raw();
    assert_eq!((digest(&mut c), shape(&mut c)), before);
    assert_eq!(c.cmd(&["FCALL", "myf", "0"]), Value::Int(1));
    let log = std::fs::read_to_string(f.dir().join("server.log")).expect("log");
    assert!(
        log.contains("DB loaded from incr file appendonly.aof.1.incr.aof"),
        "{log}"
    );
    assert!(
        log.contains("Opening AOF incr file appendonly.aof.1.incr.aof on server start"),
        "{log}"
    );
}

#[test]
fn bgrewriteaof_rotates_the_files_in_both_formats_while_writes_go_on() {
    for preamble in ["yes", "no"] {
        let mut f = Server::ferrite(&["--appendonly", "yes", "--aof-use-rdb-preamble", preamble]);
        let mut c = f.raw();
        populate(&mut c);
        for i in 0..20_000 {
            c.send(&["SET", &format!("k{i}"), &i.to_string()]);
        }
        for _ in 0..20_000 {
            c.read();
        }
        assert_eq!(
            c.cmd(&["BGREWRITEAOF"]),
            simple("Background append only file rewriting started")
        );
        assert_eq!(
            c.cmd(&["BGREWRITEAOF"]),
            common::err("ERR Background append only file rewriting already in progress")
        );
        // Writes during the rewrite go to the new incr file, after the snapshot's image.
        for i in 0..2000 {
            c.cmd(&["SET", &format!("k{i}"), "changed"]);
            c.cmd(&["DEL", &format!("k{}", 10_000 + i)]);
        }
        wait_rewrite(&mut c);
        assert_eq!(info_field(&mut c, "aof_rewrites"), "1");
        assert_eq!(info_field(&mut c, "aof_last_bgrewrite_status"), "ok");
        let ext = if preamble == "yes" { "rdb" } else { "aof" };
        assert_eq!(
            aof_files(f.dir()),
            [
                format!("appendonly.aof.2.base.{ext}"),
                "appendonly.aof.2.incr.aof".to_string(),
                "appendonly.aof.manifest".to_string()
            ],
            "history files are removed"
        );
        assert_eq!(
            manifest(f.dir()),
            format!("file appendonly.aof.2.base.{ext} seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n")
        );
        let before = (digest(&mut c), shape(&mut c));
        stop(&mut f);
        let g = Server::ferrite(&["--appendonly", "yes", "--dir", &dir_arg(f.dir())]);
        let mut c = g.raw();
        assert_eq!((digest(&mut c), shape(&mut c)), before, "preamble {preamble}");
        assert_eq!(c.cmd(&["GET", "k5"]), bulk("changed"));
        assert_eq!(c.cmd(&["EXISTS", "k10005"]), Value::Int(0));
    }
}

#[test]
fn appendonly_turned_on_at_run_time_starts_from_a_snapshot() {
    let mut f = Server::ferrite(&[]);
    let mut c = f.raw();
    populate(&mut c);
    assert!(!f.dir().join("appendonlydir").exists());
    assert_eq!(c.cmd(&["CONFIG", "SET", "appendonly", "yes"]), simple("OK"));
    assert_eq!(info_field(&mut c, "aof_enabled"), "1");
    for i in 0..500 {
        c.cmd(&["RPUSH", "during", &i.to_string()]);
    }
    wait_rewrite(&mut c);
    assert_eq!(
        aof_files(f.dir()),
        [
            "appendonly.aof.1.base.rdb",
            "appendonly.aof.1.incr.aof",
            "appendonly.aof.manifest"
        ]
    );
    c.cmd(&["SET", "after", "1"]);
    let before = (digest(&mut c), shape(&mut c));
    stop(&mut f);
    let mut g = Server::ferrite(&["--appendonly", "yes", "--dir", &dir_arg(f.dir())]);
    let mut c = g.raw();
    assert_eq!((digest(&mut c), shape(&mut c)), before);
    assert_eq!(c.cmd(&["LLEN", "during"]), Value::Int(500));
    // Off again: the file is closed, writes no longer reach it.
    assert_eq!(c.cmd(&["CONFIG", "SET", "appendonly", "no"]), simple("OK"));
    assert_eq!(info_field(&mut c, "aof_enabled"), "0");
    let size = std::fs::metadata(f.dir().join("appendonlydir/appendonly.aof.1.incr.aof"))
        .expect("incr")
        .len();
    c.cmd(&["SET", "off", "1"]);
    let after = std::fs::metadata(f.dir().join("appendonlydir/appendonly.aof.1.incr.aof"))
        .expect("incr")
        .len();
    assert_eq!(size, after);
    stop(&mut g);
}

/// Write a directory by hand: a manifest naming one incr file with these bytes.
fn handmade_aof(dir: &Path, incr: &[u8]) {
    let d = dir.join("appendonlydir");
    std::fs::create_dir_all(&d).expect("mkdir");
    std::fs::write(
        d.join("appendonly.aof.manifest"),
        "file appendonly.aof.1.incr.aof seq 1 type i\n",
    )
    .expect("m");
    std::fs::write(d.join("appendonly.aof.1.incr.aof"), incr).expect("incr");
}

const GOOD: &[u8] = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n";

/// Start on an incr file of GOOD followed by `tail`; `a` is there, `b` is not. Returns the server, its
/// directory and its log.
fn start_on_torn(tail: &[u8]) -> (Server, tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("dir");
    handmade_aof(dir.path(), &[GOOD, tail].concat());
    let f = Server::ferrite(&["--appendonly", "yes", "--dir", &dir_arg(dir.path())]);
    let mut c = f.raw();
    assert_eq!(c.cmd(&["GET", "a"]), bulk("1"));
    assert_eq!(c.cmd(&["EXISTS", "b"]), Value::Int(0));
    let log = std::fs::read_to_string(dir.path().join("server.log")).expect("log");
    (f, dir, log)
}

#[test]
fn a_torn_tail_loads_the_whole_commands_before_it_when_allowed() {
    let (f, dir, log) = start_on_torn(b"*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$5\r\nhel");
    assert!(log.contains("!!! Warning: short read while loading the AOF file appendonly.aof.1.incr.aof!!!"));
    assert!(log.contains(&format!(
        "!!! Truncating the AOF appendonly.aof.1.incr.aof at offset {} !!!",
        GOOD.len()
    )));
    // The file was cut at that point, and new writes follow it.
    f.raw().cmd(&["SET", "c", "3"]);
    let bytes = std::fs::read(dir.path().join("appendonlydir/appendonly.aof.1.incr.aof")).expect("incr");
    assert!(bytes.starts_with(GOOD) && !bytes.windows(3).any(|w| w == b"hel"));

    // A transaction without its EXEC at the end counts as torn: it is reverted.
    let (_f, _dir, log) = start_on_torn(b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n");
    assert!(log.contains("Revert incomplete MULTI/EXEC transaction in AOF file appendonly.aof.1.incr.aof"));
}

/// Start a server expected to refuse its files: its exit code and log.
fn refused_start(dir: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let port = common::free_port().to_string();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ferrite-server"))
        .args([
            "--port",
            &port,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "yes",
        ])
        .args(["--dir", &dir_arg(dir), "--logfile", "server.log"])
        .args(extra)
        .output()
        .expect("run");
    let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
    (out.status.code(), log)
}

#[test]
fn bad_files_stop_the_start_with_redis_messages() {
    let mut torn = GOOD.to_vec();
    torn.extend_from_slice(b"*3\r\n$3\r\nSET");
    let cases: [(&[u8], &[&str], &[&str]); 3] = [
        (
            &torn,
            &["--aof-load-truncated", "no"],
            &["Unexpected end of file reading the append only file appendonly.aof.1.incr.aof"],
        ),
        (
            b"*1\r\n$4\r\nPING\r\nGARBAGE\r\n",
            &[],
            &["Bad file format reading the append only file appendonly.aof.1.incr.aof"],
        ),
        (
            b"*1\r\n$6\r\nNOSUCH\r\n",
            &[],
            &["Unknown command 'NOSUCH' reading the append only file appendonly.aof.1.incr.aof"],
        ),
    ];
    for (incr, extra, lines) in cases {
        let dir = tempfile::tempdir().expect("dir");
        handmade_aof(dir.path(), incr);
        let (code, log) = refused_start(dir.path(), extra);
        assert_eq!(code, Some(1));
        for line in lines {
            assert!(log.contains(line), "{line}: {log}");
        }
    }

    let dir = tempfile::tempdir().expect("dir");
    handmade_aof(dir.path(), GOOD);
    std::fs::write(
        dir.path().join("appendonlydir/appendonly.aof.manifest"),
        "file x seq 1 type z\n",
    )
    .expect("m");
    let (code, log) = refused_start(dir.path(), &[]);
    assert_eq!(code, Some(1));
    assert!(log.contains("Unknown AOF file type"), "{log}");
    assert!(log.contains(">>> 'file x seq 1 type z'"), "{log}");

    // A file the manifest names but that is missing.
    let dir = tempfile::tempdir().expect("dir");
    handmade_aof(dir.path(), GOOD);
    std::fs::remove_file(dir.path().join("appendonlydir/appendonly.aof.1.incr.aof")).expect("rm");
    let (code, _) = refused_start(dir.path(), &[]);
    assert_eq!(code, Some(1));
}

#[test]
fn the_automatic_rewrite_starts_when_the_file_doubles() {
    let f = Server::ferrite(&[
        "--appendonly",
        "yes",
        "--auto-aof-rewrite-min-size",
        "100kb",
        "--auto-aof-rewrite-percentage",
        "100",
    ]);
    let mut c = f.raw();
    let value = "v".repeat(1000);
    for i in 0..300 {
        c.cmd(&["SET", &format!("k{}", i % 10), &value]);
    }
    assert!(
        common::eventually(Duration::from_secs(10), || info_field(&mut c, "aof_rewrites") != "0"),
        "a rewrite ran"
    );
    wait_rewrite(&mut c);
    assert!(
        f.log().contains("Starting automatic rewriting of AOF on"),
        "{}",
        f.log()
    );
    let size: u64 = info_field(&mut c, "aof_current_size").parse().expect("size");
    assert!(size < 100 * 1024, "rewritten down to the ten keys: {size}");
}

#[test]
fn bgsave_and_bgrewriteaof_take_turns() {
    let f = Server::ferrite(&["--appendonly", "yes"]);
    let mut c = f.raw();
    for i in 0..200_000 {
        c.send(&["SET", &format!("k{i}"), "v"]);
    }
    for _ in 0..200_000 {
        c.read();
    }
    assert_eq!(c.cmd(&["BGSAVE"]), simple("Background saving started"));
    assert_eq!(
        c.cmd(&["BGREWRITEAOF"]),
        simple("Background append only file rewriting scheduled")
    );
    assert_eq!(info_field(&mut c, "aof_rewrite_scheduled"), "1");
    wait_rewrite(&mut c);
    assert_eq!(info_field(&mut c, "aof_rewrites"), "1");
    assert_eq!(
        c.cmd(&["BGREWRITEAOF"]),
        simple("Background append only file rewriting started")
    );
    let reply = c.cmd(&["BGSAVE"]);
    if info_field(&mut c, "aof_rewrite_in_progress") == "1" {
        assert_eq!(
            reply,
            common::err(
                "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order \
                 to schedule a BGSAVE whenever possible."
            )
        );
    }
    wait_rewrite(&mut c);
}

/// Directories move both ways between Ferrite and redis-server, with and without the preamble.
#[test]
fn aof_directories_move_between_ferrite_and_redis() {
    if !redis_available("aof_directories_move_between_ferrite_and_redis") {
        return;
    }
    for preamble in ["yes", "no"] {
        let args = ["--appendonly", "yes", "--aof-use-rdb-preamble", preamble];
        // Ferrite writes (base after a rewrite, then an incr file), Redis loads.
        let mut f = Server::ferrite(&args);
        let mut c = f.raw();
        populate(&mut c);
        assert_eq!(
            c.cmd(&["BGREWRITEAOF"]),
            simple("Background append only file rewriting started")
        );
        wait_rewrite(&mut c);
        c.cmd(&["SET", "after-rewrite", "1"]);
        c.cmd(&["HSET", "h-small", "late", "field"]);
        let ours = shape(&mut c);
        stop(&mut f);
        // Redis's own checker accepts the directory.
        let manifest = f.dir().join("appendonlydir/appendonly.aof.manifest");
        let check = std::process::Command::new("redis-check-aof")
            .arg(&manifest)
            .output()
            .expect("redis-check-aof");
        let report = String::from_utf8_lossy(&check.stdout).into_owned();
        assert!(
            check.status.success() && report.contains("All AOF files and manifest are valid"),
            "{report}"
        );
        // Both servers load the files to the same digest, and to the dataset that was written: key
        // by key (value digest with the TTL mark, encoding, TTL) and database by database.
        let g = Server::ferrite(&[&args[..], &["--dir", &dir_arg(f.dir())]].concat()).loaded();
        let reloaded = digest(&mut g.raw());
        drop(g);
        let r = Server::redis(&[&args[..], &["--dir", &dir_arg(f.dir())]].concat()).loaded();
        let mut rc = r.raw();
        assert_eq!(
            (digest(&mut rc), shape(&mut rc)),
            (reloaded, ours),
            "Redis loads Ferrite's AOF (preamble {preamble})"
        );
        drop(rc);
        drop(r);

        // Redis writes, Ferrite loads.
        let mut r = Server::redis(&args);
        let mut rc = r.raw();
        populate(&mut rc);
        assert_eq!(
            rc.cmd(&["BGREWRITEAOF"]),
            simple("Background append only file rewriting started")
        );
        wait_rewrite(&mut rc);
        rc.cmd(&["SET", "after-rewrite", "1"]);
        let theirs = (digest(&mut rc), shape(&mut rc));
        stop(&mut r);
        let f = Server::ferrite(&[&args[..], &["--dir", &dir_arg(r.dir())]].concat()).loaded();
        let mut c = f.raw();
        assert_eq!(
            (digest(&mut c), shape(&mut c)),
            theirs,
            "Ferrite loads Redis's AOF (preamble {preamble})"
        );
    }
}

/// Clients that INCR their own counter as fast as the server answers, remembering the last value
/// acknowledged (and when), until told to stop or the connection breaks.
struct Writers {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<Vec<(Instant, i64)>>>,
}

impl Writers {
    fn start(port: u16, acked: &Arc<Vec<AtomicI64>>) -> Writers {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..acked.len())
            .map(|t| {
                let (stop, acked) = (Arc::clone(&stop), Arc::clone(acked));
                std::thread::spawn(move || {
                    let mut history = vec![];
                    let mut w = Raw::connect(port);
                    while !stop.load(Ordering::SeqCst) {
                        if !w.try_send(&["INCR", &format!("counter:{t}")]) {
                            break;
                        }
                        match w.try_read() {
                            Some(Value::Int(n)) => {
                                acked[t].store(n, Ordering::SeqCst);
                                history.push((Instant::now(), n));
                            }
                            _ => break,
                        }
                    }
                    history
                })
            })
            .collect();
        Writers { stop, threads }
    }

    /// Stop (after the server was killed) and return each writer's (time, acknowledged value) history.
    fn join(self) -> Vec<Vec<(Instant, i64)>> {
        self.stop.store(true, Ordering::SeqCst);
        self.threads.into_iter().map(|t| t.join().expect("writer")).collect()
    }

    /// Check the restarted server against what was acknowledged: every acknowledged INCR is there,
    /// at most the one in flight at the kill is extra; then continue from what it has.
    fn check(acked: &[AtomicI64], c: &mut Raw, context: &str) -> Vec<i64> {
        acked
            .iter()
            .enumerate()
            .map(|(t, a)| {
                let have = counter(c, t);
                let want = a.load(Ordering::SeqCst);
                assert!(
                    have == want || have == want + 1,
                    "{context}, writer {t}: {have} vs acked {want}"
                );
                a.store(have, Ordering::SeqCst);
                have
            })
            .collect()
    }
}

fn counter(c: &mut Raw, t: usize) -> i64 {
    match c.cmd(&["GET", &format!("counter:{t}")]) {
        Value::Bulk(b) => String::from_utf8_lossy(&b).parse::<i64>().expect("number"),
        _ => 0,
    }
}

/// `appendfsync always`: kill -9 at random moments under concurrent writers, 20 times; after every
/// restart each acknowledged write is there. Every other cycle a rewrite runs when the kill comes,
/// so a crash in the middle of one leaves the previous files loadable.
#[test]
fn kill_9_loses_no_acknowledged_write_with_appendfsync_always() {
    let dir = tempfile::tempdir().expect("dir");
    let args = [
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--dir",
        &dir_arg(dir.path()),
    ];
    let acked: Arc<Vec<AtomicI64>> = Arc::new((0..3).map(|_| AtomicI64::new(0)).collect());
    let mut next = xorshift();
    for cycle in 0..20 {
        let f = Server::ferrite(&args);
        let mut c = f.raw();
        Writers::check(&acked, &mut c, &format!("cycle {cycle}"));
        if cycle == 0 {
            fill(&mut c, 100_000);
        }
        let writers = Writers::start(f.port, &acked);
        std::thread::sleep(Duration::from_millis(50 + next(150)));
        if cycle % 2 == 1 {
            c.cmd(&["BGREWRITEAOF"]);
            std::thread::sleep(Duration::from_millis(next(40)));
        }
        f.signal(9);
        writers.join();
    }
}

fn xorshift() -> impl FnMut(u64) -> u64 {
    let mut rng = 0x2545_f491_4f6c_dd1d_u64;
    move |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    }
}

fn fill(c: &mut Raw, n: usize) {
    for i in 0..n {
        c.send(&["SET", &format!("filler:{i}"), "some value to rewrite"]);
    }
    for _ in 0..n {
        c.read();
    }
}

/// A simulated power loss: every incr file is cut back to the size its last fsync covered (the server
/// logs them under `FERRITE_TEST_DURABLE_LOG`), dropping exactly the writes that were only in the
/// page cache.
fn power_loss(dir: &Path, log: &Path) {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut durable = std::collections::HashMap::new();
    for line in text.lines() {
        if let Some((name, size)) = line.rsplit_once(' ') {
            durable.insert(name.to_string(), size.parse::<u64>().expect("size"));
        }
    }
    for name in aof_files(dir) {
        if name.contains(".incr") {
            let path = dir.join("appendonlydir").join(&name);
            let keep = durable.get(&name).copied().unwrap_or(0);
            let file = std::fs::OpenOptions::new().write(true).open(&path).expect("incr");
            if file.metadata().expect("meta").len() > keep {
                file.set_len(keep).expect("cut");
            }
        }
    }
}

/// Power loss, simulated: `always` loses no acknowledged write; `everysec` loses at most the writes of
/// the last two seconds (one second between fsyncs, and Redis's rule that lets a write wait up to two
/// seconds behind a slow fsync); `no` keeps nothing the kernel was not asked to write back.
#[test]
fn a_power_loss_keeps_what_appendfsync_promised() {
    for (fsync, cycles, run_ms) in [("always", 5, 300), ("everysec", 2, 3500), ("no", 1, 300)] {
        let dir = tempfile::tempdir().expect("dir");
        let log = dir.path().join("durable.log");
        let env = [("FERRITE_TEST_DURABLE_LOG", log.to_str().expect("utf8"))];
        let args = [
            "--appendonly",
            "yes",
            "--appendfsync",
            fsync,
            "--dir",
            &dir_arg(dir.path()),
        ];
        let acked: Arc<Vec<AtomicI64>> = Arc::new((0..2).map(|_| AtomicI64::new(0)).collect());
        for cycle in 0..cycles {
            let f = Server::ferrite_env(&args, &env);
            let mut c = f.raw();
            if fsync == "always" {
                Writers::check(&acked, &mut c, &format!("{fsync} cycle {cycle}"));
            }
            let start: Vec<i64> = (0..acked.len()).map(|t| counter(&mut c, t)).collect();
            for (a, s) in acked.iter().zip(&start) {
                a.store(*s, Ordering::SeqCst);
            }
            let writers = Writers::start(f.port, &acked);
            std::thread::sleep(Duration::from_millis(run_ms));
            f.signal(9);
            let killed = Instant::now();
            let histories = writers.join();
            drop(f);
            power_loss(dir.path(), &log);
            if fsync == "no" {
                // Nothing was fsynced: the simulation drops every write (what makes it a test).
                let g = Server::ferrite_env(&args, &env);
                let mut c = g.raw();
                for (t, h) in histories.iter().enumerate() {
                    assert!(h.len() > 10, "writes were acknowledged");
                    assert_eq!(counter(&mut c, t), 0, "no: the unsynced writes are gone");
                }
            }
            if fsync == "everysec" {
                let g = Server::ferrite_env(&args, &env);
                let mut c = g.raw();
                for (t, h) in histories.iter().enumerate() {
                    let have = counter(&mut c, t);
                    let last = h.last().map_or(start[t], |x| x.1);
                    // What was acknowledged more than 2.5 s before the power went is there.
                    let old = h
                        .iter()
                        .rev()
                        .find(|(at, _)| killed.duration_since(*at) > Duration::from_millis(2500))
                        .map_or(start[t], |x| x.1);
                    assert!(have >= old && have <= last + 1, "{fsync}: {have} not in {old}..={last}");
                }
            }
        }
        if fsync == "always" {
            let g = Server::ferrite_env(&args, &env);
            Writers::check(&acked, &mut g.raw(), "always, after the last power loss");
        }
    }
}

/// The AOF loads as the RDB does: a client connected meanwhile gets `-LOADING` for key commands
/// while INFO shows the progress over all the files, then the dataset is whole.
#[test]
fn clients_get_loading_while_the_aof_replays() {
    let mut f = Server::ferrite(&["--appendonly", "yes"]);
    let mut c = f.raw();
    fill(&mut c, 5000);
    let before = digest(&mut c);
    stop(&mut f);
    let size: u64 = aof_files(f.dir())
        .iter()
        .filter(|n| !n.ends_with(".manifest"))
        .map(|n| {
            std::fs::metadata(f.dir().join("appendonlydir").join(n))
                .expect("meta")
                .len()
        })
        .sum();
    let dir = dir_arg(f.dir());
    let g = Server::ferrite_loading(&[&["--appendonly", "yes"][..], &slow_load(&dir)].concat());
    let mut c = g.raw();
    assert_eq!(
        c.cmd(&["GET", "filler:1"]),
        common::err("LOADING Redis is loading the dataset in memory")
    );
    assert_eq!(info_field(&mut c, "loading"), "1");
    assert_eq!(info_field(&mut c, "loading_total_bytes"), size.to_string());
    assert!(
        common::eventually(Duration::from_secs(60), || info_field(&mut c, "loading") == "0"),
        "the load ends"
    );
    assert_eq!(digest(&mut c), before);
    assert_eq!(info_field(&mut c, "aof_enabled"), "1");
    // Writes after the load reach the AOF.
    c.cmd(&["SET", "after", "1"]);
    let incr = std::fs::read(f.dir().join("appendonlydir/appendonly.aof.1.incr.aof")).expect("incr");
    assert!(incr.ends_with(b"$5\r\nafter\r\n$1\r\n1\r\n"));
}

/// CONFIG SET appendonly yes while the RDB file loads: the first rewrite waits for the load to end
/// (nothing snapshots a half-loaded dataset), then the AOF holds the whole dataset.
#[test]
fn appendonly_turned_on_during_a_load_waits_for_it() {
    let mut f = Server::ferrite(&[]);
    let mut c = f.raw();
    fill(&mut c, 5000);
    assert_eq!(c.cmd(&["SAVE"]), simple("OK"));
    let before = digest(&mut c);
    stop(&mut f);
    let dir = dir_arg(f.dir());
    let mut g = Server::ferrite_loading(&slow_load(&dir));
    let mut c = g.raw();
    assert_eq!(info_field(&mut c, "loading"), "1");
    assert_eq!(c.cmd(&["CONFIG", "SET", "appendonly", "yes"]), simple("OK"));
    assert!(
        common::eventually(Duration::from_secs(60), || info_field(&mut c, "loading") == "0"),
        "the load ends"
    );
    wait_rewrite(&mut c);
    assert_eq!(info_field(&mut c, "aof_rewrites"), "1");
    assert_eq!(digest(&mut c), before);
    stop(&mut g);
    let h = Server::ferrite(&["--appendonly", "yes", "--dir", &dir_arg(f.dir())]);
    assert_eq!(digest(&mut h.raw()), before, "the AOF holds the whole dataset");
}

/// Start-up arguments that make a load of `dir` slow enough to watch (Redis's `key-load-delay`, in
/// µs per key or command, and small steps).
fn slow_load(dir: &str) -> [&str; 6] {
    [
        "--dir",
        dir,
        "--key-load-delay",
        "200",
        "--loading-process-events-interval-bytes",
        "1024",
    ]
}
