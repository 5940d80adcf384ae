//! `cmsgpack`: Redis 7.0's bundled lua-cmsgpack 0.4.0 (`cmsgpack.pack`, `unpack`, `unpack_one`,
//! `unpack_limit`), MessagePack for Lua values.
//!
//! Kept identical to Redis:
//! - Exact bytes: the smallest integer class for numbers that convert to `int64_t` and back
//!   unchanged (so -0 packs as 0 and 2^63 does not), `float32` for other numbers a float holds
//!   exactly (infinities included), else `float64` (NaN included, with its bits); strings as fixstr,
//!   str8 (0xd9), str16, str32; booleans; everything else (nil, functions, userdata, `cjson.null`)
//!   as nil.
//! - A table is an array when its keys are exactly 1..n (each must survive a cast to a 32-bit
//!   `int`), which includes the empty table; the array length is `#t`. Otherwise a map in `pairs`
//!   order. Tables nested 16 deep are packed as nil (which also ends reference cycles).
//! - `pack(a, b, ...)` concatenates the packings of its arguments; none is
//!   `bad argument #0 to 'pack' (MessagePack pack needs input.)`.
//! - Unpacking gives numbers as Redis does, with unsigned 64-bit values of 2^63 and above coming
//!   out negative (Redis passes them through `lua_Integer`).
//! - Unpacking builds tables with `lua_newtable` and `lua_settable` in input order, so the tables
//!   have Redis's internal layout (`#t` and `pairs` order match); a nil or NaN map key is the VM's
//!   own `table index is nil`/`is NaN`. bin, ext and fixext types and 0xc1 are
//!   `Bad data format in input.`; truncated input is `Missing bytes in input.`.
//! - Stack checks at the same points as Redis, so deep nesting or too many results end with the
//!   same `stack overflow (...)` messages (there is no other nesting limit when unpacking).
//! - `unpack_one(s [, offset])` and `unpack_limit(s, limit [, offset])` return the next offset
//!   (-1 at the end) before the values; `unpack_limit(s, 0)` with no offset behaves as `unpack`. Their
//!   range errors print the input length where they say "limit", as Redis does.
//!
//! Bounds: unpacking reads nothing past the input and allocates only for what the input holds;
//! nesting is bounded by the Lua stack (8000 slots), and the nesting walk keeps its own stack in
//! the scratch space rather than recursing. Packing recurses at most 16 tables deep.
//!
//! Differences: packing one argument stops with `MessagePack pack output larger than 536870912
//! bytes` past 512 MiB (see `raw::MAX_OUTPUT`), where Redis would keep growing its buffer (a table
//! that refers to itself several times packs to 2^16-fold repetitions).

use std::ffi::c_int;

use mlua::ffi;

use crate::raw::{self, msg, Outcome, Raise, State, Upvalue};

/// LUACMSGPACK_MAX_NESTING: tables this deep are packed as nil.
const MAX_NESTING: u32 = 16;

unsafe fn pack(state: State, out: &mut Vec<u8>, _: Upvalue) -> Outcome {
    let nargs = ffi::lua_gettop(state);
    if nargs == 0 {
        return Err(Raise::arg(0, "MessagePack pack needs input."));
    }
    if !raw::check_stack(state, nargs) {
        return Err(Raise::arg(0, "Too many arguments for MessagePack pack."));
    }
    // Like Redis, each argument's packing is pushed as a string and all are concatenated at the
    // end, so the stack holds what Redis's holds when the nested-table checks run.
    for i in 1..=nargs {
        raw::check_stack_or(state, 1, "in function mp_check")?;
        ffi::lua_pushvalue(state, i);
        out.clear();
        encode(state, out, 0)?;
        raw::push_bytes(state, out);
    }
    ffi::lua_concat(state, nargs);
    Ok(1)
}

/// Packs the value on top of the stack and pops it.
unsafe fn encode(state: State, out: &mut Vec<u8>, level: u32) -> Result<(), Raise> {
    match ffi::lua_type(state, -1) {
        ffi::LUA_TSTRING => encode_bytes(out, raw::str_bytes(state, -1)),
        ffi::LUA_TBOOLEAN => out.push(if ffi::lua_toboolean(state, -1) != 0 { 0xc3 } else { 0xc2 }),
        ffi::LUA_TNUMBER => encode_number(out, ffi::lua_tonumber(state, -1)),
        ffi::LUA_TTABLE if level < MAX_NESTING => {
            if is_array(state)? {
                encode_array(state, out, level)?;
            } else {
                encode_map(state, out, level)?;
            }
        }
        _ => out.push(0xc0),
    }
    if out.len() > raw::MAX_OUTPUT {
        return Err(Raise::Error(msg!(
            "MessagePack pack output larger than {} bytes",
            raw::MAX_OUTPUT
        )));
    }
    ffi::lua_settop(state, -2);
    Ok(())
}

fn encode_bytes(out: &mut Vec<u8>, s: &[u8]) {
    let len = s.len();
    if len < 32 {
        out.push(0xa0 | len as u8);
    } else if len <= 0xff {
        out.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        out.push(0xda);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(s);
}

fn encode_number(out: &mut Vec<u8>, n: f64) {
    let i = raw::f64_to_i64(n);
    if !n.is_infinite() && i as f64 == n {
        encode_int(out, i);
    } else {
        let f = n as f32;
        if f64::from(f) == n {
            out.push(0xca);
            out.extend_from_slice(&f.to_be_bytes());
        } else {
            out.push(0xcb);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }
}

fn encode_int(out: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        if n <= 127 {
            out.push(n as u8);
        } else if n <= 0xff {
            out.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            out.push(0xcd);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            out.push(0xce);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        out.push(n as i8 as u8);
    } else if n >= -128 {
        out.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2_147_483_648 {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// True when the table on top has exactly the keys 1..n, each a number that survives a cast to a
/// 32-bit `int` (so 2^31 makes a map).
unsafe fn is_array(state: State) -> Result<bool, Raise> {
    raw::check_stack_or(state, 2, "in function table_is_an_array")?;
    let top = ffi::lua_gettop(state);
    let (mut count, mut max) = (0i32, 0i32);
    ffi::lua_pushnil(state);
    while ffi::lua_next(state, -2) != 0 {
        ffi::lua_settop(state, -2);
        let n = ffi::lua_tonumber(state, -1);
        if ffi::lua_type(state, -1) != ffi::LUA_TNUMBER
            || n <= 0.0
            || n.is_infinite()
            || f64::from(raw::f64_to_i32(n)) != n
        {
            ffi::lua_settop(state, top);
            return Ok(false);
        }
        max = max.max(n as i32);
        count = count.wrapping_add(1);
    }
    ffi::lua_settop(state, top);
    Ok(max == count)
}

unsafe fn encode_array(state: State, out: &mut Vec<u8>, level: u32) -> Result<(), Raise> {
    let len = ffi::lua_objlen(state, -1);
    encode_header(out, len, 0x90, 0xdc, 0xdd);
    raw::check_stack_or(state, 1, "in function mp_encode_lua_table_as_array")?;
    for j in 1..=len {
        ffi::lua_pushnumber(state, j as f64);
        ffi::lua_rawget(state, -2);
        encode(state, out, level + 1)?;
    }
    Ok(())
}

unsafe fn encode_map(state: State, out: &mut Vec<u8>, level: u32) -> Result<(), Raise> {
    raw::check_stack_or(state, 3, "in function mp_encode_lua_table_as_map")?;
    let mut len = 0usize;
    ffi::lua_pushnil(state);
    while ffi::lua_next(state, -2) != 0 {
        ffi::lua_settop(state, -2);
        len += 1;
    }
    encode_header(out, len, 0x80, 0xde, 0xdf);
    ffi::lua_pushnil(state);
    while ffi::lua_next(state, -2) != 0 {
        ffi::lua_pushvalue(state, -2);
        encode(state, out, level + 1)?; // the key's copy
        encode(state, out, level + 1)?; // the value
    }
    Ok(())
}

fn encode_header(out: &mut Vec<u8>, len: usize, fix: u8, b16: u8, b32: u8) {
    if len < 16 {
        out.push(fix | len as u8);
    } else if len <= 0xffff {
        out.push(b16);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(b32);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
}

/// Why decoding stopped early.
#[derive(Clone, Copy)]
enum Stop {
    Eof,
    BadFormat,
}

/// A table being filled while unpacking; `left` counts the elements (pairs) not yet started.
enum Frame {
    Array { left: u64, index: f64 },
    Map { left: u64, have_key: bool },
}

/// What decoding the bytes at the cursor produced.
enum Step {
    /// A complete value is on top of the stack.
    Value,
    /// A new, empty table is on top of the stack and its elements follow.
    Open(Frame),
}

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn left(&self) -> usize {
        self.data.len() - self.pos
    }

    /// The next `n` bytes, or `Eof` when the input is shorter.
    fn need(&self, n: usize) -> Result<&[u8], Stop> {
        self.data
            .get(self.pos..)
            .and_then(|rest| rest.get(..n))
            .ok_or(Stop::Eof)
    }

    /// The big-endian integer of `width` bytes at `at` bytes from the cursor.
    fn be(&self, at: usize, width: usize) -> Result<u64, Stop> {
        let b = self.need(at + width)?;
        Ok(b[at..].iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
    }
}

const TOO_MANY: &str = "too many return values at once; use unpack_one or unpack_limit instead.";

/// Starts decoding the value at the cursor: pushes a scalar, or an empty table to be filled.
unsafe fn start_value(state: State, c: &mut Cursor) -> Result<Result<Step, Stop>, Raise> {
    let Some(&b) = c.data.get(c.pos) else {
        return Ok(Err(Stop::Eof));
    };
    raw::check_stack_or(state, 1, TOO_MANY)?;
    let step = match scalar_or_open(state, c, b) {
        Ok(step) => step,
        Err(stop) => return Ok(Err(stop)),
    };
    if let Step::Open(Frame::Array { .. }) = step {
        // Redis checks for one more slot right after creating an array's table.
        raw::check_stack_or(state, 1, "in function mp_decode_to_lua_array")?;
    }
    Ok(Ok(step))
}

unsafe fn scalar_or_open(state: State, c: &mut Cursor, b: u8) -> Result<Step, Stop> {
    match b {
        0xcc..=0xcf => {
            let width = 1 << (b - 0xcc);
            // Redis pushes unsigned values through `lua_Integer`: 2^63 and above come out negative.
            let v = c.be(1, width)?;
            ffi::lua_pushnumber(state, v as i64 as f64);
            c.pos += 1 + width;
        }
        0xd0..=0xd3 => {
            let width = 1 << (b - 0xd0);
            let v = c.be(1, width)?;
            let shift = 64 - 8 * width as u32;
            ffi::lua_pushnumber(state, (((v << shift) as i64) >> shift) as f64);
            c.pos += 1 + width;
        }
        0xc0 => {
            ffi::lua_pushnil(state);
            c.pos += 1;
        }
        0xc2 | 0xc3 => {
            ffi::lua_pushboolean(state, c_int::from(b == 0xc3));
            c.pos += 1;
        }
        0xca => {
            let v = c.be(1, 4)?;
            ffi::lua_pushnumber(state, f64::from(f32::from_bits(v as u32)));
            c.pos += 5;
        }
        0xcb => {
            let v = c.be(1, 8)?;
            ffi::lua_pushnumber(state, f64::from_bits(v));
            c.pos += 9;
        }
        0xd9 => return string(state, c, 2, c.be(1, 1)?),
        0xda => return string(state, c, 3, c.be(1, 2)?),
        0xdb => return string(state, c, 5, c.be(1, 4)?),
        0xdc => {
            return Ok(open(
                state,
                c,
                3,
                Frame::Array {
                    left: c.be(1, 2)?,
                    index: 1.0,
                },
            ))
        }
        0xdd => {
            return Ok(open(
                state,
                c,
                5,
                Frame::Array {
                    left: c.be(1, 4)?,
                    index: 1.0,
                },
            ))
        }
        0xde => {
            return Ok(open(
                state,
                c,
                3,
                Frame::Map {
                    left: c.be(1, 2)?,
                    have_key: false,
                },
            ))
        }
        0xdf => {
            return Ok(open(
                state,
                c,
                5,
                Frame::Map {
                    left: c.be(1, 4)?,
                    have_key: false,
                },
            ))
        }
        _ if b & 0x80 == 0 => {
            ffi::lua_pushnumber(state, f64::from(b));
            c.pos += 1;
        }
        _ if b & 0xe0 == 0xe0 => {
            ffi::lua_pushnumber(state, f64::from(b as i8));
            c.pos += 1;
        }
        _ if b & 0xe0 == 0xa0 => return string(state, c, 1, u64::from(b & 0x1f)),
        _ if b & 0xf0 == 0x90 => {
            return Ok(open(
                state,
                c,
                1,
                Frame::Array {
                    left: u64::from(b & 0x0f),
                    index: 1.0,
                },
            ))
        }
        _ if b & 0xf0 == 0x80 => {
            return Ok(open(
                state,
                c,
                1,
                Frame::Map {
                    left: u64::from(b & 0x0f),
                    have_key: false,
                },
            ))
        }
        _ => return Err(Stop::BadFormat),
    }
    Ok(Step::Value)
}

unsafe fn string(state: State, c: &mut Cursor, hdr: usize, len: u64) -> Result<Step, Stop> {
    let len = usize::try_from(len).map_err(|_| Stop::Eof)?;
    let total = hdr.checked_add(len).ok_or(Stop::Eof)?;
    let bytes = c.need(total)?;
    raw::push_bytes(state, &bytes[hdr..]);
    c.pos += total;
    Ok(Step::Value)
}

unsafe fn open(state: State, c: &mut Cursor, hdr: usize, frame: Frame) -> Step {
    c.pos += hdr;
    ffi::lua_createtable(state, 0, 0);
    Step::Open(frame)
}

/// Decodes one complete value onto the stack. Tables are filled as Redis fills them: an array
/// pushes its next index before decoding each element, a map decodes key then value, and each pair
/// is stored once complete. `frames` is scratch for the nesting walk.
unsafe fn decode_one(state: State, c: &mut Cursor, frames: &mut Vec<Frame>) -> Result<Result<(), Stop>, Raise> {
    frames.clear();
    loop {
        let mut done_value = match start_value(state, c)? {
            Err(stop) => return Ok(Err(stop)),
            Ok(Step::Value) => true,
            Ok(Step::Open(frame)) => {
                frames.push(frame);
                false
            }
        };
        // Walk up until some table asks for another element (or the outermost value is done).
        loop {
            let Some(frame) = frames.last_mut() else {
                return Ok(Ok(()));
            };
            let left = match frame {
                Frame::Array { left, index } => {
                    if done_value {
                        ffi::lua_rawset(state, -3); // table, index, value
                    }
                    if *left > 0 {
                        *left -= 1;
                        ffi::lua_pushnumber(state, *index);
                        *index += 1.0;
                        break;
                    }
                    left
                }
                Frame::Map { left, have_key } => {
                    if done_value && !*have_key {
                        *have_key = true; // now decode the value
                        break;
                    }
                    if done_value {
                        match ffi::lua_type(state, -2) {
                            ffi::LUA_TNIL => return Err(Raise::Plain(raw::Msg::from_str("table index is nil"))),
                            ffi::LUA_TNUMBER if ffi::lua_tonumber(state, -2).is_nan() => {
                                return Err(Raise::Plain(raw::Msg::from_str("table index is NaN")))
                            }
                            _ => ffi::lua_rawset(state, -3),
                        }
                        *have_key = false;
                    }
                    if *left > 0 {
                        *left -= 1;
                        break;
                    }
                    left
                }
            };
            debug_assert_eq!(*left, 0);
            // This table is complete: it is the value just finished for the enclosing table.
            frames.pop();
            done_value = true;
        }
    }
}

/// `limit` and `offset` are Lua integers; the messages print them (and the length) through `%d`,
/// which shows their low 32 bits.
unsafe fn unpack_full(state: State, frames: &mut Vec<Frame>, limit: i64, offset: i64) -> Outcome {
    let s = raw::check_lstring(state, 1)?;
    let len = s.len();
    if offset < 0 || limit < 0 {
        // Redis passes the length where the message says "limit".
        return Err(Raise::Error(msg!(
            "Invalid request to unpack with offset of {} and limit of {}.",
            offset as i32,
            len as i32
        )));
    }
    if offset as u64 > len as u64 {
        return Err(Raise::Error(msg!(
            "Start offset {} greater than input length {}.",
            offset as i32,
            len as i32
        )));
    }
    let decode_all = limit == 0 && offset == 0;
    let limit = if decode_all { i64::from(i32::MAX) } else { limit };
    let mut c = Cursor {
        data: s,
        pos: offset as usize,
    };
    let mut cnt: c_int = 0;
    while c.left() > 0 && i64::from(cnt) < limit {
        match decode_one(state, &mut c, frames)? {
            Ok(()) => {}
            Err(Stop::Eof) => return Err(Raise::error("Missing bytes in input.")),
            Err(Stop::BadFormat) => return Err(Raise::error("Bad data format in input.")),
        }
        cnt += 1;
    }
    if !decode_all {
        raw::check_stack_or(state, 1, "in function mp_unpack_full")?;
        let next = if c.left() == 0 { -1.0 } else { (len - c.left()) as f64 };
        ffi::lua_pushnumber(state, next);
        ffi::lua_insert(state, 2);
        cnt += 1;
    }
    Ok(cnt)
}

unsafe fn unpack(state: State, frames: &mut Vec<Frame>, _: Upvalue) -> Outcome {
    unpack_full(state, frames, 0, 0)
}

unsafe fn unpack_one(state: State, frames: &mut Vec<Frame>, _: Upvalue) -> Outcome {
    let offset = raw::opt_integer(state, 2, 0)?;
    ffi::lua_settop(state, 1);
    unpack_full(state, frames, 1, offset)
}

unsafe fn unpack_limit(state: State, frames: &mut Vec<Frame>, _: Upvalue) -> Outcome {
    let limit = raw::check_integer(state, 2)?;
    let offset = raw::opt_integer(state, 3, 0)?;
    ffi::lua_settop(state, 1);
    unpack_full(state, frames, limit, offset)
}

mod tramp {
    use std::ffi::c_int;

    use mlua::ffi::lua_State;

    use super::Frame;
    use crate::raw::run;

    pub(super) unsafe extern "C-unwind" fn pack(state: *mut lua_State) -> c_int {
        run::<Vec<u8>>(state, super::pack)
    }
    pub(super) unsafe extern "C-unwind" fn unpack(state: *mut lua_State) -> c_int {
        run::<Vec<Frame>>(state, super::unpack)
    }
    pub(super) unsafe extern "C-unwind" fn unpack_one(state: *mut lua_State) -> c_int {
        run::<Vec<Frame>>(state, super::unpack_one)
    }
    pub(super) unsafe extern "C-unwind" fn unpack_limit(state: *mut lua_State) -> c_int {
        run::<Vec<Frame>>(state, super::unpack_limit)
    }
}

/// Pushes a new `cmsgpack` table, built in Redis's order (which decides `pairs` order).
///
/// # Safety
/// Needs a few free stack slots; may raise a memory error (run it protected).
pub(crate) unsafe fn push_module(state: State) {
    ffi::lua_createtable(state, 0, 0);
    for (name, f) in [
        ("pack", tramp::pack as ffi::lua_CFunction),
        ("unpack", tramp::unpack),
        ("unpack_one", tramp::unpack_one),
        ("unpack_limit", tramp::unpack_limit),
    ] {
        raw::push_closure(state, f, None);
        raw::set_field(state, -2, name);
    }
    for (name, value) in [
        ("_NAME", "cmsgpack"),
        ("_VERSION", "lua-cmsgpack 0.4.0"),
        ("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo"),
        ("_DESCRIPTION", "MessagePack C implementation for Lua"),
    ] {
        raw::push_bytes(state, value.as_bytes());
        raw::set_field(state, -2, name);
    }
}

#[cfg(test)]
mod tests {
    use crate::testutil::run;

    #[test]
    fn exact_bytes_per_size_class() {
        assert_eq!(
            run("return cmsgpack.pack(127, 128, 65536, -32, -33, -2147483649)"),
            "x:7fcc80ce00010000e0d0dfd3ffffffff7fffffff"
        );
        assert_eq!(
            run("return cmsgpack.pack(0.5, 0.1, -0.0, 2^63, 0/0)"),
            "x:ca3f000000cb3fb999999999999a00ca5f000000cbfff8000000000000"
        );
        assert_eq!(
            run("return cmsgpack.pack(string.rep('a', 32)):sub(1, 2), cmsgpack.pack({}), cmsgpack.pack({a = 1})"),
            "x:d920 x:90 x:81a16101"
        );
        assert_eq!(
            run("return cmsgpack.pack(true, nil, cjson.null, tostring)"),
            "x:c3c0c0c0"
        );
    }

    #[test]
    fn nesting_is_cut_at_16_levels() {
        assert_eq!(
            run("local t = {} t[1] = t return cmsgpack.pack(t)"),
            "x:91919191919191919191919191919191c0"
        );
    }

    #[test]
    fn unpacks_with_redis_layout_and_errors() {
        assert_eq!(
            run("return cmsgpack.unpack('\\1\\2\\192\\163abc')"),
            "n:1 n:2 nil s:abc"
        );
        assert_eq!(
            run("local t = cmsgpack.unpack('\\147\\192\\192\\3') return #t, t[3]"),
            "n:0 n:3"
        );
        assert_eq!(
            run("return cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255')"),
            "n:-1"
        );
        assert_eq!(run("return cmsgpack.unpack_one('\\1\\2\\3', 2)"), "n:-1 n:3");
        assert_eq!(run("return cmsgpack.unpack_limit('\\1\\2\\3', 2)"), "n:2 n:1 n:2");
        assert_eq!(
            run("return cmsgpack.unpack('\\145')"),
            "error: user_script:1: Missing bytes in input."
        );
        assert_eq!(
            run("return cmsgpack.unpack('\\193')"),
            "error: user_script:1: Bad data format in input."
        );
        // The VM's own message, without a position.
        assert_eq!(
            run("return cmsgpack.unpack('\\129\\192\\1')"),
            "error: table index is nil"
        );
        assert_eq!(
            run("return cmsgpack.unpack_one('\\1', -1)"),
            "error: user_script:1: Invalid request to unpack with offset of -1 and limit of 1."
        );
        assert_eq!(
            run("return cmsgpack.pack()"),
            "error: user_script:1: bad argument #0 to 'pack' (MessagePack pack needs input.)"
        );
    }

    #[test]
    fn output_amplification_is_capped() {
        // A table holding a 100 KB string and itself eight times: 8^16 copies before the nesting cut.
        let out = run("local t = {string.rep('x', 100000)} for i = 2, 9 do t[i] = t end return cmsgpack.pack(t)");
        assert_eq!(
            out,
            "error: user_script:1: MessagePack pack output larger than 536870912 bytes"
        );
    }

    #[test]
    fn hostile_input_is_bounded() {
        // Claims 2^32 - 1 elements with two bytes of data.
        assert_eq!(
            run("return cmsgpack.unpack('\\221\\255\\255\\255\\255\\1\\2')"),
            "error: user_script:1: Missing bytes in input."
        );
        assert_eq!(
            run("return cmsgpack.unpack(string.rep('\\145', 100000))"),
            "error: user_script:1: stack overflow (in function mp_decode_to_lua_array)"
        );
        assert_eq!(
            run("return cmsgpack.unpack(string.rep('\\1', 9000))"),
            "error: user_script:1: stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)"
        );
    }
}
