//! COMMAND and its subcommands: everything is read from the command table.
//!
//! `COMMAND INFO` answers exactly what Redis 7.0 answers for the same row (the reply shape of
//! `addReplyCommandInfo`: flags, ACL categories and tips as sets, key specs as maps). `COMMAND DOCS`
//! reports summary, since, group, complexity, the doc flags (`deprecated` with `deprecated_since` and
//! `replaced_by`, `syscmd`) and subcommands; the summaries are ours, and the per-argument
//! descriptions (`arguments`) and `history` that Redis adds are not kept in the table, so they are
//! omitted (clients use them only for help screens and completion).

use resp::ReplyBuf;

use crate::commands::getkeys::{self, KeyRef};
use crate::commands::spec::{acl, flags, ks, BeginSearch, Command, FindKeys, KeySpec};
use crate::commands::{table, Args, Ctx, OwnedArgs};
use crate::error::{CmdError, CmdResult};
use crate::util::glob::glob_match;

/// COMMAND (no subcommand): like COMMAND INFO without names.
pub fn all(_ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let n = table::top_level().count();
    out.array(n);
    for c in table::top_level() {
        reply_info(out, c);
    }
    Ok(())
}

/// COMMAND COUNT
pub fn count(_ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    out.int(table::top_level().count() as i64);
    Ok(())
}

/// COMMAND INFO [name ...]: one entry per name, null for an unknown one.
pub fn info(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    if args.len() == 2 {
        return all(ctx, args, out);
    }
    out.array(args.len() - 2);
    for name in args.rest(2) {
        match table::find(name) {
            Some((c, _)) => reply_info(out, c),
            None => out.null(),
        }
    }
    Ok(())
}

/// COMMAND DOCS [name ...]: a map of the names found (unknown names are left out).
pub fn docs(_ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let found: Vec<&Command> = if args.len() == 2 {
        table::top_level().collect()
    } else {
        args.rest(2).filter_map(|n| table::find(n).map(|(c, _)| c)).collect()
    };
    out.map(found.len());
    for c in found {
        out.bulk(c.full_name.as_bytes());
        reply_docs(out, c);
    }
    Ok(())
}

/// COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN glob]: names, subcommands included.
pub fn list(_ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    enum Filter<'a> {
        All,
        Module,
        AclCat(u64),
        Pattern(&'a [u8]),
    }
    let filter = match args.len() {
        2 => Filter::All,
        5 if args.is(2, "filterby") => {
            let value = args.get(4);
            if args.is(3, "module") {
                // No modules: nothing belongs to one.
                Filter::Module
            } else if args.is(3, "aclcat") {
                let cat = acl::NAMES
                    .iter()
                    .find(|(_, n)| n.as_bytes().eq_ignore_ascii_case(value))
                    .map(|(bit, _)| *bit)
                    .unwrap_or(0);
                Filter::AclCat(cat)
            } else if args.is(3, "pattern") {
                Filter::Pattern(value)
            } else {
                return Err(CmdError::syntax());
            }
        }
        _ => return Err(CmdError::syntax()),
    };
    let names: Vec<&str> = table::all()
        .map(|(_, c)| c)
        .filter(|c| match filter {
            Filter::All => true,
            Filter::Module => false,
            Filter::AclCat(bit) => c.acl & bit != 0,
            Filter::Pattern(p) => glob_match(p, c.full_name.as_bytes(), true),
        })
        .map(|c| c.full_name)
        .collect();
    out.array(names.len());
    for n in names {
        out.bulk(n.as_bytes());
    }
    Ok(())
}

/// COMMAND GETKEYS command [arg ...]
pub fn getkeys(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    keys_reply(ctx, args, out, false)
}

/// COMMAND GETKEYSANDFLAGS command [arg ...]
pub fn getkeysandflags(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    keys_reply(ctx, args, out, true)
}

fn keys_reply(_ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf, with_flags: bool) -> CmdResult {
    let inner = OwnedArgs::from_slices(args.rest(2));
    let inner = inner.view();
    let cmd = match table::lookup_args(&inner) {
        table::Lookup::Found(c, _) => c,
        _ => return Err(CmdError::err("Invalid command specified")),
    };
    if !getkeys::has_keys(cmd) {
        return Err(CmdError::err("The command has no key arguments"));
    }
    if !cmd.arity_ok(inner.len()) {
        return Err(CmdError::err("Invalid number of arguments specified for command"));
    }
    let mut keys: Vec<KeyRef> = vec![];
    getkeys::get_keys(cmd, &inner, &mut keys);
    if keys.is_empty() && !cmd.has(flags::NO_MANDATORY_KEYS) {
        return Err(CmdError::err("Invalid arguments specified for command"));
    }
    out.array(keys.len());
    for k in keys {
        if with_flags {
            out.array(2);
            out.bulk(inner.get(k.pos));
            reply_names(
                out,
                u64::from(k.flags),
                ks::NAMES.iter().map(|&(b, n)| (u64::from(b), n)),
                "",
            );
        } else {
            out.bulk(inner.get(k.pos));
        }
    }
    Ok(())
}

/// COMMAND HELP
pub fn help(_ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    super::reply_help(
        out,
        "command",
        &[
            "(no subcommand)",
            "    Describe every command, as INFO does.",
            "COUNT",
            "    Count the commands (subcommands not included).",
            "LIST [FILTERBY (MODULE <name>|ACLCAT <category>|PATTERN <glob>)]",
            "    Name every command and subcommand, or those of an ACL category or matching a glob.",
            "INFO [<command-name> ...]",
            "    Describe the given commands (every command without names): arity, flags, ACL",
            "    categories, key positions, key specs, tips and subcommands.",
            "DOCS [<command-name> ...]",
            "    Document the given commands (every command without names): summary, version,",
            "    group, complexity and subcommands.",
            "GETKEYS <full-command>",
            "    Name the keys the given command line would access.",
            "GETKEYSANDFLAGS <full-command>",
            "    Like GETKEYS, with how each key is accessed.",
        ],
    );
    Ok(())
}

/// The set of names whose bit is in `bits`, in table order, each prefixed by `prefix`.
fn reply_names<'n>(out: &mut ReplyBuf, bits: u64, names: impl Iterator<Item = (u64, &'n str)> + Clone, prefix: &str) {
    let n = names.clone().filter(|(b, _)| bits & b != 0).count();
    out.set(n);
    for (b, name) in names {
        if bits & b != 0 {
            if prefix.is_empty() {
                out.simple(name.as_bytes());
            } else {
                out.simple(format!("{prefix}{name}").as_bytes());
            }
        }
    }
}

/// One command's `COMMAND INFO` entry.
pub fn reply_info(out: &mut ReplyBuf, c: &Command) {
    out.array(10);
    out.bulk(c.full_name.as_bytes());
    out.int(i64::from(c.arity));
    reply_names(out, c.flags, flags::NAMES.iter().copied(), "");
    out.int(i64::from(c.first_key));
    out.int(i64::from(c.last_key));
    out.int(i64::from(c.key_step));
    reply_names(out, c.acl, acl::NAMES.iter().copied(), "@");
    out.set(c.tips.len());
    for t in c.tips {
        out.bulk(t.as_bytes());
    }
    out.set(c.key_specs.len());
    for s in c.key_specs {
        reply_key_spec(out, s);
    }
    if c.subcommands.is_empty() {
        out.set(0);
    } else {
        out.array(c.subcommands.len());
        for s in c.subcommands {
            reply_info(out, s);
        }
    }
}

fn reply_key_spec(out: &mut ReplyBuf, s: &KeySpec) {
    out.map(if s.notes.is_some() { 4 } else { 3 });
    if let Some(n) = s.notes {
        out.bulk(b"notes");
        out.bulk(n.as_bytes());
    }
    out.bulk(b"flags");
    reply_names(
        out,
        u64::from(s.flags),
        ks::NAMES.iter().map(|&(b, n)| (u64::from(b), n)),
        "",
    );
    out.bulk(b"begin_search");
    match s.begin {
        BeginSearch::Index(i) => reply_step(out, "index", &[("index", Field::Int(i))]),
        BeginSearch::Keyword { keyword, start_from } => reply_step(
            out,
            "keyword",
            &[("keyword", Field::Text(keyword)), ("startfrom", Field::Int(start_from))],
        ),
        BeginSearch::Unknown => reply_step(out, "unknown", &[]),
    }
    out.bulk(b"find_keys");
    match s.find {
        FindKeys::Range { last_key, step, limit } => reply_step(
            out,
            "range",
            &[
                ("lastkey", Field::Int(last_key)),
                ("keystep", Field::Int(step)),
                ("limit", Field::Int(limit)),
            ],
        ),
        FindKeys::Keynum {
            keynum_idx,
            first_key,
            step,
        } => reply_step(
            out,
            "keynum",
            &[
                ("keynumidx", Field::Int(keynum_idx)),
                ("firstkey", Field::Int(first_key)),
                ("keystep", Field::Int(step)),
            ],
        ),
        FindKeys::Unknown => reply_step(out, "unknown", &[]),
    }
}

enum Field {
    Int(i32),
    Text(&'static str),
}

/// A key spec step: `{type: kind, spec: {fields}}`.
fn reply_step(out: &mut ReplyBuf, kind: &str, fields: &[(&str, Field)]) {
    out.map(2);
    out.bulk(b"type");
    out.bulk(kind.as_bytes());
    out.bulk(b"spec");
    out.map(fields.len());
    for (name, v) in fields {
        out.bulk(name.as_bytes());
        match v {
            Field::Int(i) => out.int(i64::from(*i)),
            Field::Text(t) => out.bulk(t.as_bytes()),
        }
    }
}

/// One command's `COMMAND DOCS` entry (the map after its name).
pub fn reply_docs(out: &mut ReplyBuf, c: &Command) {
    let d = &c.doc;
    let deprecated = d.replaced_by.is_some();
    let doc_flags = usize::from(deprecated) + usize::from(d.syscmd);
    let fields = 4 + usize::from(doc_flags > 0) + 2 * usize::from(deprecated) + usize::from(!c.subcommands.is_empty());
    out.map(fields);
    for (k, v) in [
        ("summary", d.summary),
        ("since", d.since),
        ("group", d.group),
        ("complexity", d.complexity),
    ] {
        out.bulk(k.as_bytes());
        out.bulk(v.as_bytes());
    }
    if doc_flags > 0 {
        out.bulk(b"doc_flags");
        out.set(doc_flags);
        if deprecated {
            out.simple(b"deprecated");
        }
        if d.syscmd {
            out.simple(b"syscmd");
        }
    }
    if let Some((replaced_by, since)) = d.replaced_by {
        out.bulk(b"deprecated_since");
        out.bulk(since.as_bytes());
        out.bulk(b"replaced_by");
        out.bulk(replaced_by.as_bytes());
    }
    if !c.subcommands.is_empty() {
        out.bulk(b"subcommands");
        out.map(c.subcommands.len());
        for s in c.subcommands {
            out.bulk(s.full_name.as_bytes());
            reply_docs(out, s);
        }
    }
}
