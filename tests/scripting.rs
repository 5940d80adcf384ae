//! Lua scripting (EVAL, EVALSHA, the _RO forms, SCRIPT), black-box and against a real `redis-server`:
//! hundreds of scripts compared reply for reply (conversions both ways in RESP2 and RESP3, error texts
//! with their script and line, pcall's error values, the sandbox, shebang flags); then what needs two
//! clients or a clock: runaway scripts (BUSY, SCRIPT KILL, UNKILLABLE, SHUTDOWN NOSAVE), a blocked client
//! left alone by a busy script, many clients incrementing through a script, and sandbox probes that must
//! not bring the server down.

mod common;

use std::time::{Duration, Instant};

use common::cases::{case_file, Duo};
use common::diff::show;
use common::{bulk, err, int, simple, Raw, Server, Value};

#[test]
fn scripts_answer_as_redis() {
    let Some(mut d) = Duo::for_test("scripts_answer_as_redis", &[]) else {
        return;
    };
    let cases = case_file(include_str!("data/scripts_vs_redis.txt"));
    assert!(cases.len() >= 8 && cases.iter().map(|(_, b)| b.lines().count()).sum::<usize>() > 300);
    d.run_cases(&cases);
    d.finish("scripts_answer_as_redis");
}

/// The counters INFO shows for a script's errors, without the times: calls, rejected and failed calls
/// of each command, the error totals.
fn error_counters(info: &Value) -> Vec<String> {
    let Value::Bulk(text) = info else {
        return vec![format!("not a bulk: {info:?}")];
    };
    String::from_utf8_lossy(text)
        .lines()
        .filter(|l| l.starts_with("cmdstat_") || l.starts_with("errorstat_") || l.starts_with("total_error_replies"))
        .map(|l| {
            l.split(',')
                .filter(|f| !f.starts_with("usec"))
                .collect::<Vec<_>>()
                .join(",")
        })
        .filter(|l| !l.starts_with("cmdstat_config") && !l.starts_with("cmdstat_info"))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// A script's commands refused by the server's checks count as errors when refused (and as rejected
/// calls of the command), not again when the script returns them; those refused by the Lua library
/// (no arguments) count only if returned. The script's own call fails only by errors after that.
#[test]
fn script_errors_are_counted_as_redis_counts_them() {
    let Some(mut d) = Duo::for_test("script_errors_are_counted_as_redis_counts_them", &[]) else {
        return;
    };
    for script in [
        "local r = redis.pcall('get') return 1",
        "local r = redis.pcall('nosuch') return 1",
        "local r = redis.pcall('get') return r",
        "return redis.call('get')",
        "return redis.pcall()",
        "local r = redis.pcall() return 1",
        "return redis.pcall('eval', 'return 1', 0)",
        "redis.pcall('set','s','abc') local r = redis.pcall('incr','s') return 1",
        "redis.pcall('set','s','abc') return redis.pcall('incr','s')",
        "return {err='x'}",
        "local t = redis.pcall('get') return {err='y'}",
        "return {err='x y'}",
        "return {err='-x y'}",
        "return {err='a_code_that_is_longer_than_thirty_one_bytes y'}",
        "return redis.error_reply('x')",
    ] {
        d.both(&["CONFIG", "RESETSTAT"]);
        d.exact(&["EVAL", script, "0"]);
        for section in ["commandstats", "errorstats", "stats"] {
            let Some((ours, theirs)) = d.both(&["INFO", section]) else {
                continue;
            };
            let (ours, theirs) = (error_counters(&ours), error_counters(&theirs));
            if ours != theirs {
                d.fail(format!(
                    "{script}: INFO {section}\n  ferrite: {ours:?}\n  redis:   {theirs:?}"
                ));
            }
        }
    }
    d.finish("script_errors_are_counted_as_redis_counts_them");
}

#[test]
fn math_random_follows_redis_s_sequence() {
    let Some(mut d) = Duo::for_test("math_random_follows_redis_s_sequence", &[]) else {
        return;
    };
    d.run_cases(&[(
        "rand48 from a fresh server, across scripts and SCRIPT FLUSH",
        r#"
        = EVAL "return tostring(math.random())" 0
        = EVAL "return {math.random(100), math.random(5, 10)}" 0
        = SCRIPT FLUSH
        = EVAL "return tostring(math.random())" 0
        = EVAL "math.randomseed(42) return {math.random(1000), math.random(1000)}" 0
        = EVAL "return math.random(0)" 0
        = EVAL "return math.random(3, 1)" 0
        "#,
    )]);
    d.finish("math_random_follows_redis_s_sequence");
}

/// Start a script that loops until killed, wait until the server answers BUSY, return its connection.
fn start_busy(f: &Server, script: &str) -> Raw {
    let mut runner = f.raw();
    runner.send(&["EVAL", script, "0"]);
    let mut probe = f.raw();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match probe.cmd(&["PING"]) {
            Value::Error(e) if e.starts_with(b"BUSY") => return runner,
            _ if Instant::now() > deadline => panic!("the server never became busy"),
            _ => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

const BUSY_EVAL: &str = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";

#[test]
fn a_runaway_script_gets_busy_then_killed() {
    let f = Server::ferrite(&["--busy-reply-threshold", "50"]);
    let mut blocked = f.raw();
    blocked.send(&["BLPOP", "wake", "0"]);
    let mut runner = start_busy(&f, "local i = 0 while true do i = i + 1 end");
    let mut other = f.raw();
    assert_eq!(other.cmd(&["GET", "x"]), err(BUSY_EVAL));
    // Transactions: MULTI is allowed, a command queued meanwhile is refused, and EXEC aborts.
    assert_eq!(other.cmd(&["MULTI"]), simple("OK"));
    assert_eq!(other.cmd(&["SET", "x", "1"]), err(BUSY_EVAL));
    assert_eq!(
        other.cmd(&["EXEC"]),
        err(&format!("EXECABORT Transaction discarded because of: {BUSY_EVAL}"))
    );
    // A saving SHUTDOWN is refused while busy; so is FUNCTION STATS while an EVAL script is the one
    // running (it answers while a function is).
    assert_eq!(other.cmd(&["SHUTDOWN"]), err(BUSY_EVAL));
    assert_eq!(other.cmd(&["FUNCTION", "STATS"]), err(BUSY_EVAL));
    assert_eq!(other.cmd(&["SCRIPT", "KILL"]), simple("OK"));
    match runner.read() {
        Value::Error(e) => assert!(
            e.starts_with(b"ERR Script killed by user with SCRIPT KILL... script: "),
            "{}",
            String::from_utf8_lossy(&e)
        ),
        other => panic!("the killed script answered {}", show(&other)),
    }
    assert_eq!(other.cmd(&["PING"]), simple("PONG"));
    assert_eq!(
        other.cmd(&["SCRIPT", "KILL"]),
        err("NOTBUSY No scripts in execution right now.")
    );
    // The client blocked before the script is still blocked, and is served now.
    assert_eq!(other.cmd(&["RPUSH", "wake", "v"]), int(1));
    assert_eq!(blocked.read(), Value::Array(vec![bulk("wake"), bulk("v")]));
}

#[test]
fn a_script_looping_inside_pcall_is_killed_too() {
    let f = Server::ferrite(&["--busy-reply-threshold", "50"]);
    let mut runner = start_busy(
        &f,
        "while true do pcall(function() while true do end end) xpcall(function() while true do end end, \
         function(e) return e end) end",
    );
    let mut other = f.raw();
    assert_eq!(other.cmd(&["SCRIPT", "KILL"]), simple("OK"));
    assert!(matches!(runner.read(), Value::Error(e) if e.starts_with(b"ERR Script killed")));
    assert_eq!(other.cmd(&["PING"]), simple("PONG"));
}

#[test]
fn a_script_that_wrote_cannot_be_killed_and_shutdown_nosave_ends_it() {
    let mut f = Server::ferrite(&["--busy-reply-threshold", "50"]);
    let _runner = start_busy(&f, "redis.call('set', 'w', '1') while true do end");
    let mut other = f.raw();
    assert_eq!(
        other.cmd(&["SCRIPT", "KILL"]),
        err(
            "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either \
             wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."
        )
    );
    other.send(&["SHUTDOWN", "NOSAVE"]);
    let status = f
        .wait_exit(Duration::from_secs(10))
        .expect("SHUTDOWN NOSAVE ends a busy server");
    assert!(status.success());
}

#[test]
fn fifty_clients_increment_one_counter_through_a_script() {
    let f = Server::ferrite(&[]);
    let script = "local n = tonumber(redis.call('get', KEYS[1]) or '0') redis.call('set', KEYS[1], n + 1) return n + 1";
    let (clients, each) = (50, 40);
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let port = f.port;
            std::thread::spawn(move || {
                let mut c = Raw::connect(port);
                for _ in 0..each {
                    assert!(matches!(c.cmd(&["EVAL", script, "1", "counter"]), Value::Int(_)));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("client thread");
    }
    assert_eq!(f.raw().cmd(&["GET", "counter"]), bulk(&(clients * each).to_string()));
}

#[test]
fn sandbox_probes_fail_without_harm() {
    let f = Server::ferrite(&[]);
    let mut c = f.raw();
    let refused = [
        ("return os.time()", "nonexistent global variable 'os'"),
        ("return io.open('/etc/passwd')", "nonexistent global variable 'io'"),
        ("return require('os')", "nonexistent global variable 'require'"),
        ("return dofile('/etc/passwd')", "nonexistent global variable 'dofile'"),
        (
            "return loadfile('/etc/passwd')",
            "nonexistent global variable 'loadfile'",
        ),
        ("return debug.getinfo(1)", "nonexistent global variable 'debug'"),
        ("return package.loaded", "nonexistent global variable 'package'"),
        ("return getfenv(1)", "nonexistent global variable 'getfenv'"),
        ("x = 1", "Attempt to modify a readonly table"),
        ("redis.call = nil", "Attempt to modify a readonly table"),
        ("string.rep = nil", "Attempt to modify a readonly table"),
        ("rawset(_G, 'x', 1)", "Attempt to modify a readonly table"),
        ("setmetatable(_G, nil)", "Attempt to modify a readonly table"),
        ("getmetatable('').__index = {}", "Attempt to modify a readonly table"),
        ("getmetatable(_G).__index = nil", "Attempt to modify a readonly table"),
        ("table.insert(cjson, 1)", "Attempt to modify a readonly table"),
        ("return unpack({}, 1, 1e8)", "too many results to unpack"),
        ("local function f(n) return 1 + f(n) end return f(1)", "stack overflow"),
        (
            "local s = string.rep('x', 2^20) local t = {} for i = 1, 2000 do t[i] = s .. i end",
            "not enough memory",
        ),
    ];
    for (script, expect) in refused {
        match c.cmd(&["EVAL", script, "0"]) {
            Value::Error(e) => assert!(
                String::from_utf8_lossy(&e).contains(expect),
                "{script}: {}",
                String::from_utf8_lossy(&e)
            ),
            other => panic!("{script}: {}", show(&other)),
        }
    }
    // No bytecode, whatever the route.
    let binary = "return loadstring(string.dump(function() return 1 end))";
    assert_eq!(c.cmd(&["EVAL", binary, "0"]), Value::NullBulk);
    let reader = "local d = string.dump(function() return 1 end) local done = false \
                  return load(function() if done then return nil end done = true return d end)";
    assert_eq!(c.cmd(&["EVAL", reader, "0"]), Value::NullBulk);
    // Deep structures: a self-referencing table (answered as Redis does, down to where its Lua stack
    // ends), deep JSON.
    let nested = raw_reply(&mut c, &["EVAL", "local t = {} t[1] = t return t", "0"]);
    assert_eq!(nested.matches("*1\r\n").count(), 7995);
    assert!(nested.ends_with("-ERR reached lua stack limit\r\n"));
    let deep = "return cjson.decode(string.rep('[', 100000) .. string.rep(']', 100000))";
    assert!(matches!(c.cmd(&["EVAL", deep, "0"]), Value::Error(_)));
    // The server is fine, and a globals-clean VM answers the next script.
    assert_eq!(c.cmd(&["EVAL", "return redis.call('ping')", "0"]), simple("PONG"));
    assert_eq!(c.cmd(&["EVAL", "return type(redis.call)", "0"]), bulk("function"));
}

/// A reply too deep for the test parser, as text: everything the server sends until it pauses.
fn raw_reply(c: &mut Raw, args: &[&str]) -> String {
    use std::io::Read;
    c.send(args);
    let mut text = vec![];
    let mut chunk = [0u8; 65536];
    c.stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    while let Ok(n) = c.stream.read(&mut chunk) {
        if n == 0 {
            break;
        }
        text.extend_from_slice(&chunk[..n]);
    }
    c.stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    String::from_utf8(text).expect("utf8")
}

#[test]
fn monitor_shows_the_script_then_its_commands() {
    let f = Server::ferrite(&[]);
    let mut m = f.raw();
    assert_eq!(m.cmd(&["MONITOR"]), simple("OK"));
    let mut c = f.raw();
    c.cmd(&["EVAL", "redis.call('set', 'a', '1') return redis.call('get', 'a')", "0"]);
    let lines: Vec<String> = (0..3)
        .map(|_| match m.read() {
            Value::Simple(s) => String::from_utf8(s).expect("utf8"),
            other => panic!("monitor: {}", show(&other)),
        })
        .collect();
    assert!(lines[0].contains("\"EVAL\""), "{lines:?}");
    assert!(lines[1].ends_with("[0 lua] \"set\" \"a\" \"1\""), "{lines:?}");
    assert!(lines[2].ends_with("[0 lua] \"get\" \"a\""), "{lines:?}");
}
