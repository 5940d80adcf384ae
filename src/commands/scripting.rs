//! EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (LOAD, EXISTS, FLUSH, KILL, HELP).
//!
//! The Lua host is `crate::scripting`; this module parses the commands, applies the checks Redis makes
//! before a script runs (its shebang flags against `*_RO`, `maxmemory`), runs it ([`run_script`], shared
//! with FCALL) and turns what it returned or raised into the reply. A script's commands are journaled
//! as their effects, wrapped with the rest of the script's in MULTI/EXEC by the outermost commit; the
//! script itself never is.
//!
//! Differences from Redis 7.0: SCRIPT DEBUG (the Lua debugger) is not built; a script's VM may hold at
//! most 1 GiB (`not enough memory` past it, where Redis has no bound); `error({})`, on which Redis 7.0
//! crashes, answers `ERR unknown error`.

use std::rc::Rc;

use mlua::{Function, Value};
use resp::{Protocol, ReplyBuf};

use super::{Args, Ctx};
use crate::clock::monotonic_us;
use crate::error::{CmdError, CmdResult};
use crate::scripting::convert::{self, error_table, sanitized};
use crate::scripting::{script_flags, Outcome, RunSetup, ScriptRun, Vm, VmKind};

/// EVAL script numkeys [key ...] [arg ...]
pub fn eval(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    eval_generic(ctx, args, out, Source::Body, false)
}

/// EVALSHA sha1 numkeys [key ...] [arg ...]
pub fn evalsha(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    eval_generic(ctx, args, out, Source::Sha, false)
}

/// EVAL_RO script numkeys [key ...] [arg ...]
pub fn eval_ro(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    eval_generic(ctx, args, out, Source::Body, true)
}

/// EVALSHA_RO sha1 numkeys [key ...] [arg ...]
pub fn evalsha_ro(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    eval_generic(ctx, args, out, Source::Sha, true)
}

/// Whether the first argument is the script or its SHA1.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    Body,
    Sha,
}

/// A script's keys and its other arguments.
pub type KeysAndArgs<'a> = (Vec<&'a [u8]>, Vec<&'a [u8]>);

/// `numkeys` and the split of the rest into keys and arguments, with Redis's errors.
pub fn keys_and_args<'a>(args: &Args<'a>) -> Result<KeysAndArgs<'a>, CmdError> {
    let numkeys = args.int(2)?;
    if numkeys < 0 {
        return Err(CmdError::err("Number of keys can't be negative"));
    }
    let rest: Vec<&[u8]> = args.rest(3).collect();
    if numkeys as u64 > rest.len() as u64 {
        return Err(CmdError::err("Number of keys can't be greater than number of args"));
    }
    let (keys, argv) = rest.split_at(numkeys as usize);
    Ok((keys.to_vec(), argv.to_vec()))
}

fn eval_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf, source: Source, ro: bool) -> CmdResult {
    let (keys, argv) = keys_and_args(args)?;
    let sha = match source {
        Source::Body => ctx.core.scripts.load(args.get(1))?,
        Source::Sha => std::str::from_utf8(args.get(1))
            .map(str::to_ascii_lowercase)
            .unwrap_or_default(),
    };
    let Some(script) = ctx.core.scripts.get(&sha) else {
        return Err(CmdError::Coded("NOSCRIPT No matching script. Please use EVAL.".into()));
    };
    let (func, flags) = (Rc::clone(&script.func), script.flags);
    let vm = ctx.core.scripts.vm();
    if vm.set_keys_and_argv(&keys, &argv).is_err() {
        return Err(CmdError::err(format!("Error running script {sha}, not enough memory")));
    }
    let target = Target {
        vm,
        func,
        name: sha,
        kind: VmKind::Eval,
        flags,
        ro,
        call_args: None,
    };
    run_script(ctx, args, target, out)
}

/// A script about to run: its VM, function, name and flags.
pub struct Target {
    pub vm: Rc<Vm>,
    pub func: Rc<Function>,
    /// The script's SHA1 (EVAL) or the function's name (FCALL).
    pub name: String,
    pub kind: VmKind,
    pub flags: u32,
    /// Called by EVAL_RO, EVALSHA_RO or FCALL_RO.
    pub ro: bool,
    /// A library function's parameters: its keys and arguments (a script has KEYS and ARGV instead).
    pub call_args: Option<(mlua::Table, mlua::Table)>,
}

/// The checks Redis makes before a script runs (scriptPrepareForRun): a script that declares its flags
/// may write only through a writing command, and not past `maxmemory` unless it allows it.
fn check_before_run(ctx: &Ctx<'_>, t: &Target, oom: bool) -> CmdResult {
    if t.flags & script_flags::EVAL_COMPAT != 0 {
        return Ok(());
    }
    // (Sent directly, a script that may write is `denyoom` by its flags, so the command gate has
    // already answered OOM; this order is what EXEC meets.)
    if t.flags & script_flags::NO_WRITES == 0 && t.ro {
        return Err(CmdError::err(
            "Can not execute a script with write flag using *_ro command.",
        ));
    }
    if t.flags & (script_flags::ALLOW_OOM | script_flags::NO_WRITES) == 0 && oom && !ctx.core.busy() {
        return Err(CmdError::Oom);
    }
    Ok(())
}

/// Run a script for the command in `ctx` and answer with what it returned or raised.
pub fn run_script(ctx: &mut Ctx<'_>, args: &Args<'_>, t: Target, out: &mut ReplyBuf) -> CmdResult {
    let max = ctx.core.config.maxmemory;
    let oom = max > 0 && crate::memory::used_memory() > max;
    check_before_run(ctx, &t, oom)?;
    let read_only = t.ro || t.flags & script_flags::NO_WRITES != 0;
    let mut client = ctx.core.scripts.take_client(ctx.core.now_ms);
    client.db = ctx.client.db;
    ctx.core.script_run = Some(ScriptRun {
        kind: t.kind,
        name: t.name.clone(),
        // Only FUNCTION STATS shows it.
        command: if t.kind == VmKind::Function {
            args.to_vec()
        } else {
            vec![]
        },
        start_us: monotonic_us(),
        timed_out: false,
        wrote: false,
        killed: false,
    });
    let setup = RunSetup {
        flags: t.flags,
        read_only,
        oom_at_start: oom,
        reply: ctx
            .core
            .scripts
            .reply
            .take()
            .unwrap_or_else(|| ReplyBuf::new(Protocol::Resp2)),
        args: t.call_args,
    };
    let (outcome, resp, reply) = t.vm.run(ctx, &mut client, setup, &t.func);
    ctx.core.scripts.reply = Some(reply);
    ctx.core.scripts.client = Some(client);
    let run = ctx.core.script_run.take();
    if run.as_ref().is_some_and(|r| r.timed_out) {
        crate::log_warning!("Script execution finished after the busy-reply-threshold was reached.");
    }
    match outcome {
        Outcome::Returned(v) => reply_with(ctx, v, out, resp),
        Outcome::Raised(e) => Err(raised_error(&e, &t.name)),
    }
}

/// What a script returned, as the reply: an error table is this command's error; anything else is
/// written as it converts (errors inside arrays are counted as Redis counts them).
fn reply_with(ctx: &mut Ctx<'_>, v: Value, out: &mut ReplyBuf, resp: Protocol) -> CmdResult {
    if let Value::Table(t) = &v {
        if let Some(e) = error_table(t) {
            return Err(error_reply(e.message, e.counted));
        }
    }
    let core = &mut *ctx.core;
    let mut relayed = false;
    convert::lua_to_reply(v, out, resp, &mut |msg, counted| {
        if counted {
            relayed = true;
        } else {
            let mut line = b"-".to_vec();
            line.extend_from_slice(&sanitized(msg));
            core.count_error(&String::from_utf8_lossy(&line[1..]));
        }
    });
    if relayed {
        core.relayed_error = true;
    }
    Ok(())
}

/// An error message from a script as this command's error.
fn error_reply(msg: Vec<u8>, counted: bool) -> CmdError {
    let line = String::from_utf8_lossy(&sanitized(&msg)).into_owned();
    if counted {
        CmdError::Relayed(line.into())
    } else {
        CmdError::Coded(line.into())
    }
}

/// A raised error as the command's error: the message, and where it happened (`script: <name>, on
/// <source>:<line>.`) when the error handler could tell.
fn raised_error(e: &Value, name: &str) -> CmdError {
    match e {
        Value::Table(t) => match error_table(t) {
            Some(err) => {
                let mut msg = err.message;
                if let (Some(source), Some(line)) = (err.source, err.line) {
                    msg.extend_from_slice(format!(" script: {name}, on ").as_bytes());
                    msg.extend_from_slice(&source);
                    msg.extend_from_slice(format!(":{line}.").as_bytes());
                }
                error_reply(msg, err.counted)
            }
            None => CmdError::err(format!("Error running script {name}, execution failure")),
        },
        Value::String(s) => {
            let text = String::from_utf8_lossy(&s.as_bytes()).into_owned();
            let text = text.strip_prefix("ERR ").unwrap_or(&text).to_string();
            CmdError::err(format!("Error running script {name}, {text}"))
        }
        _ => CmdError::err(format!("Error running script {name}, execution failure")),
    }
}

/// SCRIPT LOAD script
pub fn load(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let sha = ctx.core.scripts.load(args.get(2))?;
    out.bulk(sha.as_bytes());
    Ok(())
}

/// SCRIPT EXISTS sha1 [sha1 ...]
pub fn exists(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    out.array(args.len() - 2);
    for sha in args.rest(2) {
        let sha = String::from_utf8_lossy(sha).to_ascii_lowercase();
        out.int(ctx.core.scripts.contains(&sha) as i64);
    }
    Ok(())
}

/// SCRIPT FLUSH [ASYNC|SYNC]: the cache and the VM go (freed at once either way: they are small).
pub fn flush(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    if args.len() > 3 || (args.len() == 3 && !args.is(2, "sync") && !args.is(2, "async")) {
        return Err(CmdError::err("SCRIPT FLUSH only support SYNC|ASYNC option"));
    }
    ctx.core.scripts.flush();
    out.ok();
    Ok(())
}

/// SCRIPT KILL: stop the running EVAL script, if it has not written.
pub fn kill(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    kill_running(ctx, VmKind::Eval)?;
    out.ok();
    Ok(())
}

/// SCRIPT KILL and FUNCTION KILL: Redis's checks, in its order.
pub fn kill_running(ctx: &mut Ctx<'_>, kind: VmKind) -> CmdResult {
    let Some(run) = ctx.core.script_run.as_mut() else {
        return Err(CmdError::Coded("NOTBUSY No scripts in execution right now.".into()));
    };
    if run.wrote {
        return Err(CmdError::Coded(
            "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either \
             wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."
                .into(),
        ));
    }
    if run.kind != kind {
        // The other KILL is the one to use.
        return Err(CmdError::Busy(match run.kind {
            VmKind::Eval => "SCRIPT",
            VmKind::Function => "FUNCTION",
        }));
    }
    run.killed = true;
    crate::log_warning!("Lua script killed by user with SCRIPT KILL.");
    Ok(())
}

/// SCRIPT HELP
pub fn help(_ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    super::server::help_reply(
        out,
        "SCRIPT",
        &[
            (
                "EXISTS <sha1> [<sha1> ...]",
                "Whether each script is in the script cache (1) or not (0).",
            ),
            (
                "FLUSH [ASYNC|SYNC]",
                "Empty the script cache (both modes free it at once).",
            ),
            ("KILL", "Stop the running script, if it has not written yet."),
            (
                "LOAD <script>",
                "Compile a script into the cache without running it; answers its SHA1.",
            ),
        ],
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::testing::{bulk, Harness};
    use resp::Value;

    #[test]
    fn a_script_is_journaled_as_its_effects() {
        let mut h = Harness::new();
        h.tap_journal();
        h.run(&[
            "EVAL",
            "redis.call('set', 'a', '1') redis.call('incr', 'a') return 1",
            "0",
        ]);
        assert_eq!(h.effects(), ["SELECT 0", "MULTI", "set a 1", "incr a", "EXEC"]);
        // One write needs no wrapping; reads, and failed writes, leave nothing.
        h.run(&["EVAL", "return redis.call('set', KEYS[1], 'x', 'EX', '100')", "1", "b"]);
        let deadline = h.core.now_ms + 100_000;
        // Rewritten as Redis rewrites it (its own SET, not the script's spelling).
        assert_eq!(h.effects(), [format!("SET b x PXAT {deadline}")]);
        h.run(&["EVAL", "redis.call('get', 'a') redis.pcall('incr', 'b') return 1", "0"]);
        assert!(h.effects().is_empty());
    }

    #[test]
    fn set_repl_none_keeps_writes_out_of_the_journal() {
        let mut h = Harness::new();
        h.tap_journal();
        let script = "redis.call('set', 'a', '1') redis.set_repl(redis.REPL_NONE) redis.call('set', 'b', '2') \
                      redis.set_repl(redis.REPL_ALL) redis.call('set', 'c', '3')";
        h.run(&["EVAL", script, "0"]);
        assert_eq!(h.effects(), ["SELECT 0", "MULTI", "set a 1", "set c 3", "EXEC"]);
        assert_eq!(h.run(&["GET", "b"]), bulk("2"), "the write itself happened");
    }

    #[test]
    fn a_script_inside_exec_is_part_of_the_transaction_s_unit() {
        let mut h = Harness::new();
        h.tap_journal();
        h.run(&["MULTI"]);
        h.run(&["SET", "x", "1"]);
        h.run(&["EVAL", "return redis.call('incr', 'x')", "0"]);
        assert_eq!(
            h.run(&["EXEC"]),
            Value::Array(vec![Value::Simple(b"OK".to_vec()), Value::Int(2)])
        );
        assert_eq!(h.effects(), ["SELECT 0", "MULTI", "SET x 1", "incr x", "EXEC"]);
    }

    #[test]
    fn a_script_s_select_is_its_own() {
        let mut h = Harness::new();
        h.tap_journal();
        h.run(&[
            "EVAL",
            "redis.call('select', 5) return redis.call('set', 'k', 'v')",
            "0",
        ]);
        assert_eq!(h.client.db, 0, "the caller stays in its database");
        assert_eq!(h.effects(), ["SELECT 5", "set k v"]);
    }
}
