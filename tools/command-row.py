#!/usr/bin/env python3
"""Print command-table row skeletons for Ferrite from a live redis-server 7.0.

Usage: tools/command-row.py [-p PORT] NAME [NAME ...]     (NAME may be `config|get`, or a container
       such as `config`, which prints the container row and one row per subcommand)

The interface facts (arity, flags, ACL categories, key positions, key specs, tips, since, group) are read
from the server's COMMAND INFO / COMMAND DOCS answers. The summary and complexity are left as
"WRITE ME" for the author to fill in in their own words; tests/command_info.rs later checks every row
against the live server.
"""
import socket
import sys


def read_reply(f):
    line = f.readline()
    if not line:
        raise EOFError
    t, rest = line[:1], line[1:-2]
    if t in (b"+", b"-"):
        return rest.decode()
    if t == b":":
        return int(rest)
    if t == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)[:-2]
        return data.decode()
    if t in (b"*", b"~", b">"):
        n = int(rest)
        return None if n < 0 else [read_reply(f) for _ in range(n)]
    if t == b"%":
        n = int(rest)
        out = {}
        for _ in range(n):
            k = read_reply(f)
            out[k] = read_reply(f)
        return out
    if t == b"_":
        return None
    raise ValueError(line)


def command(f, sock, *args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    sock.sendall(out)
    return read_reply(f)


def pairs(lst):
    if isinstance(lst, dict):
        return lst
    return {lst[i]: lst[i + 1] for i in range(0, len(lst), 2)}


def flag_expr(names, prefix):
    if not names:
        return "0"
    return " | ".join(prefix + n.upper() for n in names)


def spec_expr(spec):
    spec = pairs(spec)
    flags = " | ".join("ks::" + n.upper() for n in spec["flags"]) or "0"
    b = pairs(spec["begin_search"])
    bs = pairs(b["spec"]) if b["spec"] else {}
    if b["type"] == "index":
        begin = "index %d" % bs["index"]
    elif b["type"] == "keyword":
        begin = 'keyword "%s" from %d' % (bs["keyword"], bs["startfrom"])
    else:
        begin = "unknown"
    fk = pairs(spec["find_keys"])
    fs = pairs(fk["spec"]) if fk["spec"] else {}
    if fk["type"] == "range":
        find = "range %d %d %d" % (fs["lastkey"], fs["keystep"], fs["limit"])
    elif fk["type"] == "keynum":
        find = "keynum %d %d %d" % (fs["keynumidx"], fs["firstkey"], fs["keystep"])
    else:
        find = "unknown"
    notes = ', notes "%s"' % spec["notes"].replace('"', '\\"') if "notes" in spec else ""
    return "key_spec!(%s, [%s], [%s]%s)" % (flags, begin, find, notes)


def row(info, docs, parent=None, indent="    "):
    name, arity, flags, first, last, step, acl, tips, specs, subs = info
    full = name
    short = name.split("|", 1)[1] if parent else name
    d = pairs(docs.get(full, {})) if docs else {}
    lines = []
    lines.append('%scmd!("%s"%s, arity: %d, flags: %s, acl: %s,' % (
        indent, short, ' in "%s"' % parent if parent else "", arity,
        flag_expr(flags, "f::"), flag_expr([a.lstrip("@") for a in acl], "a::")))
    lines.append("%s    keys: (%d, %d, %d), specs: [%s]," % (indent, first, last, step,
                                                          ", ".join(spec_expr(s) for s in specs)))
    if tips:
        lines.append("%s    tips: [%s]," % (indent, ", ".join('"%s"' % t for t in tips)))
    if subs:
        lines.append("%s    handler: None, sub: &[ /* %d subcommands below */ ]," % (indent, len(subs)))
    else:
        lines.append("%s    handler: Some(MODULE::%s)," % (indent, short.replace("-", "_")))
    rb = ""
    if "deprecated" in (d.get("doc_flags") or []):
        rb = ', replaced_by: "WRITE ME" "%s"' % d.get("deprecated_since", "")
    lines.append('%s    doc: ("WRITE ME", "%s", "%s", "WRITE ME"%s)),' % (indent, d.get("since", ""),
                                                                     d.get("group", ""), rb))
    out = "\n".join(lines)
    for s in subs or []:
        out += "\n" + row(s, pairs(d.get("subcommands", {})) if d else {}, parent=name, indent=indent + "    ")
    return out


def main():
    args = sys.argv[1:]
    port = 6379
    if args[:1] == ["-p"]:
        port = int(args[1])
        args = args[2:]
    sock = socket.create_connection(("127.0.0.1", port))
    f = sock.makefile("rb")
    for name in args:
        info = command(f, sock, "COMMAND", "INFO", name)[0]
        if info is None:
            print("// %s: unknown to the server" % name)
            continue
        top = name.split("|")[0]
        docs = pairs(command(f, sock, "COMMAND", "DOCS", top) or [])
        if "|" in name:
            docs = pairs(pairs(docs.get(top, {})).get("subcommands", {}))
            print(row(info, docs, parent=top))
        else:
            print(row(info, docs))


if __name__ == "__main__":
    main()
