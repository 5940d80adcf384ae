//! Take a lock, do a little work under it, give it back.
//!
//! ```text
//! cargo run -p ferrite-locks --example lock_demo -- redis://127.0.0.1:6379/
//! ```
//!
//! Against Ferrite the work goes through `LOCK.FENCED` with the guard's fencing token; against any
//! other Redis-compatible server the lock is `SET NX PX` and the work is a plain command, done only
//! while the guard still holds the lock.

use std::time::Duration;

use ferrite_locks::{Error, Locker, Options};

fn main() -> Result<(), Error> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "redis://127.0.0.1:6379/".to_string());
    let client = redis::Client::open(url.as_str())?;
    let locker = Locker::new(
        client.clone(),
        Options {
            lease: Duration::from_secs(10),
            acquire_timeout: Duration::from_secs(5),
            ..Options::default()
        },
    )?;

    let guard = locker.acquire("lock_demo")?;
    println!("took lock '{}'", guard.name());
    let mut con = client.get_connection_with_timeout(Duration::from_secs(5))?;
    for step in 1..=3 {
        let count: i64 = match guard.token() {
            Some(token) => {
                println!("step {step}: fenced write under token {token}");
                guard.fenced(&mut con, redis::cmd("INCR").arg("lock_demo:count"))?
            }
            None if guard.is_held() => {
                // Portable mode: a paused process could get here after its lease; only fencing can
                // stop that write.
                println!("step {step}: plain write (no fencing tokens on this server)");
                redis::cmd("INCR").arg("lock_demo:count").query(&mut con)?
            }
            None => {
                println!("step {step}: lost the lock ({:?}), stopping", guard.lost());
                break;
            }
        };
        println!("  lock_demo:count = {count}");
    }
    let released = guard.release()?;
    println!("released: {released}");
    Ok(())
}
