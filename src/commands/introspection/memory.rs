//! MEMORY USAGE, STATS, PURGE, MALLOC-STATS and HELP. (`MEMORY DOCTOR` is absent: its advice rests on
//! heuristics about figures, such as the replication backlog, that do not exist here yet.)
//!
//! MEMORY STATS and INFO memory share one computation ([`Overhead`], Redis's getMemoryOverheadData):
//! the overhead is the memory used at start-up, the clients' buffers and, per database, the bucket
//! arrays (`overhead.hashtable.main`) and the volatile index (`overhead.hashtable.expires`); the
//! dataset is the rest of `used_memory`. Our entries hold the key and the value in one allocation, so
//! there is no per-key `dictEntry`/`robj` overhead to count as Redis does: it is all dataset.
//!
//! MEMORY USAGE is our own accounting, in bytes as jemalloc hands them out (each allocation rounded
//! up to its size class, which is what `used_memory` counts too):
//!
//! - the entry itself: the storage layer's `alloc_size()` of the key's entry (header, key, and the
//!   value when it is stored inline: integers and strings of up to 44 bytes), rounded to its class;
//! - a heap string (`raw`, over 44 bytes): its buffer, rounded to its class;
//! - a collection: exactly what it allocates (each type keeps running counts), so `SAMPLES` is
//!   accepted and changes nothing;
//! - the key's share of the bucket array: one 8-byte slot (the table grows when it holds as many keys
//!   as buckets, so a key's share is between 8 and 16 bytes; the lower bound is reported).
//!
//! Like Redis, the key is read without expiring it and without touching its access time.

use resp::ReplyBuf;

use crate::commands::{Args, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::storage::{EntryRef, StrEncoding, ValueRef};

/// Elements sampled in a collection by default (Redis's `OBJ_COMPUTE_SIZE_DEF_SAMPLES`).
pub const DEFAULT_SAMPLES: u64 = 5;
/// A key's share of the bucket array.
pub const BUCKET_SLOT: usize = std::mem::size_of::<usize>();

/// The bytes jemalloc really gives for a request of `n` bytes.
pub fn malloc_size(n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    // SAFETY: nallocx only computes a size class; it allocates nothing and `n` is non-zero.
    unsafe { tikv_jemalloc_sys::nallocx(n, 0) }
}

/// MEMORY USAGE's figure for one entry (see the module docs).
pub fn entry_usage(e: &EntryRef<'_>, _samples: u64) -> usize {
    let mut n = malloc_size(e.alloc_size()) + BUCKET_SLOT;
    match e.value() {
        ValueRef::Str(s, StrEncoding::Raw) => n += malloc_size(s.len()),
        ValueRef::Str(..) | ValueRef::Int(_) => {}
        ValueRef::Obj(o) => n += o.mem_usage(),
    }
    n
}

/// MEMORY USAGE key [SAMPLES count]
pub fn usage(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut samples = DEFAULT_SAMPLES;
    let mut j = 3;
    while j < args.len() {
        if args.is(j, "samples") && j + 1 < args.len() {
            let n = args.int(j + 1)?;
            if n < 0 {
                return Err(CmdError::syntax());
            }
            samples = if n == 0 { u64::MAX } else { n as u64 };
            j += 2;
        } else {
            return Err(CmdError::syntax());
        }
    }
    let db = &ctx.core.dbs[ctx.client.db];
    match db.get(args.get(2)) {
        Some(e) => out.int(entry_usage(&e, samples) as i64),
        None => out.null(),
    }
    Ok(())
}

/// The memory figures INFO memory and MEMORY STATS report.
pub struct Overhead {
    pub used: u64,
    pub peak: u64,
    pub startup: u64,
    pub clients_normal: u64,
    /// (database index, bucket array bytes, volatile index bytes) for each database holding keys.
    pub dbs: Vec<(usize, u64, u64)>,
    /// Start-up memory, clients and the databases' structures.
    pub total: u64,
    pub keys: u64,
    pub rss: u64,
    /// The allocator's allocated, active and resident bytes. jemalloc is built without its statistics
    /// (they cost on every allocation), so allocated is the counting allocator's exact figure, active
    /// is taken to be the same and resident is the process's RSS.
    pub allocated: u64,
    pub active: u64,
    pub resident: u64,
}

impl Overhead {
    pub fn measure(ctx: &mut Ctx<'_>) -> Overhead {
        let used = crate::memory::used_memory();
        ctx.core.update_peak_memory(used);
        let core = &*ctx.core;
        let clients_normal: u64 = ctx.all_clients().iter().map(|c| c.total_memory(0) as u64).sum();
        let dbs: Vec<(usize, u64, u64)> = core
            .dbs
            .iter()
            .enumerate()
            .filter(|(_, db)| !db.is_empty())
            .map(|(i, db)| {
                let (main, expires) = db.overhead_bytes();
                (i, main as u64, expires as u64)
            })
            .collect();
        let startup = core.memory_startup.min(used);
        let rss = crate::commands::info::rss_bytes();
        let structures: u64 = dbs.iter().map(|&(_, main, expires)| main + expires).sum();
        Overhead {
            used,
            peak: core.peak_memory.max(used),
            startup,
            clients_normal,
            total: (startup + clients_normal + structures).min(used),
            keys: core.dbs.iter().map(|db| db.len() as u64).sum(),
            dbs,
            rss,
            allocated: used,
            active: used,
            resident: rss,
        }
    }

    pub fn dataset(&self) -> u64 {
        self.used - self.total
    }

    /// `used_memory` above what the server used at start-up.
    fn net(&self) -> u64 {
        self.used.saturating_sub(self.startup)
    }

    /// The dataset's share of the memory used since start-up, in percent (a C float in Redis, so it
    /// is computed in single precision and prints as Redis prints it).
    pub fn dataset_perc(&self) -> f32 {
        if self.net() == 0 {
            0.0
        } else {
            self.dataset() as f32 * 100.0 / self.net() as f32
        }
    }

    pub fn peak_perc(&self) -> f32 {
        self.used as f32 * 100.0 / self.peak.max(1) as f32
    }

    pub fn bytes_per_key(&self) -> u64 {
        self.net().checked_div(self.keys).unwrap_or(0)
    }
}

/// `a / b` as Redis's INFO and MEMORY STATS compute their ratios (C floats), 0 when `b` is 0.
pub fn ratio(a: u64, b: u64) -> f32 {
    if b == 0 {
        0.0
    } else {
        a as f32 / b as f32
    }
}

/// MEMORY STATS: Redis 7.0's report, in its order. Replication, cluster, AOF and scripting figures
/// are 0 (none of those hold memory here yet); the allocator's figures are INFO memory's.
pub fn stats(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let m = Overhead::measure(ctx);
    let (allocated, active, resident) = (m.allocated, m.active, m.resident);
    out.map(27 + m.dbs.len());
    let int = |out: &mut ReplyBuf, name: &str, v: i64| {
        out.bulk(name.as_bytes());
        out.int(v);
    };
    let float = |out: &mut ReplyBuf, name: &str, v: f32| {
        out.bulk(name.as_bytes());
        out.double(f64::from(v));
    };
    int(out, "peak.allocated", m.peak as i64);
    int(out, "total.allocated", m.used as i64);
    int(out, "startup.allocated", m.startup as i64);
    for name in ["replication.backlog", "clients.slaves"] {
        int(out, name, 0);
    }
    int(out, "clients.normal", m.clients_normal as i64);
    for name in ["cluster.links", "aof.buffer"] {
        int(out, name, 0);
    }
    let lua = ScriptMemory::measure(ctx.core);
    int(out, "lua.caches", lua.scripts_eval as i64);
    int(out, "functions.caches", lua.functions_code as i64);
    for &(index, main, expires) in &m.dbs {
        out.bulk(format!("db.{index}").as_bytes());
        out.map(3);
        int(out, "overhead.hashtable.main", main as i64);
        int(out, "overhead.hashtable.expires", expires as i64);
        int(out, "overhead.hashtable.slot-to-keys", 0);
    }
    int(out, "overhead.total", m.total as i64);
    int(out, "keys.count", m.keys as i64);
    int(out, "keys.bytes-per-key", m.bytes_per_key() as i64);
    int(out, "dataset.bytes", m.dataset() as i64);
    float(out, "dataset.percentage", m.dataset_perc());
    float(out, "peak.percentage", m.peak_perc());
    int(out, "allocator.allocated", allocated as i64);
    int(out, "allocator.active", active as i64);
    int(out, "allocator.resident", resident as i64);
    float(out, "allocator-fragmentation.ratio", ratio(active, allocated));
    int(out, "allocator-fragmentation.bytes", active as i64 - allocated as i64);
    float(out, "allocator-rss.ratio", ratio(resident, active));
    int(out, "allocator-rss.bytes", resident as i64 - active as i64);
    float(out, "rss-overhead.ratio", ratio(m.rss, resident));
    int(out, "rss-overhead.bytes", m.rss as i64 - resident as i64);
    float(out, "fragmentation", ratio(m.rss, m.used));
    int(out, "fragmentation.bytes", m.rss as i64 - m.used as i64);
    Ok(())
}

/// MEMORY PURGE: ask jemalloc to return the dirty pages of every arena to the system.
pub fn purge(_ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    // 4096 is jemalloc's MALLCTL_ARENAS_ALL.
    let name = b"arena.4096.purge\0";
    // SAFETY: a NUL-terminated control name; this control reads and writes no value.
    let rc = unsafe {
        tikv_jemalloc_sys::mallctl(
            name.as_ptr() as *const libc::c_char,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        )
    };
    if rc != 0 {
        return Err(CmdError::err("Error purging dirty pages"));
    }
    out.ok();
    Ok(())
}

/// MEMORY MALLOC-STATS: jemalloc's own statistics report.
pub fn malloc_stats(_ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    unsafe extern "C" fn append(opaque: *mut libc::c_void, text: *const libc::c_char) {
        // SAFETY: `opaque` is the `Vec<u8>` passed below, alive for the whole call; jemalloc hands
        // a NUL-terminated string.
        unsafe {
            let buf = &mut *(opaque as *mut Vec<u8>);
            buf.extend_from_slice(std::ffi::CStr::from_ptr(text).to_bytes());
        }
    }
    let mut buf: Vec<u8> = Vec::new();
    // SAFETY: the callback only appends to `buf`, which outlives the call; no options string.
    unsafe {
        tikv_jemalloc_sys::malloc_stats_print(
            Some(append),
            &mut buf as *mut Vec<u8> as *mut libc::c_void,
            std::ptr::null(),
        )
    };
    out.verbatim(b"txt", &buf);
    Ok(())
}

/// MEMORY HELP
pub fn help(_ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    super::reply_help(
        out,
        "memory",
        &[
            "MALLOC-STATS",
            "    Print the allocator's (jemalloc's) statistics report.",
            "PURGE",
            "    Ask the allocator to give unused dirty pages back to the system.",
            "STATS",
            "    Report how the memory in use divides into overhead and dataset.",
            "USAGE <key> [SAMPLES <count>]",
            "    The bytes a key and its value take. Counted exactly, so <count> (how many",
            "    elements Redis samples) changes nothing.",
        ],
    );
    Ok(())
}

/// What scripting holds, for INFO memory and MEMORY STATS: the two VMs' memory, EVAL's cache and the
/// function libraries.
pub struct ScriptMemory {
    pub vm_eval: u64,
    pub vm_functions: u64,
    pub cached_scripts: u64,
    /// The cached scripts' bodies.
    pub scripts_eval: u64,
    pub libraries: u64,
    pub functions: u64,
    /// The libraries' code.
    pub functions_code: u64,
}

impl ScriptMemory {
    pub fn measure(core: &crate::server::core::Core) -> ScriptMemory {
        let (cached, bodies) = core.scripts.cached();
        let (libraries, functions) = core.functions.counts();
        ScriptMemory {
            vm_eval: core.scripts.vm().used_memory() as u64,
            vm_functions: core.functions.vm().used_memory() as u64,
            cached_scripts: cached as u64,
            scripts_eval: bodies as u64,
            libraries: libraries as u64,
            functions: functions as u64,
            functions_code: core.functions.code_bytes() as u64,
        }
    }
}
