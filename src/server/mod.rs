//! The server: one shard's event loop (accept, read, parse, execute, write), its cron and shutdown.
//!
//! The loop per iteration: wait for events (or the next cron tick), refresh the cached clock, serve every
//! ready socket (read all it has, execute every complete request, write the replies with one `write`),
//! re-run clients released from a block, flush output produced for other clients, then run the cron when
//! due. See docs/architecture.md.

pub mod aof;
pub mod blocking;
pub mod client;
pub mod core;
pub mod cron;
pub mod lazyfree;
pub mod listen;
pub mod load;
pub mod log;
pub mod net;
pub mod notify;
pub mod persist;
pub mod pubsub;
pub mod shard;
pub mod tracking;

use std::io::{self, ErrorKind};
use std::time::Duration;

use mio::{Events, Interest};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook_mio::v1_0::Signals;

use self::core::Core;
use self::net::{Net, NetSettings, SIGNAL_TOKEN};
use self::shard::Shard;
use crate::commands::host::ShutdownRequest;
use crate::config::Config;

/// How long a busy loop polls without sleeping before it blocks in `epoll_wait`. A request that arrives
/// within this window is served without a sleep and a wake-up, which on these VMs costs far more than the
/// spin (a cross-CPU wake-up is tens of microseconds). Measured side by side with redis-server at
/// pipeline 1, 50 clients: 10 µs raised requests/s from ~0.95x to ~1.04x of Redis's while server CPU per
/// request stayed at parity (0.94-1.03x across runs; 20 µs and 50 µs spent clearly more than Redis).
const BUSY_SPIN_US: i64 = 10;

pub struct Server {
    pub core: Core,
    pub net: Net,
    signals: Signals,
    events: Events,
    next_cron_ms: i64,
    pub cron_loops: u64,
    expire_state: cron::ExpireState,
    /// The last poll returned events: spin briefly before blocking (`BUSY_SPIN_US`).
    busy: bool,
}

/// Why the loop ended.
#[derive(Debug)]
pub enum Exit {
    Shutdown,
    /// The load at start-up failed (logged); the process exits with code 1.
    LoadFailed,
}

impl Server {
    pub fn new(config: Config) -> io::Result<Server> {
        let settings = NetSettings::from_config(&config);
        let net = Net::bind(&config.bind, config.port, settings)?;
        let mut core = Core::new(config, Box::new(crate::clock::SystemClock));
        core.memory_startup = crate::memory::used_memory();
        let mut signals = Signals::new([SIGTERM, SIGINT])?;
        net.poll
            .registry()
            .register(&mut signals, SIGNAL_TOKEN, Interest::READABLE)?;
        Ok(Server {
            core,
            net,
            signals,
            events: Events::with_capacity(1024),
            next_cron_ms: 0,
            cron_loops: 0,
            expire_state: cron::ExpireState::default(),
            busy: false,
        })
    }

    /// Run until shutdown.
    pub fn run(&mut self) -> Exit {
        loop {
            let timeout = self.poll_timeout();
            if !(self.busy && !timeout.is_zero() && self.spin_for_events()) {
                if let Err(e) = self.net.poll.poll(&mut self.events, Some(timeout)) {
                    if e.kind() != ErrorKind::Interrupted {
                        crate::log_warning!("poll failed: {e}");
                    }
                }
            }
            self.core.update_time();
            // The events are borrowed from `self` while serving needs `&mut self`: swap the buffer out.
            self.busy = !self.events.is_empty();
            // The batch is queued in `Net` rather than iterated here: a busy script serves what is
            // left of it (epoll reports each event once).
            self.net.queue_events(&self.events);
            while let Some(ev) = self.net.ready.pop_front() {
                if self.core.shutdown.is_some() {
                    // SHUTDOWN ran: nothing else is served before the server exits.
                    self.net.ready.clear();
                    break;
                }
                if ev.token == SIGNAL_TOKEN {
                    self.handle_signals();
                } else {
                    self.shard().serve_event(ev);
                }
            }
            let mut shard = self.shard();
            shard.expire_blocked();
            if !shard.net.closed.is_empty() {
                shard.after_command();
            }
            let signalled = shard.serve_pending();
            // What this iteration's writes put in the journal reaches the AOF (and, with `always`,
            // the disk) before any client hears of them.
            aof::flush(shard.core, false);
            shard.flush_pending_writes();
            if signalled {
                self.handle_signals();
            }
            let mut st = self.expire_state;
            cron::active_expire(&mut self.core, &mut st, cron::CycleKind::Fast);
            self.expire_state = st;
            if self.core.bgsave.is_some() {
                persist::bgsave_step(&mut self.core);
            }
            // A load in progress takes one budget per iteration; the events that arrived meanwhile
            // are served next time round (`server::load`).
            if self.core.load_job.is_some() {
                if let load::Outcome::Failed {
                    origin: load::Origin::Startup,
                    ..
                } = load::step(&mut self.core)
                {
                    return Exit::LoadFailed;
                }
            }
            if self.core.now_ms >= self.next_cron_ms {
                self.cron();
                let hz = self.core.config.hz.clamp(1, 500) as i64;
                self.next_cron_ms = self.core.now_ms + 1000 / hz;
            }
            // Messages published by the expiry cycle and the cron (keyspace events, invalidations) and the
            // iteration's BCAST invalidations go out before sleeping.
            if !self.core.pubsub.outbox.is_empty()
                || !self.core.tracking.pending.is_empty()
                || self.core.tracking.has_broadcasts()
            {
                aof::flush(&mut self.core, false);
                self.shard().deliver_before_sleep();
            }
            if let Some(req) = self.core.shutdown {
                if self.prepare_shutdown(req) {
                    return Exit::Shutdown;
                }
                self.core.shutdown = None;
            }
        }
    }

    /// Poll without sleeping for up to `BUSY_SPIN_US`; true if events arrived. Used only after an
    /// iteration that served events, so an idle server never spins (see docs/architecture.md).
    fn spin_for_events(&mut self) -> bool {
        let start = crate::clock::monotonic_us();
        loop {
            let _ = self.net.poll.poll(&mut self.events, Some(Duration::ZERO));
            if !self.events.is_empty() {
                return true;
            }
            if crate::clock::monotonic_us() - start >= BUSY_SPIN_US {
                return false;
            }
        }
    }

    fn poll_timeout(&self) -> Duration {
        if !self.net.pending.is_empty() || self.core.load_job.is_some() {
            return Duration::ZERO;
        }
        // A background save walks a slice per iteration: keep iterating while it has work.
        if persist::bgsave_busy(&self.core) {
            return Duration::from_millis(1);
        }
        let mut wake = self.next_cron_ms;
        if let Some(p) = self.core.pause {
            wake = wake.min(p.end_ms);
        }
        if let Some(d) = self.core.blocking.next_deadline() {
            wake = wake.min(d);
        }
        let ms = (wake - self.core.now_ms).clamp(0, 1000);
        Duration::from_millis(ms as u64)
    }

    fn handle_signals(&mut self) {
        for sig in self.signals.pending() {
            let name = if sig == SIGINT { "SIGINT" } else { "SIGTERM" };
            if self.core.shutdown.is_some() && sig == SIGINT {
                crate::log_warning!("You insist... exiting now.");
                std::process::exit(1);
            }
            if self.core.loading {
                crate::log_warning!("Received shutdown signal during loading, scheduling shutdown.");
            } else {
                crate::log_warning!("Received {name} scheduling shutdown...");
            }
            self.core.shutdown = Some(ShutdownRequest {
                signal: Some(sig),
                ..ShutdownRequest::default()
            });
        }
    }

    /// Both halves of the shard, for the paths that serve clients.
    fn shard(&mut self) -> Shard<'_> {
        Shard {
            core: &mut self.core,
            net: &mut self.net,
        }
    }

    /// Release every client blocked by CLIENT PAUSE (in the order they blocked).
    pub fn unpause(&mut self) {
        self.core.pause = None;
        self.net.release_paused();
    }

    /// Decide whether to exit (Redis's prepareForShutdown). Returns false if the shutdown was refused.
    fn prepare_shutdown(&mut self, req: ShutdownRequest) -> bool {
        prepare_shutdown(&mut self.core, req)
    }
}

/// Get ready to exit (Redis's prepareForShutdown). Returns false if the shutdown was refused. Also
/// called from a busy script's hook, where SHUTDOWN NOSAVE ends the process at once, as in Redis.
pub fn prepare_shutdown(core: &mut Core, mut req: ShutdownRequest) -> bool {
    // A signal (or a SHUTDOWN that has not saved yet) saves first when `save` points are set, as
    // Redis does; a background save in progress gives way to this final, foreground one.
    if !req.nosave && (req.save || !core.config.save.is_empty()) && !core.loading {
        if !req.announced {
            crate::log_warning!("User requested shutdown...");
            req.announced = true;
        }
        persist::abort_bgsave(core);
        crate::log_notice!("Saving the final RDB snapshot before exiting.");
        if persist::save(core).is_err() {
            if !req.force {
                crate::log_warning!("Error trying to save the DB, can't exit.");
                if req.signal.is_some() {
                    crate::log_warning!(
                        "SIGTERM received but errors trying to shut down the server, check the logs for more \
                         information"
                    );
                }
                return false;
            }
            crate::log_warning!("Error trying to save the DB. Exit anyway.");
        }
    }
    if !req.announced {
        crate::log_warning!("User requested shutdown...");
    }
    aof::on_shutdown(core);
    if !core.config.pidfile.is_empty() {
        crate::log_notice!("Removing the pid file.");
        let _ = std::fs::remove_file(&core.config.pidfile);
    }
    crate::log_warning!("Redis is now ready to exit, bye bye...");
    true
}

/// Fds Redis keeps for itself beyond the clients (CONFIG_MIN_RESERVED_FDS).
pub const RESERVED_FDS: u64 = 32;

/// Redis's adjustOpenFilesLimit: raise the open-files limit to fit `maxclients` plus the reserved
/// descriptors. Returns the number of clients the limit allows (`maxclients` when it could be raised
/// far enough), with Redis's log lines when it could not.
pub fn adjust_open_files_limit(maxclients: u32) -> u32 {
    let want = maxclients as u64 + RESERVED_FDS;
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        let e = io::Error::last_os_error();
        crate::log_warning!(
            "Unable to obtain the current NOFILE limit ({}), assuming 1024 and setting the max clients configuration \
             accordingly.",
            crate::config::io_strerror(&e)
        );
        return (1024 - RESERVED_FDS) as u32;
    }
    let old = lim.rlim_cur;
    if old >= want {
        return maxclients;
    }
    let try_set = |n: u64| {
        let l = libc::rlimit {
            rlim_cur: n,
            rlim_max: n.max(lim.rlim_max),
        };
        // SAFETY: setrlimit reads the struct we pass.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &l) } == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    };
    let mut error = None;
    let best = match try_set(want) {
        Ok(()) => want,
        Err(e) => {
            error = Some(e);
            // Redis steps down by 16 from `want`; find the highest such value that works by bisection.
            let steps = (want - old).div_ceil(16);
            let (mut lo, mut hi) = (1u64, steps);
            let mut found = old;
            while lo <= hi {
                let mid = lo + (hi - lo) / 2;
                let cand = want - 16 * mid;
                if cand > old && try_set(cand).is_ok() {
                    found = cand;
                    hi = mid - 1;
                } else {
                    lo = mid + 1;
                }
            }
            if found > old {
                let _ = try_set(found);
            }
            found
        }
    };
    if best < want {
        let reduced = best.saturating_sub(RESERVED_FDS) as u32;
        crate::log_warning!("You requested maxclients of {maxclients} requiring at least {want} max file descriptors.");
        if let Some(e) = error {
            crate::log_warning!(
                "Server can't set maximum open files to {want} because of OS error: {}.",
                crate::config::io_strerror(&e)
            );
        }
        crate::log_warning!(
            "Current maximum open files is {best}. maxclients has been reduced to {reduced} to compensate for low \
             ulimit. If you need higher maxclients increase 'ulimit -n'."
        );
        return reduced;
    }
    crate::log_notice!("Increased maximum number of open files to {want} (it was originally set to {old}).");
    maxclients
}
