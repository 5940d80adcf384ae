//! Big values are freed off the event loop when Redis would free them lazily: UNLINK, FLUSHALL ASYNC,
//! and, under the `lazyfree-lazy-*` directives, DEL, overwrites and expiry.

mod common;

use std::time::Duration;

use common::{eventually, int, simple, Raw, Server, Value};

/// Push `n` elements into a list in batches (a list of many nodes: freeing it is expensive).
fn big_list(c: &mut Raw, key: &str, n: usize) {
    let mut pushed = 0;
    while pushed < n {
        let mut args = vec!["RPUSH".to_string(), key.to_string()];
        args.extend((0..1000).map(|i| format!("element-{}", pushed + i)));
        pushed += 1000;
        assert_eq!(c.cmd(&args), int(pushed as i64));
    }
}

fn lazyfreed(c: &mut Raw) -> u64 {
    let Value::Bulk(info) = c.cmd(&["INFO", "memory"]) else {
        panic!("INFO is not a bulk string")
    };
    let text = String::from_utf8_lossy(&info).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix("lazyfreed_objects:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("lazyfreed_objects in INFO memory")
}

#[test]
fn overwrite_of_a_big_list_is_freed_in_the_background_under_lazy_server_del() {
    let f = Server::ferrite(&["--lazyfree-lazy-server-del", "yes"]);
    let mut c = f.raw();
    big_list(&mut c, "big", 100_000);
    assert_eq!(lazyfreed(&mut c), 0);
    assert_eq!(c.cmd(&["SET", "big", "small"]), simple("OK"));
    assert!(eventually(Duration::from_secs(20), || lazyfreed(&mut c) == 1));
    assert_eq!(c.cmd(&["GET", "big"]), common::bulk("small"));
}

#[test]
fn without_the_directive_an_overwrite_frees_in_place() {
    let f = Server::ferrite(&[]);
    let mut c = f.raw();
    big_list(&mut c, "big", 100_000);
    assert_eq!(c.cmd(&["SET", "big", "small"]), simple("OK"));
    assert_eq!(lazyfreed(&mut c), 0);
}

#[test]
fn del_honours_lazy_user_del_and_unlink_is_always_lazy() {
    let f = Server::ferrite(&["--lazyfree-lazy-user-del", "yes"]);
    let mut c = f.raw();
    big_list(&mut c, "a", 100_000);
    big_list(&mut c, "b", 100_000);
    assert_eq!(c.cmd(&["DEL", "a"]), int(1));
    assert!(eventually(Duration::from_secs(20), || lazyfreed(&mut c) == 1));
    assert_eq!(c.cmd(&["UNLINK", "b"]), int(1));
    assert!(eventually(Duration::from_secs(20), || lazyfreed(&mut c) == 2));
    // A small value is cheap to free: freed in place even by UNLINK.
    assert_eq!(c.cmd(&["RPUSH", "small", "x"]), int(1));
    assert_eq!(c.cmd(&["UNLINK", "small"]), int(1));
    assert_eq!(lazyfreed(&mut c), 2);
}

#[test]
fn expired_big_values_are_freed_in_the_background_under_lazy_expire() {
    let f = Server::ferrite(&["--lazyfree-lazy-expire", "yes"]);
    let mut c = f.raw();
    for k in ["read", "cycle", "past"] {
        big_list(&mut c, k, 100_000);
    }
    assert_eq!(c.cmd(&["PEXPIRE", "read", "1"]), int(1));
    std::thread::sleep(Duration::from_millis(5));
    // Expired on access.
    assert_eq!(c.cmd(&["EXISTS", "read"]), int(0));
    assert!(eventually(Duration::from_secs(20), || lazyfreed(&mut c) == 1));
    // A deadline already past.
    assert_eq!(c.cmd(&["EXPIRE", "past", "-1"]), int(1));
    assert!(eventually(Duration::from_secs(20), || lazyfreed(&mut c) == 2));
    // Nobody reads it: the active cycle expires it.
    assert_eq!(c.cmd(&["PEXPIRE", "cycle", "1"]), int(1));
    assert!(eventually(Duration::from_secs(20), || lazyfreed(&mut c) == 3));
    assert_eq!(c.cmd(&["DBSIZE"]), int(0));
}

#[test]
fn without_lazy_expire_an_expired_big_value_is_freed_in_place() {
    let f = Server::ferrite(&[]);
    let mut c = f.raw();
    big_list(&mut c, "big", 100_000);
    assert_eq!(c.cmd(&["EXPIRE", "big", "-1"]), int(1));
    assert_eq!(c.cmd(&["DBSIZE"]), int(0));
    assert_eq!(lazyfreed(&mut c), 0);
}
