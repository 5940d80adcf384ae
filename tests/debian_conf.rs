//! The stock Debian `/etc/redis/redis.conf` (Redis 7.0) must load. A copy is kept in
//! tests/data so the test runs everywhere; the installed file is checked too when present.

use ferrite::config::Config;

/// Loads `text` with `dir` pointed at a directory that exists here (Debian's /var/lib/redis
/// may not) and returns the config and its log.
fn load(text: &str) -> (Config, Vec<String>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let text: String = text
        .lines()
        .map(|l| {
            if l.starts_with("dir ") {
                format!("dir {}", dir.path().display())
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let path = dir.path().join("redis.conf");
    std::fs::write(&path, text).expect("write");
    match Config::from_args(&[path.display().to_string()]) {
        Ok(r) => r,
        Err(e) => panic!("the Debian redis.conf must load:{e}"),
    }
}

#[test]
fn bundled_debian_redis_conf_loads() {
    let (c, log) = load(include_str!("data/debian-redis.conf"));
    assert_eq!(c.port, 6379);
    assert_eq!(c.bind, vec!["127.0.0.1", "-::1"]);
    assert!(c.daemonize);
    assert_eq!(c.pidfile, "/run/redis/redis-server.pid");
    assert_eq!(c.logfile, "/var/log/redis/redis-server.log");
    assert_eq!(c.client_output_buffer_limit.replica.hard_bytes, 256 << 20);
    assert!(!c.appendonly);
    for line in &log {
        assert!(line.contains("accepted because it changes nothing"), "{line}");
    }
}

#[test]
fn installed_debian_redis_conf_loads() {
    match std::fs::read_to_string("/etc/redis/redis.conf") {
        Ok(text) => {
            load(&text);
        }
        Err(e) => {
            if std::env::var("FERRITE_REQUIRE_REDIS").as_deref() == Ok("1") {
                panic!("/etc/redis/redis.conf: {e} (FERRITE_REQUIRE_REDIS=1)");
            }
            eprintln!("installed_debian_redis_conf_loads: skipped, /etc/redis/redis.conf: {e}");
        }
    }
}
