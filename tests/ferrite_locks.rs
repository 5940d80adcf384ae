//! The client crate `ferrite-locks` against real servers: Ferrite with fencing tokens (`Mode::Auto`
//! finds the LOCK.* commands), Ferrite in portable mode (`SET NX PX` and scripts), and, when installed,
//! a real `redis-server` (`Mode::Auto` falls back to portable). Twenty contenders never overlap; the
//! watchdog holds a lock past its lease; a lock taken away is noticed and fenced writes of its old holder
//! are refused; a late release does not free the next holder's lock.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::Server;
use ferrite_locks::{Error, FencingToken, Guard, Locker, Lost, Mode, Options};

/// A server and the mode the lockers use on it.
struct Target {
    server: Server,
    mode: Mode,
    /// Whether guards are expected to carry fencing tokens.
    fenced: bool,
}

impl Target {
    fn locker(&self, options: Options) -> Locker {
        let client = redis::Client::open(self.server.url()).expect("client");
        Locker::new(
            client,
            Options {
                mode: self.mode,
                ..options
            },
        )
        .expect("options")
    }

    fn describe(&self) -> String {
        let server = if self.fenced || self.mode == Mode::Portable {
            "ferrite"
        } else {
            "redis-server"
        };
        format!("{server} {:?}", self.mode)
    }
}

/// Run `scenario` on Ferrite (fenced), Ferrite in portable mode and, when installed, redis-server; each
/// on a server of its own.
fn on_each_target(test: &str, scenario: impl Fn(&Target)) {
    scenario(&Target {
        server: Server::ferrite(&[]),
        mode: Mode::Auto,
        fenced: true,
    });
    scenario(&Target {
        server: Server::ferrite(&[]),
        mode: Mode::Portable,
        fenced: false,
    });
    if common::redis_available(&format!("{test} (redis-server)")) {
        scenario(&Target {
            server: Server::redis(&[]),
            mode: Mode::Auto,
            fenced: false,
        });
    }
}

/// Short pauses between attempts, so contention tests run quickly; a long acquire timeout as the
/// deadline of every wait.
fn fast_retries() -> Options {
    Options {
        retry_delay: Duration::from_millis(1),
        retry_jitter: Duration::from_millis(5),
        acquire_timeout: Duration::from_secs(60),
        ..Options::default()
    }
}

fn short_lease(ms: u64) -> Options {
    Options {
        lease: Duration::from_millis(ms),
        ..fast_retries()
    }
}

/// Twenty threads, each with a locker of its own (as separate services would), take turns on one lock.
/// Inside, each appends "enter" and "leave" to a list on the server (through LOCK.FENCED when fenced)
/// and counts itself in and out here: turns never overlap, and fencing tokens grow in log order.
fn contend(t: &Target) {
    const CLIENTS: usize = 20;
    const TURNS: usize = 5;
    let what = t.describe();
    let inside = Arc::new(AtomicUsize::new(0));
    let overlaps = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let (inside, overlaps) = (inside.clone(), overlaps.clone());
            let locker = t.locker(Options {
                lease: Duration::from_secs(10),
                ..fast_retries()
            });
            let (mut con, fenced, what) = (t.server.conn(), t.fenced, what.clone());
            thread::spawn(move || {
                for _ in 0..TURNS {
                    let guard = locker.acquire("res").expect("acquire within the timeout");
                    assert_eq!(guard.token().is_some(), fenced, "{what}: {guard:?}");
                    if inside.fetch_add(1, Ordering::SeqCst) != 0 {
                        overlaps.fetch_add(1, Ordering::SeqCst);
                    }
                    let token = guard
                        .token()
                        .map_or("-".to_string(), |t| format!("{} {}", t.epoch, t.counter));
                    for step in ["enter", "leave"] {
                        let mut push = redis::cmd("RPUSH");
                        push.arg("log").arg(format!("{step} client-{i} {token}"));
                        let len: i64 = if fenced {
                            guard.fenced(&mut con, &push).expect("fenced RPUSH")
                        } else {
                            push.query(&mut con).expect("RPUSH")
                        };
                        assert!(len > 0);
                        if step == "enter" {
                            thread::sleep(Duration::from_millis(1));
                        }
                    }
                    inside.fetch_sub(1, Ordering::SeqCst);
                    assert!(guard.release().expect("release"), "{what}: lost a lock it held");
                }
            })
        })
        .collect();
    for th in threads {
        th.join().expect("contender");
    }
    assert_eq!(overlaps.load(Ordering::SeqCst), 0, "{what}: two holders at once");

    let log: Vec<String> = redis::cmd("LRANGE")
        .arg("log")
        .arg(0)
        .arg(-1)
        .query(&mut t.server.conn())
        .expect("log");
    assert_eq!(log.len(), CLIENTS * TURNS * 2, "{what}");
    let mut last: Option<FencingToken> = None;
    for pair in log.chunks(2) {
        let [enter, leave] = pair else {
            panic!("{what}: odd log")
        };
        let (e, l): (Vec<&str>, Vec<&str>) = (enter.split(' ').collect(), leave.split(' ').collect());
        assert_eq!((e[0], l[0]), ("enter", "leave"), "{what}: {pair:?}");
        assert_eq!(e[1..], l[1..], "{what}: another client wrote inside {pair:?}");
        if t.fenced {
            let token = FencingToken {
                epoch: e[2].parse().expect("epoch"),
                counter: e[3].parse().expect("counter"),
            };
            assert!(last < Some(token), "{what}: tokens must grow: {token} after {last:?}");
            last = Some(token);
        }
    }
}

#[test]
fn twenty_contenders_never_overlap() {
    on_each_target("twenty_contenders_never_overlap", contend);
}

/// Whether `f` stays true, asked every 10 ms for `within`.
fn throughout(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + within;
    while Instant::now() < end {
        if !f() {
            return false;
        }
        thread::sleep(Duration::from_millis(10));
    }
    true
}

/// The watchdog keeps a 300 ms lease alive for 1.2 s: nobody else gets the lock meanwhile; once it is
/// released, the next attempt gets it at once.
#[test]
fn the_watchdog_holds_a_lock_past_its_lease() {
    on_each_target("the_watchdog_holds_a_lock_past_its_lease", |t| {
        let what = t.describe();
        let holder = t
            .locker(short_lease(300))
            .try_acquire("res")
            .expect("acquire")
            .expect("free");
        let other = t.locker(fast_retries());
        let refused = throughout(Duration::from_millis(1200), || {
            holder.is_held() && other.try_acquire("res").expect("try").is_none()
        });
        assert!(
            refused,
            "{what}: the lock was lost or taken while its guard lived: {holder:?}"
        );
        assert!(holder.release().expect("release"), "{what}");
        let next = other.try_acquire("res").expect("try");
        assert!(
            next.is_some_and(|g| g.is_held()),
            "{what}: a released lock is free at once"
        );
    });
}

/// `acquire` gives up after its timeout with `Error::Timeout`; dropping a guard releases its lock.
#[test]
fn acquire_times_out_and_drop_releases() {
    on_each_target("acquire_times_out_and_drop_releases", |t| {
        let what = t.describe();
        let holder = t.locker(fast_retries()).acquire("res").expect("free");
        let impatient = t.locker(Options {
            acquire_timeout: Duration::from_millis(200),
            ..fast_retries()
        });
        let start = Instant::now();
        match impatient.acquire("res") {
            Err(Error::Timeout { name, waited }) => {
                assert_eq!(name, "res");
                assert!(waited >= Duration::from_millis(200), "{what}: {waited:?}");
            }
            other => panic!("{what}: expected a timeout, got {other:?}"),
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{what}: the timeout bounds the wait"
        );
        // Drop releases in the background, promptly.
        drop(holder);
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut taken = impatient.try_acquire("res").expect("try");
        while taken.is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
            taken = impatient.try_acquire("res").expect("try");
        }
        assert!(taken.is_some(), "{what}: drop released the lock");
    });
}

/// Take the lock away from under a holder: the watchdog's next renewal is refused and the guard says
/// so; the fenced write of the old holder is refused, the new holder's goes through.
#[test]
fn a_lost_lock_is_noticed() {
    on_each_target("a_lost_lock_is_noticed", |t| {
        let what = t.describe();
        let mut con = t.server.conn();
        let holder = t.locker(short_lease(600)).acquire("res").expect("free");
        assert!(holder.is_held(), "{what}");
        // Ferrite's locks are not keys: LOCK.DEL is what a replica applies for a release.
        let deleted: i64 = redis::cmd(if t.fenced { "LOCK.DEL" } else { "DEL" })
            .arg("res")
            .query(&mut con)
            .expect("delete the lock");
        assert_eq!(deleted, 1, "{what}");
        let next = t.locker(fast_retries()).acquire("res").expect("free again");
        assert!(
            common::eventually(Duration::from_secs(5), || !holder.is_held()),
            "{what}: the holder never noticed: {holder:?}"
        );
        assert_eq!(holder.lost(), Some(Lost::Taken), "{what}");

        let mut set = redis::cmd("SET");
        set.arg("resource").arg("from the old holder");
        match holder.fenced::<()>(&mut con, &set) {
            Err(Error::Stale(why)) => {
                assert!(t.fenced, "{what}");
                assert!(why.contains("another fencing token"), "{what}: {why}");
            }
            Err(Error::NotFenced(name)) => assert!(!t.fenced && name == "res", "{what}"),
            other => panic!("{what}: {other:?}"),
        }
        let exists: i64 = redis::cmd("EXISTS").arg("resource").query(&mut con).expect("EXISTS");
        assert_eq!(exists, 0, "{what}: the stale write must not run");
        if t.fenced {
            let mut set = redis::cmd("SET");
            set.arg("resource").arg("from the new holder");
            next.fenced::<()>(&mut con, &set).expect("the holder's fenced write");
            assert!(holder.token() < next.token(), "{what}");
            // Fenced commands in a transaction: the holder's runs, the old holder's is refused (the
            // redis crate reports the first error of an EXEC).
            let mut incr = redis::cmd("INCR");
            incr.arg("counter");
            let mut tx = redis::pipe();
            tx.atomic()
                .add_command(next.fenced_cmd(&incr).expect("fenced"))
                .add_command(holder.fenced_cmd(&incr).expect("fenced"));
            let exec: redis::RedisResult<Vec<i64>> = tx.query(&mut con);
            let err = Error::from(exec.expect_err("one command of the EXEC is refused"));
            assert!(err.is_stale(), "{what}: {err:?}");
            let counter: i64 = redis::cmd("GET").arg("counter").query(&mut con).expect("GET");
            assert_eq!(counter, 1, "{what}: only the holder's INCR ran");
        }
        assert!(!holder.release().expect("release"), "{what}: it held nothing");
        assert!(next.is_held(), "{what}");
    });
}

/// Without a watchdog a lease ends: another client takes the lock, and the first holder's release,
/// late, leaves the new holder's lock alone.
#[test]
fn a_late_release_does_not_free_the_next_holders_lock() {
    on_each_target("a_late_release_does_not_free_the_next_holders_lock", |t| {
        let what = t.describe();
        let first = t
            .locker(Options {
                watchdog: false,
                ..short_lease(200)
            })
            .acquire("res")
            .expect("free");
        let other = t.locker(fast_retries());
        let mut second: Option<Guard> = None;
        assert!(
            common::eventually(Duration::from_secs(5), || {
                second = other.try_acquire("res").expect("try");
                second.is_some()
            }),
            "{what}: the lease never ended"
        );
        // The first guard knew its lease was over before the server gave the lock away.
        assert!(!first.is_held(), "{what}: {first:?}");
        assert_eq!(first.lost(), Some(Lost::Expired), "{what}");
        assert!(!first.release().expect("late release"), "{what}: released nothing");
        assert!(
            other.try_acquire("res").expect("try").is_none(),
            "{what}: the second holder's lock must still be held"
        );
        assert!(second.is_some_and(|g| g.release().expect("release")), "{what}");
    });
}

/// `Mode::Fenced` needs the LOCK.* commands: refused on redis-server at once, with a clear error, where
/// `Mode::Auto` falls back to `SET NX PX`.
#[test]
fn fenced_mode_needs_ferrite_and_auto_falls_back() {
    let ferrite = Target {
        server: Server::ferrite(&[]),
        mode: Mode::Fenced,
        fenced: true,
    };
    let locker = ferrite.locker(fast_retries());
    assert!(locker.uses_fencing().expect("ask"));
    assert!(locker.acquire("res").expect("free").token().is_some());
    let portable = Target {
        mode: Mode::Portable,
        ..ferrite
    };
    assert!(!portable.locker(fast_retries()).uses_fencing().expect("ask"));

    if !common::redis_available("fenced_mode_needs_ferrite_and_auto_falls_back (redis-server)") {
        return;
    }
    let redis = Target {
        server: Server::redis(&[]),
        mode: Mode::Fenced,
        fenced: false,
    };
    let fenced = redis.locker(fast_retries());
    let start = Instant::now();
    let err = fenced.acquire("res").expect_err("redis-server has no LOCK.*");
    assert!(matches!(err, Error::Unsupported), "{err:?}");
    assert!(err.to_string().contains("does not offer fencing tokens"), "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "refused at once, not after retries"
    );
    assert!(matches!(fenced.try_acquire("res"), Err(Error::Unsupported)));

    let auto = Target {
        mode: Mode::Auto,
        ..redis
    };
    let locker = auto.locker(fast_retries());
    assert!(!locker.uses_fencing().expect("ask"));
    let guard = locker.acquire("res").expect("free");
    assert_eq!(guard.token(), None);
    let mut con = auto.server.conn();
    let ttl: i64 = redis::cmd("PTTL").arg("res").query(&mut con).expect("PTTL");
    assert!(ttl > 0 && ttl <= 30_000, "a SET NX PX key with the lease: {ttl}");
    assert!(matches!(
        guard.fenced::<()>(&mut con, &redis::cmd("PING")),
        Err(Error::NotFenced(_))
    ));
    assert!(guard.release().expect("release"));
    let exists: i64 = redis::cmd("EXISTS").arg("res").query(&mut con).expect("EXISTS");
    assert_eq!(exists, 0);
}

/// A server busy with a slow script answers BUSY to everything, the probe for LOCK.* included: acquire
/// waits it out (BUSY is transient) and then takes the lock with the protocol its mode asks for, never
/// deciding "no fencing" from a BUSY.
#[test]
fn acquire_waits_out_a_busy_server() {
    for (mode, fenced) in [(Mode::Auto, true), (Mode::Portable, false)] {
        let server = Server::ferrite(&["--busy-reply-threshold", "50"]);
        let mut runner = server.raw();
        // About a second of Lua on this machine; whatever it takes, acquire's deadline is longer.
        runner.send(&["EVAL", "local i = 0 while i < 100000000 do i = i + 1 end return i", "0"]);
        let mut probe = server.raw();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !matches!(probe.cmd(&["PING"]), common::Value::Error(e) if e.starts_with(b"BUSY")) {
            assert!(Instant::now() < deadline, "the server never became busy");
            thread::sleep(Duration::from_millis(5));
        }
        let target = Target { server, mode, fenced };
        let locker = target.locker(fast_retries());
        let guard = locker.acquire("res").expect("acquired once the script ended");
        assert_eq!(guard.token().is_some(), fenced, "{mode:?}: the protocol of the mode");
        assert_eq!(runner.read(), common::int(100_000_000), "the script ran to its end");
        assert!(guard.release().expect("release"));
    }
}
