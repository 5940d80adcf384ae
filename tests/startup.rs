//! Start-up and shutdown of the binary: options, fatal configuration errors (same text as
//! `redis-server`), daemonize with a pid file, the stock Debian redis.conf, the log lines,
//! rename-command, SHUTDOWN's options, maxclients and output buffer limits.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{bulk, err, free_port, redis_available, simple, Raw, Server, Value};

const BIN: &str = env!("CARGO_BIN_EXE_ferrite-server");

/// Run a binary with arguments in `dir` and return (exit code, stdout, stderr).
fn run_in(bin: &str, args: &[&str], dir: &Path) -> (i32, String, String) {
    let out = Command::new(bin)
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{bin}: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn version_and_help() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, out, _) = run_in(BIN, &["--version"], dir.path());
    assert_eq!(code, 0);
    assert!(out.starts_with("Ferrite server v=7.0.15 "), "{out}");
    assert_eq!(run_in(BIN, &["-v"], dir.path()).0, 0);
    let (code, out, errout) = run_in(BIN, &["--help"], dir.path());
    assert_eq!(
        (code, out.as_str()),
        (1, ""),
        "usage goes to stderr with status 1, as Redis"
    );
    assert!(errout.starts_with("Usage: ./ferrite-server"), "{errout}");
}

/// Fatal start-up errors print the same text as redis-server and exit with 1.
#[test]
fn fatal_errors_match_redis() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port().to_string();
    let cases: &[&[&str]] = &[
        &["--port", &port, "--logfile", "/nonexistent/dir/x.log"],
        &["--port", &port, "--rename-command", "foo", "bar"],
        &["--port", &port, "--rename-command", "get", "set"],
        &["--port", &port, "--no-such-directive", "1"],
        &["--port", &port, "--hz", "abc"],
    ];
    for args in cases {
        let (code, _, ours) = run_in(BIN, args, dir.path());
        assert_eq!(code, 1, "{args:?}: {ours}");
        assert!(
            ours.contains("*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***"),
            "{args:?}: {ours}"
        );
        if redis_available("fatal_errors_match_redis") {
            let (rcode, _, theirs) = run_in("redis-server", args, dir.path());
            assert_eq!((code, ours.as_str()), (rcode, theirs.as_str()), "{args:?}");
        }
    }
    let (code, out, _) = run_in(BIN, &["/nonexistent.conf"], dir.path());
    assert_eq!(code, 1);
    assert!(
        out.contains("# Fatal error, can't open config file '/nonexistent.conf': No such file or directory"),
        "{out}"
    );
}

#[test]
fn rename_command_applies_to_lookup() {
    let f = Server::ferrite(&["--rename-command", "get", "fetch", "--rename-command", "config", ""]);
    let mut c = f.raw();
    c.cmd(&["SET", "k", "v"]);
    assert_eq!(c.cmd(&["FETCH", "k"]), bulk("v"));
    assert_eq!(
        c.cmd(&["GET", "k"]),
        err("ERR unknown command 'GET', with args beginning with: 'k' ")
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "hz"]),
        err("ERR unknown command 'CONFIG', with args beginning with: 'GET' 'hz' ")
    );
}

#[test]
fn debian_redis_conf_starts_daemonized() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().display().to_string();
    let port = free_port();
    let conf = include_str!("data/debian-redis.conf")
        .lines()
        .map(|l| {
            if l.starts_with("dir ") {
                format!("dir {d}")
            } else if l.starts_with("pidfile ") {
                format!("pidfile {d}/redis-server.pid")
            } else if l.starts_with("logfile ") {
                format!("logfile {d}/redis-server.log")
            } else if l.starts_with("port ") {
                format!("port {port}")
            } else if l.starts_with("bind ") {
                "bind 127.0.0.1".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let path = dir.path().join("redis.conf");
    std::fs::write(&path, conf).expect("write conf");
    // The parent returns at once (it exits after the fork).
    let (code, _, errout) = run_in(BIN, &[path.to_str().expect("utf8")], dir.path());
    assert_eq!(code, 0, "{errout}");
    let pidfile = dir.path().join("redis-server.pid");
    assert!(common::eventually(Duration::from_secs(20), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    }));
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .expect("pid file")
        .trim_end()
        .parse()
        .expect("pid");
    let mut c = Raw::connect(port);
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
    let Value::Bulk(info) = c.cmd(&["INFO", "server"]) else {
        panic!("info")
    };
    assert!(String::from_utf8_lossy(&info).contains(&format!("process_id:{pid}\r\n")));
    let log = std::fs::read_to_string(dir.path().join("redis-server.log")).expect("log");
    for want in [
        "Configuration loaded",
        "Server initialized",
        "Ready to accept connections",
    ] {
        assert!(log.contains(want), "{want} missing from {log}");
    }
    c.send(&["SHUTDOWN"]);
    assert!(
        common::eventually(Duration::from_secs(10), || !pidfile.exists()),
        "pid file removed"
    );
    // SAFETY: kill with signal 0 only checks whether the process exists.
    assert!(common::eventually(Duration::from_secs(10), || unsafe {
        libc::kill(pid, 0)
    } != 0));
}

#[test]
fn start_up_log_lines_with_logo() {
    let f = Server::ferrite(&["--always-show-logo", "yes"]);
    let log = f.log();
    assert!(log.contains(&format!("PID: {}", f.pid())), "{log}");
    assert!(log.contains(&format!("Port: {}", f.port)), "{log}");
    let pid = f.pid();
    assert!(
        log.contains(&format!("{pid}:C ")),
        "C role before initialisation: {log}"
    );
    assert!(log.contains(&format!("{pid}:M ")), "{log}");
    assert!(log.contains("# Server initialized"), "{log}");
    assert!(log.contains("* Ready to accept connections"), "{log}");
}

#[test]
fn shutdown_errors_match_redis() {
    let script: &[&[&str]] = &[
        &["SHUTDOWN", "FOO"],
        &["SHUTDOWN", "SAVE", "NOSAVE"],
        &["SHUTDOWN", "ABORT", "NOW"],
        &["SHUTDOWN", "ABORT"],
    ];
    let f = Server::ferrite(&[]);
    let mut c = f.raw();
    let got: Vec<Value> = script.iter().map(|s| c.cmd(s)).collect();
    assert_eq!(got[0], err("ERR syntax error"));
    assert_eq!(got[3], err("ERR No shutdown in progress."));
    if redis_available("shutdown_errors_match_redis") {
        let r = Server::redis(&[]);
        let mut rc = r.raw();
        let want: Vec<Value> = script.iter().map(|s| rc.cmd(s)).collect();
        assert_eq!(got, want);
    }
}

#[test]
fn shutdown_save_that_fails_keeps_running_unless_forced() {
    let mut f = Server::ferrite(&[]);
    // A directory where the file should go makes the save fail at its rename.
    std::fs::create_dir(f.dir().join("dump.rdb")).expect("mkdir");
    std::fs::write(f.dir().join("dump.rdb").join("x"), b"x").expect("fill");
    let mut c = f.raw();
    assert_eq!(
        c.cmd(&["SHUTDOWN", "SAVE"]),
        err("ERR Errors trying to SHUTDOWN. Check logs.")
    );
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
    assert!(f.log().contains("Error trying to save the DB, can't exit."));
    c.send(&["SHUTDOWN", "SAVE", "NOW", "FORCE"]);
    let status = f
        .wait_exit(Duration::from_secs(10))
        .expect("exit after SHUTDOWN SAVE FORCE");
    assert!(status.success());
    assert!(f.log().contains("Error trying to save the DB. Exit anyway."));
}

#[test]
fn shutdown_nosave_now_exits() {
    let mut f = Server::ferrite(&[]);
    let mut c = f.raw();
    c.send(&["SHUTDOWN", "NOSAVE", "NOW"]);
    assert!(c.closed_within(Duration::from_secs(10)));
    assert!(f.wait_exit(Duration::from_secs(10)).expect("exit").success());
    assert!(f.log().contains("Redis is now ready to exit, bye bye..."));
}

/// Two connections that answer PING (the start-up probe may still hold a slot for a moment).
fn two_clients(port: u16) -> (Raw, Raw) {
    let mut a = Raw::connect(port);
    assert_eq!(a.cmd(&["PING"]), simple("PONG"));
    for _ in 0..200 {
        let mut b = Raw::connect(port);
        if b.cmd(&["PING"]) == simple("PONG") {
            return (a, b);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("no second connection slot");
}

#[test]
fn maxclients_refuses_extra_connections() {
    let f = Server::ferrite(&["--maxclients", "2"]);
    let _held = two_clients(f.port);
    let mut c = f.raw();
    assert_eq!(c.read(), err("ERR max number of clients reached"));
    if redis_available("maxclients_refuses_extra_connections") {
        let r = Server::redis(&["--maxclients", "2"]);
        let _held = two_clients(r.port);
        let mut c = r.raw();
        assert_eq!(c.read(), err("ERR max number of clients reached"));
    }
}

#[test]
fn output_buffer_hard_limit_closes_the_client() {
    let f = Server::ferrite(&["--client-output-buffer-limit", "normal 1mb 0 0"]);
    let mut c = f.raw();
    let big = vec![b'x'; 2 << 20];
    assert_eq!(c.cmd(&[&b"SET"[..], b"big", &big]), simple("OK"));
    c.send(&["GET", "big"]);
    assert!(c.closed_within(Duration::from_secs(10)), "closed instead of answered");
    assert!(common::eventually(Duration::from_secs(5), || f.log().contains(
        "scheduled to be closed ASAP for overcoming of output buffer limits."
    )));
    assert_eq!(f.raw().cmd(&["PING"]), simple("PONG"));
}
