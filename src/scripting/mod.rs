//! The Lua host: Redis 7.0's script environment over plain Lua 5.1 (mlua, vendored).
//!
//! A [`Vm`] is one Lua state set up as Redis sets its own: the libraries Redis loads (base, table,
//! string, math, and `cjson`, `cmsgpack`, `bit`, `struct` from `ferrite-lualib`), the `redis` table,
//! Redis's `pcall`, no bytecode, read-only globals and library tables (see `glue.lua`), `math.random`
//! on Redis's rand48. EVAL scripts run in one VM, functions in another (`VmKind`), as in Redis.
//!
//! Running a script ([`Vm::run`]) installs a [`Run`] that the native functions reach through
//! [`Shared`]: a raw pointer to the caller's `Ctx` (the command being executed), valid only while the
//! script runs. Commands the script calls go through `dispatch::call` one level down, as the script
//! client, so they are gated, counted and journaled like any other call (their effects are committed
//! with the script's, as one unit).
//!
//! Safety of the raw pointer: the EVAL handler holds `&mut Ctx` and does not touch it while Lua runs;
//! the natives and the instruction hook are the only users meanwhile, and Lua calls them one at a time
//! on this thread (a native is never running while the hook fires, nor the reverse). The pointer is
//! cleared before `run` returns, so a native called later (a function saved by a script and called by
//! another one) finds no run and answers with an error.
//!
//! Never deaf: an instruction hook fires every 100,000 Lua instructions. Past `busy-reply-threshold`
//! the script is marked busy (other clients get `-BUSY`) and each hook lends the network to the host
//! (`Host::serve_while_busy`), where SCRIPT KILL, FUNCTION KILL and SHUTDOWN NOSAVE can get through. A
//! kill (or a shutdown) raises an error the script cannot catch: Redis's `pcall` re-raises it, and the
//! hook then fires on every line, so even a loop around a raw `xpcall` ends.

pub mod convert;
pub mod functions;
pub mod rand48;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use mlua::{Function, HookTriggers, Lua, LuaOptions, MultiValue, StdLib, Table, Value, VmState};
use resp::{Protocol, ReplyBuf};

use self::rand48::Rand48;
use crate::clock::monotonic_us;
use crate::commands::dispatch::{self, Caller};
use crate::commands::spec::flags;
use crate::commands::table::{self, Lookup};
use crate::commands::{Ctx, OwnedArgs};
use crate::error::CmdError;
use crate::server::client::Client;

/// The glue that turns a plain Lua state into Redis's script environment.
const GLUE: &str = include_str!("glue.lua");

/// How many VM instructions pass between two runs of the hook (Redis's LUA hook count).
const HOOK_EVERY: u32 = 100_000;

/// What runs in a VM: EVAL scripts or library functions (each has its own VM, as in Redis).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VmKind {
    Eval,
    Function,
}

/// Script flags (`#!lua flags=...` for EVAL, `flags` of `redis.register_function`).
pub mod script_flags {
    pub const NO_WRITES: u32 = 1 << 0;
    pub const ALLOW_OOM: u32 = 1 << 1;
    pub const ALLOW_STALE: u32 = 1 << 2;
    pub const NO_CLUSTER: u32 = 1 << 3;
    /// An EVAL script without a shebang: Redis 7.0's compatibility rules (writes allowed, OOM checked
    /// at the first write, no flag checks before running).
    pub const EVAL_COMPAT: u32 = 1 << 4;
    pub const ALLOW_CROSS_SLOT: u32 = 1 << 5;

    /// The names Redis accepts, in its order.
    pub const NAMES: &[(u32, &str)] = &[
        (NO_WRITES, "no-writes"),
        (ALLOW_OOM, "allow-oom"),
        (ALLOW_STALE, "allow-stale"),
        (NO_CLUSTER, "no-cluster"),
        (ALLOW_CROSS_SLOT, "allow-cross-slot-keys"),
    ];

    /// A flag by name.
    pub fn parse(name: &[u8]) -> Option<u32> {
        NAMES.iter().find(|(_, n)| n.as_bytes() == name).map(|(f, _)| *f)
    }
}

/// What the server knows of the script that is running (SCRIPT KILL, FUNCTION STATS, the BUSY gate).
#[derive(Debug, Clone)]
pub struct ScriptRun {
    pub kind: VmKind,
    /// The script's SHA1 (EVAL) or the function's name.
    pub name: String,
    /// The command that runs it, as sent (FUNCTION STATS shows it).
    pub command: Vec<Vec<u8>>,
    pub start_us: i64,
    /// Past `busy-reply-threshold`: other clients are answered `-BUSY`.
    pub timed_out: bool,
    /// The script has written: it can no longer be killed.
    pub wrote: bool,
    /// SCRIPT KILL or FUNCTION KILL asked it to stop.
    pub killed: bool,
}

/// The script being run, as the natives see it. Lives on the stack of `Vm::run` for the run.
pub struct Run {
    ctx: *mut Ctx<'static>,
    client: *mut Client,
    /// The RESP version the script's commands reply in (`redis.setresp`).
    pub resp: Protocol,
    pub flags: u32,
    /// EVAL_RO / FCALL_RO, or a `no-writes` script: write commands are refused.
    pub read_only: bool,
    /// `used_memory` was over `maxmemory` when the script started.
    pub oom_at_start: bool,
    /// `redis.set_repl` flags (journal the script's writes or not).
    pub replicate: bool,
    /// The reply buffer the script's commands write into (kept between calls to reuse its memory).
    reply: ReplyBuf,
}

/// State shared between a VM's natives and its host.
pub struct Shared {
    run: Cell<*mut Run>,
    rng: Rc<Cell<Rand48>>,
    /// While FUNCTION LOAD runs a library's code: the functions it registered so far.
    registering: std::cell::RefCell<Option<Vec<Registration>>>,
    /// While FUNCTION LOAD runs a library's code: when it must have finished (monotonic µs).
    load_deadline: Cell<Option<i64>>,
    /// A panic caught in `redis.call`, resumed once the script has unwound.
    panic: Cell<Option<Box<dyn std::any::Any + Send>>>,
    /// `panic` is set (it cannot be looked at without taking it).
    panicked: Cell<bool>,
    /// `redis.call`'s argument buffer, kept between calls to reuse its memory.
    args: Cell<OwnedArgs>,
}

/// A function a library registered (`redis.register_function`).
pub struct Registration {
    pub name: String,
    pub callback: Function,
    pub flags: u32,
    pub description: Option<Vec<u8>>,
}

/// How long a library's code may run at FUNCTION LOAD (Redis's LOAD_TIMEOUT_MS).
const LOAD_TIMEOUT_US: i64 = 500_000;

/// Whether a library or function name is valid: letters, digits and underscores, at least one.
pub fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Redis's error for an invalid library (and function) name.
pub const INVALID_NAME: &str =
    "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

/// The arguments of `redis.register_function`: `(name, callback)` or one table of named arguments.
fn registration(args: MultiValue) -> Result<Registration, &'static str> {
    let (name, callback, flags, description) = match args.len() {
        1 => {
            let Value::Table(t) = &args[0] else {
                return Err(
                    "calling redis.register_function with a single argument is only applicable to Lua table \
                            (representing named arguments).",
                );
            };
            let (mut name, mut callback, mut flags, mut description) = (None, None, None, None);
            for pair in t.clone().pairs::<Value, Value>() {
                let (k, v) = pair.map_err(|_| "unknown argument given to redis.register_function")?;
                let Value::String(k) = k else {
                    return Err("unknown argument given to redis.register_function");
                };
                match &*k.as_bytes() {
                    b"function_name" => name = Some(v),
                    b"callback" => callback = Some(v),
                    b"flags" => flags = Some(v),
                    b"description" => description = Some(v),
                    _ => return Err("unknown argument given to redis.register_function"),
                }
            }
            let name = name.ok_or("redis.register_function must get a function name argument")?;
            let callback = callback.ok_or("redis.register_function must get a callback argument")?;
            (name, callback, flags, description)
        }
        2 => (args[0].clone(), args[1].clone(), None, None),
        _ => return Err("wrong number of arguments to redis.register_function"),
    };
    let name = match name {
        Value::String(s) => s.as_bytes().to_vec(),
        Value::Integer(i) => i.to_string().into_bytes(),
        Value::Number(n) => format_lua_number(n).into_bytes(),
        _ => return Err("function_name argument given to redis.register_function must be a string"),
    };
    let Value::Function(callback) = callback else {
        return Err(if args.len() == 2 {
            "second argument to redis.register_function must be a function"
        } else {
            "callback argument given to redis.register_function must be a function"
        });
    };
    let flags = match flags {
        None | Some(Value::Nil) => 0,
        Some(Value::Table(t)) => {
            let mut f = 0;
            for v in t.sequence_values::<Value>() {
                let Ok(Value::String(s)) = v else {
                    return Err("unknown flag given");
                };
                f |= script_flags::parse(&s.as_bytes()).ok_or("unknown flag given")?;
            }
            f
        }
        Some(_) => return Err("flags argument to redis.register_function must be a table representing function flags"),
    };
    let description = match description {
        None | Some(Value::Nil) => None,
        Some(v) => Some(lua_bytes(&v).ok_or("description argument given to redis.register_function must be a string")?),
    };
    if !valid_name(&name) {
        return Err(INVALID_NAME);
    }
    Ok(Registration {
        name: String::from_utf8(name).map_err(|_| INVALID_NAME)?,
        callback,
        flags,
        description,
    })
}

impl Shared {
    /// The running script, if any.
    ///
    /// # Safety
    /// The caller must not keep the reference past the native call or hook invocation it is made in
    /// (see the module doc).
    unsafe fn current<'a>(&self) -> Option<&'a mut Run> {
        let p = self.run.get();
        (!p.is_null()).then(|| &mut *p)
    }
}

/// One Lua state with Redis's script environment.
pub struct Vm {
    pub lua: Lua,
    /// The real globals table (scripts see a read-only proxy of it): KEYS and ARGV are set here.
    globals: Table,
    /// The glue's runner: calls a function under Redis's error handler.
    runner: Function,
    /// The glue's switch between a library's loading world and the running one (function VMs).
    set_loading: Function,
    shared: Rc<Shared>,
    pub kind: VmKind,
    /// Scripts run so far (a garbage collection step every 50).
    runs: Cell<u64>,
}

/// How a script run ended.
pub enum Outcome {
    /// It returned this value.
    Returned(Value),
    /// It raised this error (an error table, with where it happened).
    Raised(Value),
}

impl Vm {
    /// A fresh VM. `rng` is the generator behind `math.random`, shared by the server's VMs and kept
    /// across SCRIPT FLUSH, as Redis keeps its one generator.
    pub fn new(kind: VmKind, rng: Rc<Cell<Rand48>>) -> mlua::Result<Vm> {
        // SAFETY: the debug library is loaded for the glue alone, which keeps it in an upvalue and
        // removes it from the globals before any script runs.
        let lua = unsafe {
            Lua::unsafe_new_with(
                StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::DEBUG,
                LuaOptions::new(),
            )
        };
        ferrite_lualib::open_all(&lua)?;
        let globals = lua.globals();
        let debug: Table = globals.raw_get("debug")?;
        for name in [
            "debug", "print", "dofile", "loadfile", "getfenv", "setfenv", "newproxy", "module", "require",
        ] {
            globals.raw_set(name, Value::Nil)?;
        }
        let shared = Rc::new(Shared {
            run: Cell::new(std::ptr::null_mut()),
            rng,
            registering: Default::default(),
            load_deadline: Cell::new(None),
            panic: Cell::new(None),
            panicked: Cell::new(false),
            args: Cell::default(),
        });
        let natives = natives(&lua, &shared, kind)?;
        let kind_name = match kind {
            VmKind::Eval => "eval",
            VmKind::Function => "function",
        };
        let glue = lua.load(GLUE).set_name("=ferrite").into_function()?;
        let (proxy, runner, set_loading): (Table, Function, Function) = glue.call((natives, debug, kind_name))?;
        // From now on every chunk loaded sees the read-only globals.
        // SAFETY: replaces LUA_GLOBALSINDEX with a table value; nothing is left on the stack.
        unsafe {
            lua.exec_raw::<()>(proxy, |state| {
                mlua::ffi::lua_replace(state, mlua::ffi::LUA_GLOBALSINDEX);
            })?;
        }
        install_hook(&lua, Rc::clone(&shared), false);
        Ok(Vm {
            lua,
            globals,
            runner,
            set_loading,
            shared,
            kind,
            runs: Cell::new(0),
        })
    }

    /// Compile a chunk under `name` (`@user_script`). A binary chunk is compiled as text, which fails
    /// on its first byte as it does in Redis (no bytecode ever loads). The error is Lua's message.
    pub fn compile(&self, name: &str, body: &[u8]) -> Result<Function, String> {
        let text: std::borrow::Cow<'_, [u8]> = if body.first() == Some(&0x1b) {
            let mut t = b" ".to_vec();
            t.extend_from_slice(body);
            t.into()
        } else {
            body.into()
        };
        self.lua
            .load(text.as_ref())
            .set_name(name)
            .into_function()
            .map_err(|e| match e {
                mlua::Error::SyntaxError { message, .. } => message,
                other => other.to_string(),
            })
    }

    /// FUNCTION LOAD's work in this VM: compile a library's code (its metadata line turned into a
    /// comment, so line numbers are the code's) and run it in the loading world, collecting what it
    /// registers. The error is the reply's text (after `ERR `).
    pub fn load_library(&self, code: &[u8]) -> Result<Vec<Registration>, String> {
        let mut source = b"--".to_vec();
        source.extend_from_slice(code.get(2..).unwrap_or_default());
        let chunk = self
            .compile("@user_function", &source)
            .map_err(|e| format!("Error compiling function: {e}"))?;
        *self.shared.registering.borrow_mut() = Some(vec![]);
        self.shared.load_deadline.set(Some(monotonic_us() + LOAD_TIMEOUT_US));
        let switched = self.set_loading.call::<()>(true);
        let result: mlua::Result<(bool, Value)> = switched.and_then(|()| self.runner.call(chunk));
        let _ = self.set_loading.call::<()>(false);
        self.shared.load_deadline.set(None);
        // A timeout switched the hook to every line.
        install_hook(&self.lua, Rc::clone(&self.shared), false);
        let registered = self.shared.registering.borrow_mut().take().unwrap_or_default();
        match result {
            Ok((true, _)) if registered.is_empty() => Err("No functions registered".into()),
            Ok((true, _)) => Ok(registered),
            Ok((false, e)) => Err(format!("Error registering functions: {}", error_message(&e))),
            Err(e) => Err(format!("Error registering functions: {e}")),
        }
    }

    /// Set a script's globals KEYS and ARGV (in the real table).
    pub fn set_keys_and_argv(&self, keys: &[&[u8]], argv: &[&[u8]]) -> mlua::Result<()> {
        // SAFETY: the globals table is the one argument (index 1); two tables are made and stored in it
        // (raw sets, no metamethod), and it is popped: the stack is left as found. A failed allocation
        // raises into exec_raw's protected call, and nothing on this frame needs dropping.
        unsafe {
            self.lua.exec_raw::<()>(&self.globals, |state| {
                use mlua::ffi;
                for (name, values) in [(c"KEYS", keys), (c"ARGV", argv)] {
                    ffi::lua_pushstring(state, name.as_ptr());
                    push_strings(state, values);
                    ffi::lua_rawset(state, 1);
                }
                ffi::lua_pop(state, 1);
            })
        }
    }

    /// A function's keys and arguments, as two sequences of strings.
    pub fn string_tables(&self, keys: &[&[u8]], argv: &[&[u8]]) -> mlua::Result<(Table, Table)> {
        // SAFETY: pushes the two tables, the results (as in `set_keys_and_argv`).
        unsafe {
            self.lua.exec_raw::<(Table, Table)>((), |state| {
                push_strings(state, keys);
                push_strings(state, argv);
            })
        }
    }

    /// Run `f` as the script of the command in `ctx`, with `client` as the script client. The script's
    /// own state (`ScriptRun`) must already be in `ctx.core.script_run`. Returns how it ended, the RESP
    /// version it ended with (booleans are answered by it) and the reply buffer to keep.
    pub fn run(
        &self,
        ctx: &mut Ctx<'_>,
        client: &mut Client,
        run: RunSetup,
        f: &Function,
    ) -> (Outcome, Protocol, ReplyBuf) {
        let mut state = Run {
            ctx: (ctx as *mut Ctx<'_>).cast(),
            client: client as *mut Client,
            resp: Protocol::Resp2,
            flags: run.flags,
            read_only: run.read_only,
            oom_at_start: run.oom_at_start,
            replicate: true,
            reply: run.reply,
        };
        self.shared.run.set(&mut state);
        let result: mlua::Result<(bool, Value)> = match run.args {
            Some((keys, args)) => self.runner.call((f, keys, args)),
            None => self.runner.call(f),
        };
        self.shared.run.set(std::ptr::null_mut());
        if let Some(payload) = self.shared.panic.take() {
            self.shared.panicked.set(false);
            std::panic::resume_unwind(payload);
        }
        // Garbage a script left: a step from time to time as Redis does (so no full cycle lands on one
        // script), and everything at once when it is large (a script that ran out of memory leaves
        // its garbage, and Lua 5.1 has no emergency collection to free it for the next one).
        let runs = self.runs.get().wrapping_add(1);
        self.runs.set(runs);
        if self.lua.used_memory() > VM_MEMORY_LIMIT / 4 {
            let _ = self.lua.gc_collect();
        } else if runs.is_multiple_of(50) {
            let _ = self.lua.gc_step();
        }
        // A kill switched the hook to every line; back to the count hook for the next script.
        if ctx.core.script_run.as_ref().is_some_and(|r| r.killed) {
            install_hook(&self.lua, Rc::clone(&self.shared), false);
        }
        let outcome = match result {
            Ok((true, v)) => Outcome::Returned(v),
            Ok((false, e)) => Outcome::Raised(e),
            // The error handler itself failed (out of memory): no table, only a message.
            Err(e) => Outcome::Raised(match self.lua.create_string(format!("ERR {e}")) {
                Ok(s) => Value::String(s),
                Err(_) => Value::Nil,
            }),
        };
        (outcome, state.resp, state.reply)
    }

    /// Bytes the Lua state holds (`used_memory_lua`).
    pub fn used_memory(&self) -> usize {
        self.lua.used_memory()
    }
}

/// What a run needs to know beyond the function: the checks its commands go through.
pub struct RunSetup {
    pub flags: u32,
    pub read_only: bool,
    pub oom_at_start: bool,
    /// A buffer to reuse for the commands' replies.
    pub reply: ReplyBuf,
    /// A library function's arguments: its keys and its other arguments (EVAL scripts get KEYS and
    /// ARGV as globals instead).
    pub args: Option<(Table, Table)>,
}

/// The instruction hook of a running script: busy after the threshold (serve the network
/// meanwhile), stop when killed or when the server shuts down.
fn hook(lua: &Lua, run: &mut Run) -> mlua::Result<VmState> {
    // SAFETY: see the module doc; `ctx` is not used by anybody else while the hook runs.
    let ctx = unsafe { &mut *run.ctx };
    let threshold = ctx.core.config.busy_reply_threshold as i64;
    let Some(info) = ctx.core.script_run.as_mut() else {
        return Ok(VmState::Continue);
    };
    let elapsed_ms = (monotonic_us() - info.start_us) / 1000;
    if !info.timed_out && threshold > 0 && elapsed_ms >= threshold {
        info.timed_out = true;
        let killer = match info.kind {
            VmKind::Eval => "SCRIPT",
            VmKind::Function => "FUNCTION",
        };
        crate::log_warning!(
            "Slow script detected: still in execution after {elapsed_ms} milliseconds. You can try killing the \
             script using the {killer} KILL command. Script name is: {}.",
            info.name
        );
    }
    if info.timed_out {
        if let Some(host) = ctx.host.as_deref_mut() {
            host.serve_while_busy(ctx.core, Duration::ZERO);
        }
    }
    if let Some(req) = ctx.core.shutdown.filter(|s| s.nosave) {
        // SHUTDOWN NOSAVE while busy: as in Redis, the server exits from here, the script unfinished.
        if crate::server::prepare_shutdown(ctx.core, req) {
            std::process::exit(0);
        }
    }
    if !ctx.core.script_run.as_ref().is_some_and(|r| r.killed) {
        return Ok(VmState::Continue);
    }
    // From now on on every line too, so that catching the error cannot keep the script alive.
    install_hook(lua, current_shared(lua), true);
    Err(mlua::Error::RuntimeError(KILLED.into()))
}

/// Install the instruction hook: every `HOOK_EVERY` instructions, and on every line too once the running
/// script must stop.
fn install_hook(lua: &Lua, shared: Rc<Shared>, every_line: bool) {
    let mut triggers = HookTriggers::new().every_nth_instruction(HOOK_EVERY);
    if every_line {
        triggers = triggers.every_line();
    }
    lua.set_hook(triggers, move |lua, _| {
        // SAFETY: see the module doc; the reference ends with this invocation.
        match unsafe { shared.current() } {
            Some(run) => hook(lua, run),
            None if load_timed_out(&shared) => {
                install_hook(lua, Rc::clone(&shared), true);
                Err(mlua::Error::RuntimeError(LOAD_TIMEOUT.into()))
            }
            None => Ok(VmState::Continue),
        }
    });
}

/// The error a library's code ends with when it runs too long at FUNCTION LOAD.
const LOAD_TIMEOUT: &str = "ERR FUNCTION LOAD timeout";

fn load_timed_out(shared: &Shared) -> bool {
    shared.load_deadline.get().is_some_and(|d| monotonic_us() > d)
}

/// The message of an error a script raised: an error table's `err`, or the value as text.
pub fn error_message(e: &Value) -> String {
    match e {
        Value::Table(t) => match convert::error_table(t) {
            Some(err) => String::from_utf8_lossy(&err.message).into_owned(),
            None => "execution failure".into(),
        },
        Value::String(s) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
        _ => "execution failure".into(),
    }
}

/// The `Shared` of the VM whose hook is running (kept as app data).
fn current_shared(lua: &Lua) -> Rc<Shared> {
    lua.app_data_ref::<Rc<Shared>>()
        .map(|s| Rc::clone(&s))
        .expect("every VM keeps its Shared as app data")
}

/// The error a killed script ends with (FUNCTION KILL's too, as in Redis).
pub const KILLED: &str = "ERR Script killed by user with SCRIPT KILL...";

/// The host's functions the glue builds the `redis` table from.
fn natives(lua: &Lua, shared: &Rc<Shared>, kind: VmKind) -> mlua::Result<Table> {
    lua.set_app_data(Rc::clone(shared));
    let t = lua.create_table()?;
    // redis.call and redis.pcall are C functions reading their arguments from the Lua stack and
    // building the reply's Lua value there: the hot path of every script, kept clear of mlua's
    // conversions (see `redis_call`).
    t.raw_set("call", raw_redis_call::<true>(lua, shared)?)?;
    t.raw_set("pcall", raw_redis_call::<false>(lua, shared)?)?;
    let s = Rc::clone(shared);
    t.raw_set(
        "killed",
        lua.create_function(move |_, ()| {
            if load_timed_out(&s) {
                return Ok(Some(LOAD_TIMEOUT));
            }
            // SAFETY: see the module doc.
            let Some(run) = (unsafe { s.current() }) else {
                return Ok(None);
            };
            // SAFETY: see the module doc.
            let ctx = unsafe { &mut *run.ctx };
            Ok(ctx.core.script_run.as_ref().filter(|r| r.killed).map(|_| KILLED))
        })?,
    )?;
    t.raw_set(
        "error_code",
        lua.create_function(|lua, msg: mlua::String| lua.create_string(error_code(&msg.as_bytes())))?,
    )?;
    t.raw_set(
        "sha1hex",
        raising_fn(lua, |_, args: MultiValue| {
            if args.len() != 1 {
                return Ok((None, Some("ERR wrong number of arguments")));
            }
            let bytes = lua_bytes(&args[0]).unwrap_or_default();
            Ok((Some(crate::util::sha1_hex(&bytes)), None))
        })?,
    )?;
    t.raw_set(
        "log",
        raising_fn(lua, |_, args: MultiValue| Ok((Value::Nil, log(args))))?,
    )?;
    let s = Rc::clone(shared);
    t.raw_set(
        "setresp",
        raising_fn(lua, move |_, args: MultiValue| {
            if args.len() != 1 {
                return Ok((Value::Nil, Some("ERR redis.setresp() requires one argument.")));
            }
            // As Redis: `lua_tonumber` (0 for what is not a number) truncated to an integer.
            let resp = match lua_number(&args[0]).map_or(0, convert::number_to_i64) {
                2 => Protocol::Resp2,
                3 => Protocol::Resp3,
                _ => return Ok((Value::Nil, Some("ERR RESP version must be 2 or 3."))),
            };
            // SAFETY: see the module doc.
            if let Some(run) = unsafe { s.current() } {
                run.resp = resp;
            }
            Ok((Value::Nil, None))
        })?,
    )?;
    let s = Rc::clone(shared);
    t.raw_set(
        "set_repl",
        raising_fn(lua, move |_, args: MultiValue| {
            if args.len() != 1 {
                return Ok((Value::Nil, Some("ERR redis.set_repl() requires two arguments.")));
            }
            // As Redis: `lua_tonumber` (0, REPL_NONE, for what is not a number) truncated.
            let repl = lua_number(&args[0]).map_or(0, convert::number_to_i64);
            if !(0..=3).contains(&repl) {
                return Ok((
                    Value::Nil,
                    Some("ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE."),
                ));
            }
            // SAFETY: see the module doc.
            if let Some(run) = unsafe { s.current() } {
                // One journal feeds the AOF and the replicas alike: an effect goes to both or neither.
                run.replicate = repl != 0;
            }
            Ok((Value::Nil, None))
        })?,
    )?;
    t.raw_set(
        "acl_check_cmd",
        raising_fn(lua, |_, args: MultiValue| {
            let Some(argv) = args.iter().map(lua_bytes).collect::<Option<Vec<Vec<u8>>>>() else {
                return Ok((
                    None,
                    Some("ERR Lua redis lib command arguments must be strings or integers"),
                ));
            };
            if argv.is_empty() {
                return Ok((
                    None,
                    Some("ERR Please specify at least one argument for this redis lib call"),
                ));
            }
            let owned = OwnedArgs::from_slices(argv.iter().map(Vec::as_slice));
            match table::lookup_args(&owned.view()) {
                // One user with every permission: any known command is allowed.
                Lookup::Found(..) => Ok((Some(true), None)),
                _ => Ok((None, Some("ERR Invalid command passed to redis.acl_check_cmd()"))),
            }
        })?,
    )?;
    let rng = Rc::clone(&shared.rng);
    t.raw_set(
        "random",
        raising_fn(lua, move |lua, args: MultiValue| {
            let mut g = rng.get();
            let r = g.next_unit();
            rng.set(g);
            // A failure is a message raised as luaL_error raises it (the number says so).
            Ok(match random_result(r, &args) {
                Ok(v) => (Value::Number(v), Value::Nil),
                Err(msg) => (Value::String(lua.create_string(msg)?), Value::Integer(1)),
            })
        })?,
    )?;
    let rng = Rc::clone(&shared.rng);
    t.raw_set(
        "randomseed",
        lua.create_function(move |_, seed: Value| {
            let mut g = rng.get();
            g.seed(lua_number(&seed).map_or(0, |n| n as i64 as i32));
            rng.set(g);
            Ok(())
        })?,
    )?;
    t.raw_set("version", crate::config::REDIS_VERSION)?;
    t.raw_set("version_num", crate::config::REDIS_VERSION_NUM)?;
    if kind == VmKind::Function {
        let s = Rc::clone(shared);
        t.raw_set(
            "register_function",
            raising_fn(lua, move |_, args: MultiValue| {
                let mut registering = s.registering.borrow_mut();
                let Some(registered) = registering.as_mut() else {
                    return Ok((
                        None::<bool>,
                        Some("ERR redis.register_function can only be called on FUNCTION LOAD command".to_string()),
                    ));
                };
                Ok(match registration(args) {
                    Ok(r) if registered.iter().any(|x| x.name == r.name) => {
                        (None, Some("ERR Function already exists in the library".to_string()))
                    }
                    Ok(r) => {
                        registered.push(r);
                        (None, None)
                    }
                    Err(e) => (None, Some(format!("ERR {e}"))),
                })
            })?,
        )?;
    }
    Ok(t)
}

/// `math.random` as Redis defines it over rand48: [0,1) with no argument, [1,m] or [m,n] otherwise.
/// A failure is luaL_error's message (without the position).
fn random_result(r: f64, args: &MultiValue) -> Result<f64, String> {
    let int_arg = |v: &Value, n: usize| -> Result<i64, String> {
        lua_number(v).map(|x| x as i32 as i64).ok_or_else(|| {
            let got = match v {
                Value::Nil => "nil",
                Value::Boolean(_) => "boolean",
                Value::Table(_) => "table",
                Value::Function(_) => "function",
                _ => "value",
            };
            format!("bad argument #{n} to 'random' (number expected, got {got})")
        })
    };
    match args.len() {
        0 => Ok(r),
        1 => {
            let u = int_arg(&args[0], 1)?;
            if u < 1 {
                return Err("bad argument #1 to 'random' (interval is empty)".into());
            }
            Ok((r * u as f64).floor() + 1.0)
        }
        2 => {
            let (l, u) = (int_arg(&args[0], 1)?, int_arg(&args[1], 2)?);
            if l > u {
                return Err("bad argument #2 to 'random' (interval is empty)".into());
            }
            Ok((r * (u - l + 1) as f64).floor() + l as f64)
        }
        _ => Err("wrong number of arguments".into()),
    }
}

/// `redis.log(level, message...)`: the message words joined by blanks, at Redis's log levels.
fn log(args: MultiValue) -> Option<&'static str> {
    if args.len() < 2 {
        return Some("ERR redis.log() requires two arguments or more.");
    }
    // As Redis: a number (or numeric string) truncated to an integer.
    let Some(level) = lua_number(&args[0]) else {
        return Some("ERR First argument must be a number (log level).");
    };
    let level = convert::number_to_i64(level);
    if !(0..=3).contains(&level) {
        return Some("ERR Invalid debug level.");
    }
    let words: Vec<Vec<u8>> = args.iter().skip(1).filter_map(lua_bytes).collect();
    let text = String::from_utf8_lossy(&words.join(&b' ')).into_owned();
    match level {
        0 => crate::log_debug!("{text}"),
        1 => crate::log_verbose!("{text}"),
        2 => crate::log_notice!("{text}"),
        _ => crate::log_warning!("{text}"),
    }
    None
}

/// A Lua string or number as bytes (numbers as Lua prints them: `%.14g`), as `lua_tolstring` gives.
fn lua_bytes(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Integer(i) => Some(i.to_string().into_bytes()),
        Value::Number(n) => Some(format_lua_number(*n).into_bytes()),
        _ => None,
    }
}

/// A Lua number, or a string that converts to one (`lua_tonumber`).
fn lua_number(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Number(n) => Some(*n),
        Value::String(s) => std::str::from_utf8(&s.as_bytes())
            .ok()
            .and_then(|t| t.trim().parse().ok()),
        _ => None,
    }
}

/// Lua 5.1's number-to-string (`%.14g`).
fn format_lua_number(n: f64) -> String {
    let mut buf = [0u8; 64];
    // SAFETY: snprintf writes at most buf.len() bytes, NUL included, into the buffer we own.
    let len = unsafe { libc::snprintf(buf.as_mut_ptr().cast(), buf.len(), c"%.14g".as_ptr(), n) };
    String::from_utf8_lossy(&buf[..(len.max(0) as usize).min(buf.len() - 1)]).into_owned()
}

/// Redis's error-table message for an `error_reply` text. Redis puts a `-` in front (unless there is
/// one) and reads what follows as `CODE message`: its first word is the code, and a text of one word
/// gets `ERR` as its code; a trailing newline goes.
pub fn error_code(msg: &[u8]) -> Vec<u8> {
    let text = msg.strip_prefix(b"-").unwrap_or(msg);
    let mut end = text.len();
    while end > 0 && (text[end - 1] == b'\r' || text[end - 1] == b'\n') {
        end -= 1;
    }
    let text = &text[..end];
    if text.contains(&b' ') {
        return text.to_vec();
    }
    let mut out = b"ERR ".to_vec();
    out.extend_from_slice(text);
    out
}

/// A host function for scripts that can fail with Redis's error table. `f` answers `(value, failure)`:
/// no failure (nil or false), the value is the result; otherwise it raises: a message as `{err =
/// message}` (Redis's library errors), `true` the value itself, a number the value (a message)
/// after the caller's position, as `luaL_error` raises it (a Lua library's errors).
fn raising_fn<R, F>(lua: &Lua, f: F) -> mlua::Result<Function>
where
    R: mlua::IntoLuaMulti,
    F: Fn(&Lua, MultiValue) -> mlua::Result<R> + 'static,
{
    raising(lua, lua.create_function(f)?)
}

/// Wrap `f` (see `raising_fn`) in a C function (to Lua) that raises its failure. It must be a C
/// function, not Lua glue: in `return redis.call(...)` a Lua function would be a tail call, which takes
/// the script's frame, and the error could no longer say where it happened; and it must raise the
/// plain table, not mlua's wrapper of a Rust error.
fn raising(lua: &Lua, f: Function) -> mlua::Result<Function> {
    unsafe extern "C-unwind" fn call_or_raise(state: *mut mlua::ffi::lua_State) -> std::ffi::c_int {
        use mlua::ffi;
        // SAFETY (whole body): plain Lua C API calls on the state Lua called us with. A C function
        // has LUA_MINSTACK free slots; this uses three. Nothing here owns memory, so lua_error's
        // longjmp (and one out of lua_call or an allocation) skips no destructor.
        let n = ffi::lua_gettop(state);
        ffi::lua_pushvalue(state, ffi::lua_upvalueindex(1));
        ffi::lua_insert(state, 1);
        ffi::lua_call(state, n, 2);
        match ffi::lua_type(state, -1) {
            ffi::LUA_TNIL => {}
            ffi::LUA_TBOOLEAN if ffi::lua_toboolean(state, -1) == 0 => {}
            ffi::LUA_TSTRING => {
                ffi::lua_createtable(state, 0, 1);
                ffi::lua_insert(state, -2);
                ffi::lua_setfield(state, -2, c"err".as_ptr());
                ffi::lua_error(state);
            }
            ffi::LUA_TNUMBER => {
                ffi::lua_pop(state, 1);
                ffi::luaL_where(state, 1);
                ffi::lua_insert(state, -2);
                ffi::lua_concat(state, 2);
                ffi::lua_error(state);
            }
            _ => {
                ffi::lua_pop(state, 1);
                ffi::lua_error(state);
            }
        }
        ffi::lua_pop(state, 1);
        1
    }
    // SAFETY: pushes one C closure with `f` as its upvalue; the closure is the result.
    unsafe {
        lua.exec_raw::<Function>(f, |state| {
            mlua::ffi::lua_pushcclosure(state, call_or_raise, 1);
        })
    }
}

/// `redis.call` (`RAISE`) or `redis.pcall` as a C closure over the VM's `Shared` (kept alive as long
/// as the Lua state by its app data).
fn raw_redis_call<const RAISE: bool>(lua: &Lua, shared: &Rc<Shared>) -> mlua::Result<Function> {
    let ptr = Rc::as_ptr(shared).cast_mut().cast::<std::ffi::c_void>();
    // SAFETY: pushes one light userdata and makes it the upvalue of one C closure, the result.
    unsafe {
        lua.exec_raw::<Function>((), |state| {
            mlua::ffi::lua_pushlightuserdata(state, ptr);
            mlua::ffi::lua_pushcclosure(state, redis_call::<RAISE>, 1);
        })
    }
}

/// Push a sequence of strings (KEYS, ARGV, a function's keys and arguments).
///
/// # Safety
/// A Lua C API caller's state with two free slots; may raise (out of memory).
unsafe fn push_strings(state: *mut mlua::ffi::lua_State, values: &[&[u8]]) {
    use mlua::ffi;
    ffi::lua_createtable(state, values.len().min(1 << 20) as i32, 0);
    for (i, v) in values.iter().enumerate() {
        ffi::lua_pushlstring(state, v.as_ptr().cast(), v.len());
        ffi::lua_rawseti(state, -2, (i + 1) as ffi::lua_Integer);
    }
}

/// How a script's command went, before its Lua value is built.
enum Verdict {
    /// Refused before it ran (Redis's text): an error table.
    Refused(&'static [u8]),
    /// Refused by the server's checks, which counted the error already (Redis's `scriptCall`): an
    /// error table marked so that a script returning it is not counted twice.
    Rejected(&'static str),
    /// It ran; its reply is in the run's reply buffer.
    Replied,
}

/// `redis.call`/`redis.pcall`: run the command on the stack and leave its reply as one Lua value; an
/// error reply (or a refusal) becomes an error table, which `redis.call` raises.
///
/// Two phases. The Rust one (`script_call`) reads the arguments and runs the command; it owns
/// memory, may panic (caught here, resumed by `Vm::run` once Lua has unwound) and never enters Lua.
/// Then, with nothing owned on this frame, the value is built with plain Lua C API calls, which may
/// raise (out of memory under the VM's limit) by longjmp: no destructor is skipped.
unsafe extern "C-unwind" fn redis_call<const RAISE: bool>(state: *mut mlua::ffi::lua_State) -> std::ffi::c_int {
    use mlua::ffi;
    // SAFETY (whole body): the upvalue is the `Shared` of this VM (see `raw_redis_call`); the run it
    // points to is valid during the native call (module doc). Lua C API calls on our own state.
    let shared = &*(ffi::lua_touserdata(state, ffi::lua_upvalueindex(1)) as *const Shared);
    let verdict = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| script_call(state, shared))) {
        Ok(v) => v,
        Err(payload) => {
            shared.panic.set(Some(payload));
            shared.panicked.set(true);
            Verdict::Refused(b"ERR internal error in a script's command")
        }
    };
    let failed = match verdict {
        Verdict::Refused(msg) => {
            convert::push_error_table(state, msg, false);
            true
        }
        Verdict::Rejected(msg) => {
            convert::push_error_table(state, msg.as_bytes(), true);
            true
        }
        Verdict::Replied => match shared.current() {
            Some(run) => {
                let buf: &[u8] = &run.reply.buf;
                let mut pos = 0;
                convert::push_reply(state, buf, &mut pos);
                buf.first() == Some(&b'-')
            }
            None => {
                ffi::lua_pushnil(state);
                false
            }
        },
    };
    if RAISE && failed {
        ffi::lua_error(state);
    }
    1
}

/// Check the command on the Lua stack as Redis checks a script's commands, and run it one level down
/// as the script client; its reply is left in the run's reply buffer.
///
/// # Safety
/// `state` is the state of the running native call, `shared` its VM's.
unsafe fn script_call(state: *mut mlua::ffi::lua_State, shared: &Shared) -> Verdict {
    use mlua::ffi;
    let Some(run) = shared.current() else {
        return Verdict::Refused(b"ERR redis.call/pcall can only be called inside a script invocation");
    };
    // A command panicked earlier in this script: the server's state may be half-updated, so no other
    // command runs; the panic resumes when the script ends.
    if shared.panicked.get() {
        return Verdict::Refused(b"ERR internal error in a script's command");
    }
    let n = ffi::lua_gettop(state);
    if n == 0 {
        return Verdict::Refused(b"ERR Please specify at least one argument for this redis lib call");
    }
    let mut owned = shared.args.take();
    owned.clear();
    for i in 1..=n {
        match ffi::lua_type(state, i) {
            ffi::LUA_TSTRING => {
                let mut len = 0;
                let p = ffi::lua_tolstring(state, i, &mut len);
                owned.push(std::slice::from_raw_parts(p.cast::<u8>(), len));
            }
            ffi::LUA_TNUMBER => {
                let n = ffi::lua_tonumber(state, i);
                // As Redis prints a number argument (`%.17g`: 3 is "3", 1e18 is "1e+18").
                let mut text = Vec::with_capacity(24);
                resp::num::format_double(&mut text, n);
                owned.push(&text);
            }
            _ => {
                shared.args.set(owned);
                return Verdict::Refused(b"ERR Lua redis lib command arguments must be strings or integers");
            }
        }
    }
    let verdict = run_command(run, &owned.view());
    shared.args.set(owned);
    verdict
}

/// Refuse a script's command: count the error now, and the command's rejected call.
fn reject(core: &mut crate::server::core::Core, idx: Option<usize>, msg: &'static str) -> Verdict {
    core.count_error(msg);
    if let Some(i) = idx {
        core.cmdstats[i].rejected_calls += 1;
    }
    // This error is judged (as the command's rejection): the script's call is not failed by it.
    core.err_checkpoint = core.stats.total_error_replies;
    Verdict::Rejected(msg)
}

/// The Rust side of `redis.call`: gates, then `dispatch::call` as the script client. As in Redis, a
/// refusal here counts as an error reply at once (and as a rejected call of a known command), whether
/// or not the script passes it on.
fn run_command(run: &mut Run, argv: &crate::commands::Args<'_>) -> Verdict {
    // SAFETY: see the module doc; no other reference to the context is live during a native call.
    let ctx = unsafe { &mut *run.ctx };
    let (cmd, idx) = match table::lookup_args(argv) {
        Lookup::Found(cmd, idx) => (cmd, idx),
        Lookup::Unknown | Lookup::UnknownSub(_) => {
            return reject(ctx.core, None, "ERR Unknown Redis command called from script")
        }
    };
    if !cmd.arity_ok(argv.len()) {
        return reject(
            ctx.core,
            Some(idx),
            "ERR Wrong number of args calling Redis command from script",
        );
    }
    if cmd.has(flags::NOSCRIPT) {
        return reject(ctx.core, Some(idx), "ERR This Redis command is not allowed from script");
    }
    // LOCK.FENCED is judged by the command it runs, as the other gates judge it.
    let cmd_flags = dispatch::request_flags(ctx.core, cmd, argv);
    if cmd_flags & flags::WRITE != 0 && run.read_only {
        return reject(
            ctx.core,
            Some(idx),
            "ERR Write commands are not allowed from read-only scripts.",
        );
    }
    // Over maxmemory at the start, a script may not begin to write with a command that grows memory
    // (once it has written, stopping halfway would be worse).
    let wrote = ctx.core.script_run.as_ref().is_some_and(|r| r.wrote);
    if cmd_flags & flags::DENYOOM != 0
        && run.oom_at_start
        && !wrote
        && run.flags & script_flags::ALLOW_OOM == 0
        && ctx.core.config.maxmemory > 0
    {
        return reject(ctx.core, Some(idx), CmdError::OOM_TEXT);
    }
    // SAFETY: the script client is owned by the caller of `Vm::run` for the whole run.
    let client = unsafe { &mut *run.client };
    let mut out = std::mem::replace(&mut run.reply, ReplyBuf::new(run.resp));
    out.buf.clear();
    out.proto = run.resp;
    let dirty_before = ctx.core.stats.dirty;
    let replicate = ctx.core.journal.replicating();
    ctx.core.journal.set_replicating(run.replicate);
    dispatch::call(
        ctx.core,
        ctx.host.as_deref_mut(),
        client,
        cmd,
        idx,
        argv,
        &mut out,
        Caller::Script,
    );
    ctx.core.journal.set_replicating(replicate);
    if ctx.core.stats.dirty != dirty_before {
        if let Some(r) = ctx.core.script_run.as_mut() {
            r.wrote = true;
        }
    }
    run.reply = out;
    if run.reply.buf.is_empty() {
        // A handler always writes one complete reply.
        return Verdict::Refused(b"ERR the command wrote no reply");
    }
    Verdict::Replied
}

/// A script in EVAL's cache.
pub struct CachedScript {
    pub func: Rc<Function>,
    /// Its shebang flags (`EVAL_COMPAT` without a shebang).
    pub flags: u32,
    /// The body's length (`used_memory_scripts_eval`).
    pub body_len: usize,
}

/// EVAL's side of scripting: its VM, the scripts compiled so far (by SHA1), the script client.
pub struct Scripts {
    vm: Rc<Vm>,
    cache: ahash::AHashMap<String, CachedScript>,
    /// The client the scripts' commands run as (taken out for a run).
    pub client: Option<Box<Client>>,
    /// `math.random`'s generator, shared by every VM and kept across SCRIPT FLUSH.
    pub rng: Rc<Cell<Rand48>>,
    /// A buffer for the replies of the scripts' commands (kept to reuse its memory).
    pub reply: Option<ReplyBuf>,
}

/// Run `f`, the host's own work on the VM, with the memory limit lifted. Under a limit mlua wraps each
/// of its calls into Lua in a protected call (a C closure and a `lua_pcall` each), which costs more than
/// the work itself; without one it calls Lua directly. Only conversions whose size the server already
/// holds run here (a request's arguments, a command's reply); script code never does.
pub fn unbounded<R>(lua: &Lua, f: impl FnOnce() -> R) -> R {
    let limit = lua.set_memory_limit(0).unwrap_or(0);
    let result = f();
    let _ = lua.set_memory_limit(limit);
    result
}

/// The id of the client scripts run their commands as (no connection has it).
pub const SCRIPT_CLIENT_ID: u64 = u64::MAX - 1;

/// The most memory a VM may hold: a bound Redis does not have, so that a runaway script fails with
/// `not enough memory` instead of taking the server's memory.
pub const VM_MEMORY_LIMIT: usize = 1 << 30;

impl Scripts {
    pub fn new() -> Scripts {
        let rng = Rc::new(Cell::new(Rand48::default()));
        Scripts {
            vm: Rc::new(new_vm(VmKind::Eval, &rng)),
            cache: Default::default(),
            client: None,
            rng,
            reply: None,
        }
    }

    pub fn vm(&self) -> Rc<Vm> {
        Rc::clone(&self.vm)
    }

    /// The cached script with this SHA1 (40 lowercase hex digits).
    pub fn get(&self, sha: &str) -> Option<&CachedScript> {
        self.cache.get(sha)
    }

    pub fn contains(&self, sha: &str) -> bool {
        self.cache.contains_key(sha)
    }

    /// Compile and cache a body (once: a known SHA1 is not compiled again). Returns its SHA1, or the
    /// error to answer (`Error compiling script`, or a shebang error).
    pub fn load(&mut self, body: &[u8]) -> Result<String, CmdError> {
        let sha = crate::util::sha1_hex(body);
        if self.cache.contains_key(&sha) {
            return Ok(sha);
        }
        let (flags, source) = eval_shebang(body)?;
        let func = self
            .vm
            .compile("@user_script", &source)
            .map_err(|e| CmdError::err(format!("Error compiling script (new function): {e}")))?;
        self.cache.insert(
            sha.clone(),
            CachedScript {
                func: Rc::new(func),
                flags,
                body_len: body.len(),
            },
        );
        Ok(sha)
    }

    /// SCRIPT FLUSH: a new VM, an empty cache (the generator goes on).
    pub fn flush(&mut self) {
        self.cache.clear();
        self.vm = Rc::new(new_vm(VmKind::Eval, &self.rng));
    }

    /// How many scripts are cached, and their bodies' bytes.
    pub fn cached(&self) -> (usize, usize) {
        (self.cache.len(), self.cache.values().map(|s| s.body_len).sum())
    }

    /// Take the script client for a run (made on first use).
    pub fn take_client(&mut self, now_ms: i64) -> Box<Client> {
        self.client.take().unwrap_or_else(|| {
            let mut c = Box::new(Client::new(SCRIPT_CLIENT_ID, usize::MAX, None, now_ms));
            c.authenticated = true;
            c
        })
    }
}

impl Default for Scripts {
    fn default() -> Self {
        Scripts::new()
    }
}

/// A new VM. Creating one is the server's own setup: failing is a bug, not a condition to handle.
pub fn new_vm(kind: VmKind, rng: &Rc<Cell<Rand48>>) -> Vm {
    let vm = Vm::new(kind, Rc::clone(rng)).expect("a script VM can always be created");
    // Setting a limit fails only when the state is already over it; a new one never is.
    let _ = vm.lua.set_memory_limit(VM_MEMORY_LIMIT);
    vm
}

/// An EVAL body's shebang (`#!lua flags=...`): the flags, and the source to compile (the shebang line
/// turned into a comment, so line numbers stay the script's). Without one, `EVAL_COMPAT`.
pub fn eval_shebang(body: &[u8]) -> Result<(u32, std::borrow::Cow<'_, [u8]>), CmdError> {
    let flags = shebang_flags(body)?;
    if flags & script_flags::EVAL_COMPAT != 0 {
        return Ok((flags, body.into()));
    }
    let mut source = b"--".to_vec();
    source.extend_from_slice(&body[2..]);
    Ok((flags, source.into()))
}

/// The flags an EVAL body declares in its shebang, with Redis's errors; `EVAL_COMPAT` without one.
pub fn shebang_flags(body: &[u8]) -> Result<u32, CmdError> {
    if !body.starts_with(b"#!") {
        return Ok(script_flags::EVAL_COMPAT);
    }
    let Some(end) = body.iter().position(|&b| b == b'\n') else {
        return Err(CmdError::err("Invalid script shebang"));
    };
    let parts = crate::config::parse::split_args(&body[..end])
        .ok()
        .filter(|p| !p.is_empty())
        .ok_or_else(|| CmdError::err("Invalid engine in script shebang"))?;
    if parts[0] != b"#!lua" {
        return Err(CmdError::err(format!(
            "Unexpected engine in script shebang: {}",
            String::from_utf8_lossy(&parts[0])
        )));
    }
    let mut flags = 0;
    for p in &parts[1..] {
        let Some(list) = p.strip_prefix(b"flags=") else {
            return Err(CmdError::err(format!(
                "Unknown lua shebang option: {}",
                String::from_utf8_lossy(p)
            )));
        };
        // `flags=` alone is no flag; otherwise every comma-separated name must be one (an empty
        // name, as in `no-writes,`, is refused).
        if list.is_empty() {
            continue;
        }
        for name in list.split(|&b| b == b',') {
            flags |= script_flags::parse(name).ok_or_else(|| {
                CmdError::err(format!(
                    "Unexpected flag in script shebang: {}",
                    String::from_utf8_lossy(name)
                ))
            })?;
        }
    }
    Ok(flags)
}
