//! INFO [section ...]: Redis 7.0's sections and field names, with the values Ferrite really has.
//!
//! Every field a Redis 7.0 server reports is reported here under the same name, in the same order
//! (`tests/info.rs` compares the names with a live `redis-server`). A field about a subsystem that is
//! not built yet reports what an idle Redis without it reports (no fork, no save, no replica, no
//! script: zeros, `-1`, `ok`). Ferrite adds `ferrite_version` at the end of the server section.

use std::fmt::Write as _;

use resp::ReplyBuf;

use super::host::NetStats;
use super::introspection::memory;
use super::{table, Args, Ctx};
use crate::error::CmdResult;
use crate::server::core::Core;

/// Sections in output order, and whether `default` includes each.
const SECTIONS: &[(&str, bool)] = &[
    ("server", true),
    ("clients", true),
    ("memory", true),
    ("persistence", true),
    ("stats", true),
    ("replication", true),
    ("cpu", true),
    ("modules", true),
    ("commandstats", false),
    ("errorstats", true),
    ("latencystats", false),
    ("cluster", true),
    ("keyspace", true),
];

/// Which sections a list of INFO arguments selects (unknown names select nothing, as in Redis).
pub fn selected_sections<'a>(args: impl Iterator<Item = &'a [u8]>) -> Vec<&'static str> {
    let mut want = [false; SECTIONS.len()];
    let mut any = false;
    for a in args {
        any = true;
        let a = a.to_ascii_lowercase();
        match a.as_slice() {
            b"all" | b"everything" => want = [true; SECTIONS.len()],
            b"default" => {
                for (w, (_, d)) in want.iter_mut().zip(SECTIONS) {
                    *w |= *d;
                }
            }
            name => {
                if let Some(i) = SECTIONS.iter().position(|(n, _)| n.as_bytes() == name) {
                    want[i] = true;
                }
            }
        }
    }
    if !any {
        for (w, (_, d)) in want.iter_mut().zip(SECTIONS) {
            *w = *d;
        }
    }
    SECTIONS
        .iter()
        .zip(want)
        .filter(|(_, w)| *w)
        .map(|((n, _), _)| *n)
        .collect()
}

/// INFO [section [section ...]]
pub fn info(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let sections = selected_sections(args.rest(1));
    let text = render(ctx, &sections);
    out.verbatim(b"txt", text.as_bytes());
    Ok(())
}

/// Redis's bytesToHuman.
pub fn human_bytes(n: u64) -> String {
    let d = n as f64;
    const K: f64 = 1024.0;
    if n < 1024 {
        format!("{n}B")
    } else if d < K * K {
        format!("{:.2}K", d / K)
    } else if d < K * K * K {
        format!("{:.2}M", d / (K * K))
    } else if d < K * K * K * K {
        format!("{:.2}G", d / (K * K * K))
    } else if d < K * K * K * K * K {
        format!("{:.2}T", d / (K * K * K * K))
    } else if d < K * K * K * K * K * K {
        format!("{:.2}P", d / (K * K * K * K * K))
    } else {
        format!("{n}B")
    }
}

/// `name:value\r\n` lines, written with `line!(s, "name", value)`.
macro_rules! line {
    ($s:expr, $name:expr, $($v:tt)+) => {{
        let _ = write!($s, "{}:", $name);
        let _ = write!($s, $($v)+);
        $s.push_str("\r\n");
    }};
}

fn render(ctx: &mut Ctx<'_>, sections: &[&str]) -> String {
    let mut s = String::with_capacity(4096);
    let net = ctx.host.as_deref().map(|h| h.stats()).unwrap_or_default();
    for (i, name) in sections.iter().enumerate() {
        if i > 0 {
            s.push_str("\r\n");
        }
        match *name {
            "server" => server(&mut s, ctx.core, &net),
            "clients" => clients(&mut s, ctx),
            "memory" => memory(&mut s, ctx),
            "persistence" => persistence(&mut s, ctx.core),
            "stats" => stats(&mut s, ctx.core, &net),
            "replication" => replication(&mut s, ctx.core),
            "cpu" => cpu(&mut s),
            "modules" => s.push_str("# Modules\r\n"),
            "commandstats" => commandstats(&mut s, ctx.core),
            "errorstats" => errorstats(&mut s, ctx.core),
            "latencystats" => latencystats(&mut s, ctx.core),
            "cluster" => {
                s.push_str("# Cluster\r\n");
                line!(s, "cluster_enabled", "{}", ctx.core.config.cluster_enabled as i32);
            }
            "keyspace" => keyspace(&mut s, ctx.core),
            _ => {}
        }
    }
    s
}

fn uname() -> String {
    // SAFETY: uname fills the struct we own; its fields are NUL-terminated C strings.
    unsafe {
        let mut u: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut u) != 0 {
            return "Linux".into();
        }
        let f = |a: &[libc::c_char]| std::ffi::CStr::from_ptr(a.as_ptr()).to_string_lossy().into_owned();
        format!("{} {} {}", f(&u.sysname), f(&u.release), f(&u.machine))
    }
}

/// A stable build identifier (Redis prints a hash of its build; ours hashes the version).
fn build_id() -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in concat!("ferrite-", env!("CARGO_PKG_VERSION")).bytes() {
        h = (h ^ b as u64).wrapping_mul(0x100000001b3);
    }
    format!("{h:x}")
}

fn server(s: &mut String, core: &Core, net: &NetStats) {
    let cfg = &core.config;
    let uptime = core.uptime_s();
    s.push_str("# Server\r\n");
    line!(s, "redis_version", "{}", crate::config::REDIS_VERSION);
    line!(s, "redis_git_sha1", "00000000");
    line!(s, "redis_git_dirty", "0");
    line!(s, "redis_build_id", "{}", build_id());
    line!(s, "redis_mode", "standalone");
    line!(s, "os", "{}", uname());
    line!(s, "arch_bits", "{}", usize::BITS);
    line!(s, "monotonic_clock", "POSIX clock_gettime");
    line!(s, "multiplexing_api", "epoll");
    line!(s, "atomicvar_api", "c11-builtin");
    // Not built by gcc: Redis prints 0.0.0 in that case.
    line!(s, "gcc_version", "0.0.0");
    line!(s, "process_id", "{}", std::process::id());
    line!(s, "process_supervised", "no");
    line!(s, "run_id", "{}", core.run_id);
    let port = net.tcp_port.unwrap_or(cfg.port);
    line!(s, "tcp_port", "{port}");
    line!(s, "server_time_usec", "{}", core.now_us);
    line!(s, "uptime_in_seconds", "{uptime}");
    line!(s, "uptime_in_days", "{}", uptime / 86400);
    line!(s, "hz", "{}", cfg.hz);
    line!(s, "configured_hz", "{}", cfg.hz);
    line!(s, "lru_clock", "{}", core.lru_clock);
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    line!(s, "executable", "{exe}");
    let conf = cfg.config_file().map(|p| p.display().to_string()).unwrap_or_default();
    line!(s, "config_file", "{conf}");
    line!(s, "io_threads_active", "0");
    line!(s, "ferrite_version", "{}", env!("CARGO_PKG_VERSION"));
}

fn clients(s: &mut String, ctx: &Ctx<'_>) {
    let (mut max_in, mut max_out, mut blocked) = (0, 0, 0);
    for c in ctx.all_clients() {
        max_in = max_in.max(c.qbuf.len());
        max_out = max_out.max(c.pending_output());
        blocked += c.blocked.is_some() as usize;
    }
    let connected = ctx.host.as_deref().map_or(1, |h| h.stats().connected);
    s.push_str("# Clients\r\n");
    line!(s, "connected_clients", "{connected}");
    line!(s, "cluster_connections", "0");
    line!(s, "maxclients", "{}", ctx.core.config.maxclients);
    line!(s, "client_recent_max_input_buffer", "{max_in}");
    line!(s, "client_recent_max_output_buffer", "{max_out}");
    line!(s, "blocked_clients", "{blocked}");
    line!(s, "tracking_clients", "{}", ctx.core.tracking.clients());
    line!(
        s,
        "clients_in_timeout_table",
        "{}",
        ctx.core.blocking.in_timeout_table()
    );
}

/// Resident set size from /proc (Redis's zmalloc_get_rss).
pub fn rss_bytes() -> u64 {
    let Ok(statm) = std::fs::read_to_string("/proc/self/statm") else {
        return 0;
    };
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no memory effects.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(0) as u64;
    pages * page
}

fn total_system_memory() -> u64 {
    // SAFETY: sysconf has no memory effects.
    let (pages, page) = unsafe { (libc::sysconf(libc::_SC_PHYS_PAGES), libc::sysconf(libc::_SC_PAGESIZE)) };
    (pages.max(0) as u64) * (page.max(0) as u64)
}

fn memory(s: &mut String, ctx: &mut Ctx<'_>) {
    let m = memory::Overhead::measure(ctx);
    let core = &*ctx.core;
    let (used, rss, peak, startup, overhead) = (m.used, m.rss, m.peak, m.startup, m.total);
    let (allocated, active, resident) = (m.allocated, m.active, m.resident);
    let clients_mem = m.clients_normal;
    let dataset = m.dataset();
    let maxmemory = core.config.maxmemory;
    s.push_str("# Memory\r\n");
    line!(s, "used_memory", "{used}");
    line!(s, "used_memory_human", "{}", human_bytes(used));
    line!(s, "used_memory_rss", "{rss}");
    line!(s, "used_memory_rss_human", "{}", human_bytes(rss));
    line!(s, "used_memory_peak", "{peak}");
    line!(s, "used_memory_peak_human", "{}", human_bytes(peak));
    line!(s, "used_memory_peak_perc", "{:.2}%", m.peak_perc());
    line!(s, "used_memory_overhead", "{overhead}");
    line!(s, "used_memory_startup", "{startup}");
    line!(s, "used_memory_dataset", "{dataset}");
    line!(s, "used_memory_dataset_perc", "{:.2}%", m.dataset_perc());
    line!(s, "allocator_allocated", "{allocated}");
    line!(s, "allocator_active", "{active}");
    line!(s, "allocator_resident", "{resident}");
    let sysmem = total_system_memory();
    line!(s, "total_system_memory", "{sysmem}");
    line!(s, "total_system_memory_human", "{}", human_bytes(sysmem));
    let lua = memory::ScriptMemory::measure(core);
    line!(s, "used_memory_lua", "{}", lua.vm_eval);
    line!(s, "used_memory_vm_eval", "{}", lua.vm_eval);
    line!(s, "used_memory_lua_human", "{}", human_bytes(lua.vm_eval));
    line!(s, "used_memory_scripts_eval", "{}", lua.scripts_eval);
    line!(s, "number_of_cached_scripts", "{}", lua.cached_scripts);
    line!(s, "number_of_functions", "{}", lua.functions);
    line!(s, "number_of_libraries", "{}", lua.libraries);
    line!(s, "used_memory_vm_functions", "{}", lua.vm_functions);
    line!(s, "used_memory_vm_total", "{}", lua.vm_eval + lua.vm_functions);
    line!(
        s,
        "used_memory_vm_total_human",
        "{}",
        human_bytes(lua.vm_eval + lua.vm_functions)
    );
    line!(s, "used_memory_functions", "{}", lua.functions_code);
    line!(s, "used_memory_scripts", "{}", lua.scripts_eval + lua.functions_code);
    line!(
        s,
        "used_memory_scripts_human",
        "{}",
        human_bytes(lua.scripts_eval + lua.functions_code)
    );
    line!(s, "maxmemory", "{maxmemory}");
    line!(s, "maxmemory_human", "{}", human_bytes(maxmemory));
    line!(s, "maxmemory_policy", "{}", core.config.maxmemory_policy.name());
    line!(s, "allocator_frag_ratio", "{:.2}", memory::ratio(active, allocated));
    line!(s, "allocator_frag_bytes", "{}", active as i64 - allocated as i64);
    line!(s, "allocator_rss_ratio", "{:.2}", memory::ratio(resident, active));
    line!(s, "allocator_rss_bytes", "{}", resident as i64 - active as i64);
    line!(s, "rss_overhead_ratio", "{:.2}", memory::ratio(rss, resident));
    line!(s, "rss_overhead_bytes", "{}", rss as i64 - resident as i64);
    line!(s, "mem_fragmentation_ratio", "{:.2}", memory::ratio(rss, used));
    line!(s, "mem_fragmentation_bytes", "{}", rss as i64 - used as i64);
    line!(s, "mem_not_counted_for_evict", "0");
    line!(s, "mem_replication_backlog", "0");
    line!(s, "mem_total_replication_buffers", "0");
    line!(s, "mem_clients_slaves", "0");
    line!(s, "mem_clients_normal", "{clients_mem}");
    line!(s, "mem_cluster_links", "0");
    line!(
        s,
        "mem_aof_buffer",
        "{}",
        core.aof.as_ref().map_or(0, |a| a.buffered(&core.journal))
    );
    line!(s, "mem_allocator", "jemalloc-5.3.0");
    line!(s, "active_defrag_running", "0");
    line!(s, "lazyfree_pending_objects", "{}", core.lazyfree.pending_objects());
    line!(s, "lazyfreed_objects", "{}", core.lazyfree.freed_objects());
}

fn persistence(s: &mut String, core: &Core) {
    s.push_str("# Persistence\r\n");
    line!(s, "loading", "{}", core.loading as i32);
    for name in [
        "async_loading",
        "current_cow_peak",
        "current_cow_size",
        "current_cow_size_age",
    ] {
        line!(s, name, "0");
    }
    line!(s, "current_fork_perc", "0.00");
    line!(s, "current_save_keys_processed", "0");
    line!(s, "current_save_keys_total", "0");
    line!(
        s,
        "rdb_changes_since_last_save",
        "{}",
        core.stats.dirty - core.persist.dirty_at_last_save
    );
    let saving = core.bgsave.as_ref().filter(|b| b.is_rdb());
    line!(s, "rdb_bgsave_in_progress", "{}", saving.is_some() as i32);
    line!(s, "rdb_last_save_time", "{}", core.lastsave_s);
    line!(
        s,
        "rdb_last_bgsave_status",
        "{}",
        if core.persist.last_save_ok { "ok" } else { "err" }
    );
    line!(s, "rdb_last_bgsave_time_sec", "{}", core.persist.last_bgsave_secs);
    line!(
        s,
        "rdb_current_bgsave_time_sec",
        "{}",
        saving.map_or(-1, |b| b.elapsed_secs())
    );
    line!(s, "rdb_saves", "{}", core.persist.rdb_saves);
    line!(s, "rdb_last_cow_size", "0");
    line!(
        s,
        "rdb_last_load_keys_expired",
        "{}",
        core.persist.last_load_keys_expired
    );
    line!(s, "rdb_last_load_keys_loaded", "{}", core.persist.last_load_keys_loaded);
    let rewriting = core.bgsave.as_ref().filter(|b| !b.is_rdb());
    let st = &core.aof_stats;
    line!(s, "aof_enabled", "{}", core.aof.is_some() as i32);
    line!(s, "aof_rewrite_in_progress", "{}", rewriting.is_some() as i32);
    line!(s, "aof_rewrite_scheduled", "{}", st.rewrite_scheduled as i32);
    line!(s, "aof_last_rewrite_time_sec", "{}", st.last_rewrite_secs);
    line!(
        s,
        "aof_current_rewrite_time_sec",
        "{}",
        rewriting.map_or(-1, |b| b.elapsed_secs())
    );
    line!(
        s,
        "aof_last_bgrewrite_status",
        "{}",
        if st.last_rewrite_ok { "ok" } else { "err" }
    );
    line!(s, "aof_rewrites", "{}", st.rewrites);
    line!(s, "aof_rewrites_consecutive_failures", "{}", st.consecutive_failures);
    let write_ok = core.aof.as_ref().is_none_or(|a| a.write_error.is_none());
    line!(s, "aof_last_write_status", "{}", if write_ok { "ok" } else { "err" });
    line!(s, "aof_last_cow_size", "0");
    line!(s, "module_fork_in_progress", "0");
    line!(s, "module_fork_last_cow_size", "0");
    if let Some(a) = &core.aof {
        line!(s, "aof_current_size", "{}", a.current_size);
        line!(s, "aof_base_size", "{}", a.base_size);
        line!(s, "aof_pending_rewrite", "{}", st.rewrite_scheduled as i32);
        line!(s, "aof_buffer_length", "{}", a.buffered(&core.journal));
        line!(s, "aof_pending_bio_fsync", "{}", a.fsync_pending());
        line!(s, "aof_delayed_fsync", "{}", a.delayed_fsync);
    }
    if let Some(job) = &core.load_job {
        loading_fields(s, core, job);
    }
}

/// Redis's fields while loading, with its figures: the ETA extrapolates the bytes per second so
/// far, and is a fake 1 in the first second.
fn loading_fields(s: &mut String, core: &Core, job: &crate::server::load::LoadJob) {
    let p = job.progress();
    let (perc, remaining) = match p.total_bytes {
        0 => (0.0, 1),
        total => (
            p.loaded_bytes as f64 / total as f64 * 100.0,
            total.saturating_sub(p.loaded_bytes),
        ),
    };
    let elapsed = (core.clock_now_us() / 1_000_000 - job.start_time_s()).max(0) as u64;
    let eta = match elapsed {
        0 => 1,
        e => e.saturating_mul(remaining) / (p.loaded_bytes + 1),
    };
    line!(s, "loading_start_time", "{}", job.start_time_s());
    line!(s, "loading_total_bytes", "{}", p.total_bytes);
    line!(s, "loading_rdb_used_mem", "{}", p.rdb_used_mem);
    line!(s, "loading_loaded_bytes", "{}", p.loaded_bytes);
    line!(s, "loading_loaded_perc", "{perc:.2}");
    line!(s, "loading_eta_seconds", "{eta}");
}

fn stats(s: &mut String, core: &Core, net: &NetStats) {
    let st = &core.stats;
    let n = |f: fn(&NetStats) -> u64| f(net);
    let inst = &core.instantaneous;
    s.push_str("# Stats\r\n");
    line!(s, "total_connections_received", "{}", n(|n| n.total_connections));
    line!(s, "total_commands_processed", "{}", st.total_commands);
    line!(s, "instantaneous_ops_per_sec", "{}", inst.ops_per_sec());
    line!(s, "total_net_input_bytes", "{}", n(|n| n.net_input_bytes));
    line!(s, "total_net_output_bytes", "{}", n(|n| n.net_output_bytes));
    line!(s, "total_net_repl_input_bytes", "0");
    line!(s, "total_net_repl_output_bytes", "0");
    line!(s, "instantaneous_input_kbps", "{:.2}", inst.input_kbps());
    line!(s, "instantaneous_output_kbps", "{:.2}", inst.output_kbps());
    line!(s, "instantaneous_input_repl_kbps", "0.00");
    line!(s, "instantaneous_output_repl_kbps", "0.00");
    line!(s, "rejected_connections", "{}", n(|n| n.rejected_connections));
    line!(s, "sync_full", "0");
    line!(s, "sync_partial_ok", "0");
    line!(s, "sync_partial_err", "0");
    line!(s, "expired_keys", "{}", st.expired_keys);
    line!(s, "expired_stale_perc", "{:.2}", st.expired_stale_perc * 100.0);
    line!(
        s,
        "expired_time_cap_reached_count",
        "{}",
        st.expired_time_cap_reached_count
    );
    line!(s, "expire_cycle_cpu_milliseconds", "{}", st.expire_cycle_cpu_us / 1000);
    line!(s, "evicted_keys", "{}", st.evicted_keys);
    for name in [
        "evicted_clients",
        "total_eviction_exceeded_time",
        "current_eviction_exceeded_time",
    ] {
        line!(s, name, "0");
    }
    line!(s, "keyspace_hits", "{}", st.keyspace_hits);
    line!(s, "keyspace_misses", "{}", st.keyspace_misses);
    {
        use crate::server::pubsub::Scope;
        let ps = &core.pubsub;
        line!(s, "pubsub_channels", "{}", ps.count(Scope::Channel));
        line!(s, "pubsub_patterns", "{}", ps.count(Scope::Pattern));
        line!(s, "pubsubshard_channels", "{}", ps.count(Scope::Shard));
    }
    for name in [
        "latest_fork_usec",
        "total_forks",
        "migrate_cached_sockets",
        "slave_expires_tracked_keys",
        "active_defrag_hits",
        "active_defrag_misses",
        "active_defrag_key_hits",
        "active_defrag_key_misses",
        "total_active_defrag_time",
        "current_active_defrag_time",
    ] {
        line!(s, name, "0");
    }
    let (keys, items, prefixes) = core.tracking.totals();
    line!(s, "tracking_total_keys", "{keys}");
    line!(s, "tracking_total_items", "{items}");
    line!(s, "tracking_total_prefixes", "{prefixes}");
    line!(s, "unexpected_error_replies", "{}", st.unexpected_error_replies);
    line!(s, "total_error_replies", "{}", st.total_error_replies);
    line!(s, "dump_payload_sanitizations", "0");
    line!(s, "total_reads_processed", "{}", n(|n| n.total_reads));
    line!(s, "total_writes_processed", "{}", n(|n| n.total_writes));
    for name in [
        "io_threaded_reads_processed",
        "io_threaded_writes_processed",
        "reply_buffer_shrinks",
        "reply_buffer_expands",
    ] {
        line!(s, name, "0");
    }
}

fn replication(s: &mut String, core: &Core) {
    s.push_str("# Replication\r\n");
    line!(s, "role", "master");
    line!(s, "connected_slaves", "0");
    line!(s, "master_failover_state", "no-failover");
    line!(s, "master_replid", "{}", core.replid);
    line!(s, "master_replid2", "{}", "0".repeat(40));
    line!(s, "master_repl_offset", "{}", core.journal.offset());
    line!(s, "second_repl_offset", "-1");
    line!(s, "repl_backlog_active", "0");
    line!(s, "repl_backlog_size", "{}", core.config.repl_backlog_size);
    line!(s, "repl_backlog_first_byte_offset", "0");
    line!(s, "repl_backlog_histlen", "0");
}

fn rusage(who: libc::c_int) -> (String, String) {
    // SAFETY: getrusage fills the struct we own.
    let mut r: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(who, &mut r) };
    let t = |tv: libc::timeval| format!("{}.{:06}", tv.tv_sec, tv.tv_usec);
    (t(r.ru_stime), t(r.ru_utime))
}

fn cpu(s: &mut String) {
    let (sys, user) = rusage(libc::RUSAGE_SELF);
    let (csys, cuser) = rusage(libc::RUSAGE_CHILDREN);
    let (tsys, tuser) = rusage(libc::RUSAGE_THREAD);
    s.push_str("# CPU\r\n");
    line!(s, "used_cpu_sys", "{sys}");
    line!(s, "used_cpu_user", "{user}");
    line!(s, "used_cpu_sys_children", "{csys}");
    line!(s, "used_cpu_user_children", "{cuser}");
    line!(s, "used_cpu_sys_main_thread", "{tsys}");
    line!(s, "used_cpu_user_main_thread", "{tuser}");
}

fn commandstats(s: &mut String, core: &Core) {
    s.push_str("# Commandstats\r\n");
    for (i, cmd) in table::all() {
        let Some(st) = core.cmdstats.get(i) else { continue };
        if st.calls == 0 && st.failed_calls == 0 && st.rejected_calls == 0 {
            continue;
        }
        let per_call = if st.calls == 0 {
            0.0
        } else {
            st.usec as f64 / st.calls as f64
        };
        line!(
            s,
            format_args!("cmdstat_{}", cmd.full_name),
            "calls={},usec={},usec_per_call={:.2},rejected_calls={},failed_calls={}",
            st.calls,
            st.usec,
            per_call,
            st.rejected_calls,
            st.failed_calls
        );
    }
}

fn errorstats(s: &mut String, core: &Core) {
    s.push_str("# Errorstats\r\n");
    let mut codes: Vec<(&String, &u64)> = core.errorstats.iter().collect();
    codes.sort();
    for (code, n) in codes {
        line!(s, format_args!("errorstat_{code}"), "count={n}");
    }
}

fn latencystats(s: &mut String, core: &Core) {
    s.push_str(&crate::commands::introspection::latency::info_latencystats(core));
}

fn keyspace(s: &mut String, core: &Core) {
    s.push_str("# Keyspace\r\n");
    for (i, db) in core.dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        let avg_ttl = db.avg_ttl();
        line!(
            s,
            format_args!("db{i}"),
            "keys={},expires={},avg_ttl={avg_ttl}",
            db.len(),
            db.volatile_len()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_bytes_like_redis() {
        assert_eq!(human_bytes(0), "0B");
        assert_eq!(human_bytes(1023), "1023B");
        assert_eq!(human_bytes(916448), "894.97K");
        assert_eq!(human_bytes(6668288), "6.36M");
        assert_eq!(human_bytes(25276510208), "23.54G");
    }

    #[test]
    fn section_selection() {
        let sel = |a: &[&str]| selected_sections(a.iter().map(|s| s.as_bytes()));
        assert_eq!(sel(&[]).len(), 11);
        assert!(!sel(&[]).contains(&"commandstats"));
        assert_eq!(sel(&["all"]).len(), 13);
        assert_eq!(sel(&["everything"]), sel(&["all"]));
        assert_eq!(sel(&["CLUSTER", "clients", "cluster"]), vec!["clients", "cluster"]);
        assert_eq!(sel(&["foo"]), Vec::<&str>::new());
        assert_eq!(sel(&["default", "commandstats"]).len(), 12);
    }
}
