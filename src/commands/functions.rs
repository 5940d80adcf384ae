//! FCALL, FCALL_RO and FUNCTION (LOAD, DELETE, FLUSH, LIST, STATS, DUMP, RESTORE, KILL, HELP).
//!
//! The libraries live in `crate::scripting::functions`; a function runs through the same path as an
//! EVAL script (`scripting::run_script`), with its keys and arguments as its two parameters. The
//! commands that change the libraries are writes: they count as changes and are journaled as
//! received, as in Redis.

use resp::ReplyBuf;

use super::scripting::{keys_and_args, run_script, Target};
use super::{Args, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::scripting::functions::RestorePolicy;
use crate::scripting::{script_flags, VmKind};

/// FCALL function numkeys [key ...] [arg ...]
pub fn fcall(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    fcall_generic(ctx, args, out, false)
}

/// FCALL_RO function numkeys [key ...] [arg ...]
pub fn fcall_ro(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    fcall_generic(ctx, args, out, true)
}

fn fcall_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf, ro: bool) -> CmdResult {
    let Some(f) = ctx.core.functions.get(args.get(1)) else {
        return Err(CmdError::err("Function not found"));
    };
    let (func, name, flags) = (std::rc::Rc::clone(&f.callback), f.name.clone(), f.flags);
    if args.int(2).is_err() {
        return Err(CmdError::err("Bad number of keys provided"));
    }
    let (keys, argv) = keys_and_args(args)?;
    let vm = ctx.core.functions.vm();
    let call_args = vm
        .string_tables(&keys, &argv)
        .map_err(|_| CmdError::err(format!("Error running script {name}, not enough memory")))?;
    let target = Target {
        vm,
        func,
        name,
        kind: VmKind::Function,
        flags,
        ro,
        call_args: Some(call_args),
    };
    run_script(ctx, args, target, out)
}

/// FUNCTION LOAD [REPLACE] function-code
pub fn load(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut replace = false;
    let mut i = 2;
    while i < args.len() - 1 {
        if !args.is(i, "replace") {
            return Err(CmdError::err(format!(
                "Unknown option given: {}",
                String::from_utf8_lossy(args.get(i))
            )));
        }
        replace = true;
        i += 1;
    }
    let name = ctx.core.functions.load(args.get(args.len() - 1), replace)?;
    ctx.core.stats.dirty += 1;
    out.bulk(name.as_bytes());
    Ok(())
}

/// FUNCTION DELETE library-name
pub fn delete(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let name = String::from_utf8_lossy(args.get(2)).into_owned();
    if !ctx.core.functions.delete(&name) {
        return Err(CmdError::err("Library not found"));
    }
    ctx.core.stats.dirty += 1;
    out.ok();
    Ok(())
}

/// FUNCTION FLUSH [ASYNC|SYNC] (both free at once: the libraries' VM is small).
pub fn flush(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    if args.len() > 3 {
        return Err(super::introspection::subcommand_syntax_error(args));
    }
    if args.len() == 3 && !args.is(2, "sync") && !args.is(2, "async") {
        return Err(CmdError::err("FUNCTION FLUSH only supports SYNC|ASYNC option"));
    }
    ctx.core.functions.flush();
    ctx.core.stats.dirty += 1;
    out.ok();
    Ok(())
}

/// FUNCTION KILL: stop the running function, if it has not written.
pub fn kill(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    super::scripting::kill_running(ctx, VmKind::Function)?;
    out.ok();
    Ok(())
}

/// FUNCTION LIST [WITHCODE] [LIBRARYNAME pattern]
pub fn list(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let (mut with_code, mut pattern) = (false, None);
    let mut i = 2;
    while i < args.len() {
        if !with_code && args.is(i, "withcode") {
            with_code = true;
        } else if pattern.is_none() && args.is(i, "libraryname") {
            if i + 1 >= args.len() {
                return Err(CmdError::err("library name argument was not given"));
            }
            i += 1;
            pattern = Some(args.get(i));
        } else {
            return Err(CmdError::err(format!(
                "Unknown argument {}",
                String::from_utf8_lossy(args.get(i))
            )));
        }
        i += 1;
    }
    let libs: Vec<_> = ctx
        .core
        .functions
        .libraries()
        .filter(|l| pattern.is_none_or(|p| crate::util::glob::glob_match(p, l.name.as_bytes(), true)))
        .collect();
    out.array(libs.len());
    for lib in libs {
        out.map(if with_code { 4 } else { 3 });
        out.bulk(b"library_name");
        out.bulk(lib.name.as_bytes());
        out.bulk(b"engine");
        out.bulk(b"LUA");
        out.bulk(b"functions");
        out.array(lib.functions.len());
        for f in &lib.functions {
            out.map(3);
            out.bulk(b"name");
            out.bulk(f.name.as_bytes());
            out.bulk(b"description");
            match &f.description {
                Some(d) => out.bulk(d),
                None => out.null(),
            }
            out.bulk(b"flags");
            let names: Vec<&str> = script_flags::NAMES
                .iter()
                .filter(|(flag, _)| f.flags & flag != 0)
                .map(|(_, n)| *n)
                .collect();
            out.set(names.len());
            for n in names {
                out.simple(n.as_bytes());
            }
        }
        if with_code {
            out.bulk(b"library_code");
            out.bulk(&lib.code);
        }
    }
    Ok(())
}

/// FUNCTION STATS: the running function (if any) and the engine's counts.
pub fn stats(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    // It may run while a function is busy, not while an EVAL script is (Redis answers as to any
    // other command then).
    if ctx.core.script_run.as_ref().is_some_and(|r| r.kind == VmKind::Eval) {
        return Err(CmdError::Busy("SCRIPT"));
    }
    out.map(2);
    out.bulk(b"running_script");
    match ctx.core.script_run.as_ref().filter(|r| r.kind == VmKind::Function) {
        Some(r) => {
            out.map(3);
            out.bulk(b"name");
            out.bulk(r.name.as_bytes());
            out.bulk(b"command");
            out.array(r.command.len());
            for a in &r.command {
                out.bulk(a);
            }
            out.bulk(b"duration_ms");
            out.int((crate::clock::monotonic_us() - r.start_us) / 1000);
        }
        None => out.null(),
    }
    let (libraries, functions) = ctx.core.functions.counts();
    out.bulk(b"engines");
    out.map(1);
    out.bulk(b"LUA");
    out.map(2);
    out.bulk(b"libraries_count");
    out.int(libraries as i64);
    out.bulk(b"functions_count");
    out.int(functions as i64);
    Ok(())
}

/// FUNCTION DUMP
pub fn dump(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    out.bulk(&ctx.core.functions.dump(ctx.core.config.rdbcompression));
    Ok(())
}

/// FUNCTION RESTORE serialized-value [FLUSH|APPEND|REPLACE]
pub fn restore(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    if args.len() > 4 {
        return Err(CmdError::syntax());
    }
    let policy = if args.len() == 4 {
        if args.is(3, "flush") {
            RestorePolicy::Flush
        } else if args.is(3, "append") {
            RestorePolicy::Append
        } else if args.is(3, "replace") {
            RestorePolicy::Replace
        } else {
            return Err(CmdError::err(
                "Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
            ));
        }
    } else {
        RestorePolicy::Append
    };
    let max = ctx.core.config.proto_max_bulk_len;
    ctx.core.functions.restore(args.get(2), policy, max)?;
    ctx.core.stats.dirty += 1;
    out.ok();
    Ok(())
}

/// FUNCTION HELP
pub fn help(_ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    super::server::help_reply(
        out,
        "FUNCTION",
        &[
            (
                "LOAD [REPLACE] <FUNCTION CODE>",
                "Load a library of functions (REPLACE: over one of the same name).",
            ),
            ("DELETE <LIBRARY NAME>", "Delete a library and its functions."),
            (
                "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
                "The libraries (those whose name matches PATTERN), their functions, and their code.",
            ),
            (
                "STATS",
                "The running function, if any, and how many libraries and functions there are.",
            ),
            ("KILL", "Stop the running function, if it has not written yet."),
            (
                "FLUSH [ASYNC|SYNC]",
                "Delete every library (both modes free them at once).",
            ),
            ("DUMP", "Every library in one payload, for FUNCTION RESTORE."),
            (
                "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
                "Load the libraries of a payload: after deleting all (FLUSH), failing on a name taken (APPEND, \
                 the default), or replacing the library of the same name (REPLACE).",
            ),
        ],
    );
    Ok(())
}
