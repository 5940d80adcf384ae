//! Conversions between Lua values and Redis replies, as Redis 7.0 makes them.
//!
//! A command's reply becomes a Lua value for the script (`push_reply`, straight from the RESP bytes onto
//! the Lua stack): integers are numbers, bulk
//! strings strings, nulls `false` (RESP2) or `nil` (RESP3), arrays tables, and the other types tables
//! with one named field (`{ok=}`, `{err=}`, `{double=}`, `{map=}`, `{set=}`, `{big_number=}`,
//! `{verbatim_string=}`). An error reply carries `ignore_error_stats_update`, because the command that
//! produced it already counted it.
//!
//! A script's return value becomes the reply (`lua_to_reply`): strings bulk, numbers integers
//! (truncated, as C's cast truncates on x86-64: out of range and NaN give INT64_MIN), booleans as the
//! script's RESP version says, tables by their named field or else as an array up to the first nil.
//! Redis converts recursively on the Lua stack and answers `reached lua stack limit` where the stack
//! runs out; the conversion here is iterative and stops at the same depth, so a self-referencing
//! table is answered, not a crash.

use mlua::{Table, Value};
use resp::{Protocol, ReplyBuf};

/// The most Lua stack slots a C function may use (LUAI_MAXCSTACK) ...
const STACK_LIMIT: usize = 8000;
/// ... the slots in use when Redis's converter starts, and the free slots each level demands.
const BASE_SLOTS: usize = 2;
const LEVEL_ROOM: usize = 4;

/// A Lua number as Redis turns it into an integer reply: `(long long)` truncation, where x86-64
/// gives INT64_MIN for NaN and for anything out of range.
pub fn number_to_i64(n: f64) -> i64 {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63
    if n.is_nan() || !(-LIMIT..LIMIT).contains(&n) {
        i64::MIN
    } else {
        n as i64
    }
}

/// Push `{err = msg}` (with `ignore_error_stats_update = true` when the command already counted it).
///
/// # Safety
/// A Lua C API caller's state with two free slots; may raise (out of memory).
pub unsafe fn push_error_table(state: *mut mlua::ffi::lua_State, msg: &[u8], counted: bool) {
    use mlua::ffi;
    ffi::lua_createtable(state, 0, 2);
    ffi::lua_pushlstring(state, msg.as_ptr().cast(), msg.len());
    ffi::lua_setfield(state, -2, c"err".as_ptr());
    if counted {
        ffi::lua_pushboolean(state, 1);
        ffi::lua_setfield(state, -2, c"ignore_error_stats_update".as_ptr());
    }
}

/// Push `{name = <top of the stack>}` in place of the top value.
unsafe fn wrap_named(state: *mut mlua::ffi::lua_State, name: &std::ffi::CStr) {
    use mlua::ffi;
    ffi::lua_createtable(state, 0, 1);
    ffi::lua_insert(state, -2);
    ffi::lua_setfield(state, -2, name.as_ptr());
}

/// Push the Lua value of the reply at `buf[*pos..]` and move past it (the conversion is in the module doc).
///
/// # Safety
/// A Lua C API caller's state; may raise (out of memory, or a reply nested past Lua's stack).
pub unsafe fn push_reply(state: *mut mlua::ffi::lua_State, buf: &[u8], pos: &mut usize) {
    use mlua::ffi;
    use resp::value::Token;
    ffi::luaL_checkstack(state, 4, c"reply nested too deep".as_ptr());
    let push_str = |s: &[u8]| ffi::lua_pushlstring(state, s.as_ptr().cast(), s.len());
    // A handler's reply is well formed; anything else reads as nil rather than failing the script.
    let Ok(Some(token)) = resp::value::token(buf, pos) else {
        *pos = buf.len();
        ffi::lua_pushnil(state);
        return;
    };
    match token {
        Token::Simple(s) => {
            push_str(s);
            wrap_named(state, c"ok");
        }
        Token::Error(e) => push_error_table(state, e, true),
        Token::Int(i) => ffi::lua_pushnumber(state, i as f64),
        Token::Bulk(b) => {
            push_str(b);
        }
        Token::NullBulk | Token::NullArray => ffi::lua_pushboolean(state, 0),
        Token::Null => ffi::lua_pushnil(state),
        Token::Array(n) | Token::Push(n) => {
            ffi::lua_createtable(state, n.min(1 << 20) as i32, 0);
            // (A truncated reply stops the loop: no count drives it past the buffer's end.)
            for i in 1..=n {
                if *pos >= buf.len() {
                    break;
                }
                push_reply(state, buf, pos);
                ffi::lua_rawseti(state, -2, i as ffi::lua_Integer);
            }
        }
        Token::Double(text) => {
            ffi::lua_pushnumber(state, crate::commands::args::parse_float(text).unwrap_or(0.0));
            wrap_named(state, c"double");
        }
        Token::Bool(b) => ffi::lua_pushboolean(state, b as i32),
        Token::BigNumber(digits) => {
            push_str(digits);
            wrap_named(state, c"big_number");
        }
        Token::Verbatim(format, text) => {
            ffi::lua_createtable(state, 0, 2);
            push_str(format);
            ffi::lua_setfield(state, -2, c"format".as_ptr());
            push_str(text);
            ffi::lua_setfield(state, -2, c"string".as_ptr());
            wrap_named(state, c"verbatim_string");
        }
        Token::Map(n) | Token::Set(n) => {
            let is_map = matches!(token, Token::Map(_));
            ffi::lua_createtable(state, 0, n.min(1 << 20) as i32);
            for _ in 0..n {
                if *pos >= buf.len() {
                    break;
                }
                push_reply(state, buf, pos);
                if is_map {
                    push_reply(state, buf, pos);
                } else {
                    ffi::lua_pushboolean(state, 1);
                }
                // A nil key cannot be set: the pair is left out.
                if ffi::lua_type(state, -2) == ffi::LUA_TNIL {
                    ffi::lua_pop(state, 2);
                } else {
                    ffi::lua_rawset(state, -3);
                }
            }
            wrap_named(state, if is_map { c"map" } else { c"set" });
        }
        Token::Attribute(n) => {
            // Attributes are dropped; the value they annotate stands.
            for _ in 0..n.saturating_mul(2) {
                if *pos >= buf.len() {
                    break;
                }
                push_reply(state, buf, pos);
                ffi::lua_pop(state, 1);
            }
            push_reply(state, buf, pos);
        }
    }
}

/// An error table (`{err = ...}`) as a script returns or raises it: its message, and whether the
/// command that produced it already counted it.
pub struct ErrorTable {
    pub message: Vec<u8>,
    pub counted: bool,
    /// Where it was raised (set by the error handler).
    pub source: Option<Vec<u8>>,
    pub line: Option<i64>,
}

/// The error a table stands for, if it is one (`{err = "<string>"}`).
pub fn error_table(t: &Table) -> Option<ErrorTable> {
    let Ok(Value::String(msg)) = t.raw_get::<Value>("err") else {
        return None;
    };
    let counted = matches!(t.raw_get::<Value>("ignore_error_stats_update"), Ok(v) if truthy(&v));
    let source = match t.raw_get::<Value>("source") {
        Ok(Value::String(s)) => Some(s.as_bytes().to_vec()),
        _ => None,
    };
    let line = match t.raw_get::<Value>("line") {
        Ok(Value::Integer(i)) => Some(i),
        Ok(Value::Number(n)) => Some(n as i64),
        _ => None,
    };
    Some(ErrorTable {
        message: msg.as_bytes().to_vec(),
        counted,
        source,
        line,
    })
}

fn truthy(v: &Value) -> bool {
    !matches!(v, Value::Nil | Value::Boolean(false))
}

/// Write an error reply element: `-` and the message with CR/LF as blanks, unless it already starts
/// with `-`, as Redis's `addReplyErrorFormat("-%s")` does.
fn error_element(out: &mut ReplyBuf, msg: &[u8]) {
    out.raw(b"-");
    out.raw(&sanitized(msg));
    out.raw(b"\r\n");
}

/// A status or error text on one line: CR and LF become blanks.
pub fn sanitized(s: &[u8]) -> Vec<u8> {
    s.iter()
        .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b })
        .collect()
}

/// Write a script's return value as the reply. `resp` is the script's RESP version (`redis.setresp`),
/// which decides how booleans are answered; `out`'s protocol decides everything else. Error elements
/// are reported to `count` (message, and whether already counted) for the error statistics.
pub fn lua_to_reply(value: Value, out: &mut ReplyBuf, resp: Protocol, count: &mut dyn FnMut(&[u8], bool)) {
    let mut work: Vec<(Value, usize)> = vec![(value, BASE_SLOTS)];
    while let Some((v, slots)) = work.pop() {
        if slots + LEVEL_ROOM > STACK_LIMIT {
            let msg = b"ERR reached lua stack limit";
            error_element(out, msg);
            count(msg, false);
            continue;
        }
        match v {
            Value::String(s) => out.bulk(&s.as_bytes()),
            Value::Boolean(b) => match (resp, b) {
                (Protocol::Resp2, true) => out.int(1),
                (Protocol::Resp2, false) => out.null(),
                (Protocol::Resp3, b) => out.boolean(b),
            },
            Value::Integer(i) => out.int(i),
            Value::Number(n) => out.int(number_to_i64(n)),
            Value::Table(t) => table_reply(t, slots, out, count, &mut work),
            _ => out.null(),
        }
    }
}

/// One table: a typed reply when it has one of the named fields (checked in Redis's order), else an
/// array; aggregate elements are pushed on `work`, last first.
fn table_reply(
    t: Table,
    slots: usize,
    out: &mut ReplyBuf,
    count: &mut dyn FnMut(&[u8], bool),
    work: &mut Vec<(Value, usize)>,
) {
    if let Some(e) = error_table(&t) {
        error_element(out, &e.message);
        count(&e.message, e.counted);
        return;
    }
    if let Ok(Value::String(s)) = t.raw_get::<Value>("ok") {
        out.simple(&sanitized(&s.as_bytes()));
        return;
    }
    if matches!(t.raw_get::<Value>("double"), Ok(Value::Number(_) | Value::Integer(_))) {
        // Read as a float directly: the Value conversion may round a near-integer.
        out.double(t.raw_get::<f64>("double").unwrap_or(0.0));
        return;
    }
    if let Ok(Value::String(s)) = t.raw_get::<Value>("big_number") {
        out.big_number(&sanitized(&s.as_bytes()));
        return;
    }
    if let Ok(Value::Table(v)) = t.raw_get::<Value>("verbatim_string") {
        if let (Ok(Value::String(f)), Ok(Value::String(s))) =
            (v.raw_get::<Value>("format"), v.raw_get::<Value>("string"))
        {
            // Redis copies the format's first three bytes.
            let mut format = [0u8; 3];
            for (d, s) in format.iter_mut().zip(f.as_bytes().iter()) {
                *d = *s;
            }
            out.verbatim(&format, &s.as_bytes());
            return;
        }
    }
    if let Ok(Value::Table(m)) = t.raw_get::<Value>("map") {
        let pairs: Vec<(Value, Value)> = m.pairs::<Value, Value>().filter_map(Result::ok).collect();
        out.map(pairs.len());
        for (k, v) in pairs.into_iter().rev() {
            work.push((v, slots + 2));
            work.push((k, slots + 3));
        }
        return;
    }
    if let Ok(Value::Table(s)) = t.raw_get::<Value>("set") {
        let keys: Vec<Value> = s
            .pairs::<Value, Value>()
            .filter_map(|p| p.ok().map(|(k, _)| k))
            .collect();
        out.set(keys.len());
        for k in keys.into_iter().rev() {
            work.push((k, slots + 2));
        }
        return;
    }
    let mut items = vec![];
    loop {
        match t.raw_get::<Value>(items.len() + 1) {
            Ok(Value::Nil) | Err(_) => break,
            Ok(v) => items.push(v),
        }
    }
    out.array(items.len());
    for v in items.into_iter().rev() {
        work.push((v, slots + 1));
    }
}

#[cfg(test)]
mod tests {
    use mlua::Lua;

    use super::*;

    /// The Lua value `push_reply` builds for `reply`, read back through `lua_to_reply` in RESP3.
    fn through_lua(lua: &Lua, reply: &[u8]) -> String {
        // SAFETY: push_reply leaves exactly one value, the result.
        let v: Value = unsafe { lua.exec_raw((), |state| push_reply(state, reply, &mut 0)) }.expect("push");
        let mut out = ReplyBuf::new(Protocol::Resp3);
        lua_to_reply(v, &mut out, Protocol::Resp3, &mut |_, _| {});
        String::from_utf8_lossy(&out.buf).into_owned()
    }

    #[test]
    fn replies_become_the_lua_values_redis_gives() {
        let lua = Lua::new();
        let same = [
            "*3\r\n:1\r\n$2\r\nab\r\n*1\r\n:-7\r\n",
            "+OK\r\n",
            "-ERR bad\r\n",
            ",1.5\r\n",
            "(12345678901234567890\r\n",
            "=6\r\ntxt:hi\r\n",
            "#t\r\n",
            "%1\r\n$1\r\na\r\n:1\r\n",
            "~1\r\n$1\r\nx\r\n",
            "*0\r\n",
        ];
        for reply in same {
            assert_eq!(through_lua(&lua, reply.as_bytes()), reply);
        }
        // Nulls: RESP2's are false, RESP3's nil; a map pair with a nil key is left out; attributes go.
        assert_eq!(through_lua(&lua, b"$-1\r\n"), "#f\r\n");
        assert_eq!(through_lua(&lua, b"*-1\r\n"), "#f\r\n");
        assert_eq!(through_lua(&lua, b"*2\r\n_\r\n:1\r\n"), "*0\r\n");
        assert_eq!(
            through_lua(&lua, b"%2\r\n_\r\n:1\r\n$1\r\nb\r\n:2\r\n"),
            "%1\r\n$1\r\nb\r\n:2\r\n"
        );
        assert_eq!(through_lua(&lua, b"|1\r\n+k\r\n+v\r\n:5\r\n"), ":5\r\n");
        // A truncated reply (never written by a handler) ends where the bytes end.
        assert_eq!(through_lua(&lua, b"*1000000000\r\n:1\r\n"), "*1\r\n:1\r\n");
        let err: Value = unsafe { lua.exec_raw((), |state| push_reply(state, b"-ERR x\r\n", &mut 0)) }.expect("push");
        let Value::Table(t) = err else {
            panic!("an error is a table")
        };
        assert!(t.get::<bool>("ignore_error_stats_update").expect("field"));
    }

    #[test]
    fn numbers_truncate_like_a_c_cast() {
        assert_eq!(number_to_i64(1.9), 1);
        assert_eq!(number_to_i64(-1.9), -1);
        assert_eq!(number_to_i64(-0.5), 0);
        assert_eq!(number_to_i64(1e300), i64::MIN);
        assert_eq!(number_to_i64(f64::NAN), i64::MIN);
        assert_eq!(number_to_i64(9007199254740993.0), 9007199254740992);
    }

    fn reply_of(lua: &Lua, code: &str, resp: Protocol, client: Protocol) -> String {
        let v: Value = lua.load(code).eval().expect("eval");
        let mut out = ReplyBuf::new(client);
        lua_to_reply(v, &mut out, resp, &mut |_, _| {});
        String::from_utf8_lossy(&out.buf).into_owned()
    }

    #[test]
    fn return_values_become_the_replies_redis_gives() {
        let lua = Lua::new();
        let r2 = |c: &str| reply_of(&lua, c, Protocol::Resp2, Protocol::Resp2);
        assert_eq!(
            r2("return {1,2,{3,'a'},nil,5}"),
            "*3\r\n:1\r\n:2\r\n*2\r\n:3\r\n$1\r\na\r\n"
        );
        assert_eq!(r2("return {true, false}"), "*2\r\n:1\r\n$-1\r\n");
        assert_eq!(r2("return {err='My Error'}"), "-My Error\r\n");
        assert_eq!(r2("return {ok='a\\r\\nb'}"), "+a  b\r\n");
        assert_eq!(r2("return {double=3.5}"), "$3\r\n3.5\r\n");
        assert_eq!(r2("return {map={a=1}}"), "*2\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(r2("return {err=5}"), "*0\r\n");
        let r3 = |c: &str| reply_of(&lua, c, Protocol::Resp2, Protocol::Resp3);
        assert_eq!(r3("return {double=0.1}"), ",0.10000000000000001\r\n");
        assert_eq!(r3("return {set={a=true}}"), "~1\r\n$1\r\na\r\n");
        assert_eq!(r3("return {big_number='123'}"), "(123\r\n");
        assert_eq!(
            r3("return {verbatim_string={format='txt', string='hi'}}"),
            "=6\r\ntxt:hi\r\n"
        );
        assert_eq!(r3("return false"), "_\r\n");
        assert_eq!(r3("return true"), ":1\r\n");
        assert_eq!(
            reply_of(&lua, "return true", Protocol::Resp3, Protocol::Resp3),
            "#t\r\n"
        );
    }

    #[test]
    fn a_self_referencing_table_stops_at_redis_s_depth() {
        let lua = Lua::new();
        let reply = reply_of(&lua, "local t = {} t[1] = t return t", Protocol::Resp2, Protocol::Resp2);
        assert_eq!(reply.matches("*1\r\n").count(), 7995);
        assert!(reply.ends_with("-ERR reached lua stack limit\r\n"));
    }
}
