//! Start-up, shutdown and the "never deaf" mechanism.

mod common;

use std::time::{Duration, Instant};

use common::{simple, Server};

#[test]
fn debug_sleep_queues_other_clients_like_redis() {
    let f = Server::ferrite(&[]);
    let mut sleeper = f.raw();
    let mut other = f.raw();
    sleeper.send(&["DEBUG", "SLEEP", "1"]);
    std::thread::sleep(Duration::from_millis(100));
    let start = Instant::now();
    // Redis is deaf during DEBUG SLEEP: the PING is queued and answered when the sleep ends.
    assert_eq!(other.cmd(&["PING"]), simple("PONG"));
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(600),
        "PING answered during the sleep ({waited:?})"
    );
    assert_eq!(sleeper.read(), simple("OK"));
}

#[test]
fn shutdown_sent_during_debug_sleep_runs_when_it_ends() {
    let mut f = Server::ferrite(&[]);
    let mut sleeper = f.raw();
    sleeper.send(&["DEBUG", "SLEEP", "1"]);
    std::thread::sleep(Duration::from_millis(200));
    let mut admin = f.raw();
    admin.send(&["SHUTDOWN", "NOSAVE"]);
    // Deaf while it sleeps (as Redis): the server is still there half a second later...
    assert!(
        f.wait_exit(Duration::from_millis(300)).is_none(),
        "exited during the sleep"
    );
    // ...and exits once the sleep is over.
    let status = f.wait_exit(Duration::from_secs(10)).expect("exit after the sleep");
    assert!(status.success());
}

#[test]
fn sigterm_shuts_down_cleanly() {
    let mut f = Server::ferrite(&[]);
    let mut c = f.raw();
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
    f.signal(libc::SIGTERM);
    let status = f.wait_exit(Duration::from_secs(10)).expect("exit after SIGTERM");
    assert!(status.success());
    let log = f.log();
    assert!(log.contains("Received SIGTERM scheduling shutdown..."), "{log}");
    assert!(log.contains("ready to exit, bye bye"), "{log}");
}

#[test]
fn start_up_log_lines() {
    let f = Server::ferrite(&["--always-show-logo", "yes"]);
    let log = f.log();
    assert!(log.contains(&format!("PID: {}", f.pid())), "{log}");
    assert!(log.contains("Server initialized"), "{log}");
    assert!(log.contains("Ready to accept connections"), "{log}");
}
