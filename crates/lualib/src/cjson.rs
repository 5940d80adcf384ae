//! `cjson`: Redis 7.0's bundled lua-cjson 2.1.0 (`cjson.encode`, `cjson.decode`, the
//! configuration functions, `cjson.new` and `cjson.null`).
//!
//! Kept identical to Redis:
//! - **Encoding.** Numbers as C's `%.14g` (precision set by `encode_number_precision`, 1..14), so
//!   `-0`, `1e+14`, `inf` print as C prints them. Strings escape `"`, `\`, `/` (as `\/`), control
//!   bytes (`\b \f \n \r \t`, else `\u00xx`) and DEL (`\u007f`); other bytes pass through unchanged.
//!   `nil` and `cjson.null` (a NULL lightuserdata) are `null`; functions, threads, userdata and
//!   other lightuserdata are `Cannot serialise <type>: type not supported`.
//! - **Tables.** A table whose keys are all integers ≥ 1 is an array up to its largest key, holes as
//!   `null`; an empty table is `{}`. Redis computes the largest key in a C `int`, so keys of 2^31 and
//!   above wrap to `INT_MIN` and turn the table into an object; the same arithmetic is kept. A
//!   sparse array (largest key > ratio × count and > safe; `encode_sparse_array`, default off, 2,
//!   10) is an error, or an object when conversion is on. Object keys must be strings or numbers
//!   (numbers formatted like values); key order is `lua_next` order, the same as Redis's for the
//!   same table history.
//! - **Depth.** `Cannot serialise, excessive nesting (N)` past `encode_max_depth` (default 1000),
//!   and `Found too many nested data structures (N) at character P` past `decode_max_depth`; both
//!   also end where the Lua stack (8000 slots) runs out, at the same depth as Redis because the
//!   same values occupy the stack.
//! - **NaN and infinity.** Encoding refuses them by default (`must not be NaN or Inf`);
//!   `encode_invalid_numbers(true)` writes `nan` (either sign) and `inf`/`-inf`, `"null"` writes
//!   `null`. Decoding accepts them by default (`decode_invalid_numbers`), together with everything
//!   the C library's `strtod` reads: hex numbers, a leading `+`, leading zeros, `nan(...)` payloads.
//! - **Decoding.** The same tokenizer: whitespace is space, tab, CR, LF; a NUL byte ends the input;
//!   `true`/`false`/`null` match as prefixes (`truex` is `true` then an invalid token); numbers end
//!   where `strtod` stops. Errors are `Expected <what> but found <token> at character <n>` with
//!   Redis's token names (`T_END`, `T_OBJ_END`, ...), error names (`invalid token`, `invalid
//!   number`, `unexpected end of string`, `invalid escape code`, `invalid unicode escape code`)
//!   and positions (the token's start, or for string errors the offending byte). `\u` escapes
//!   combine surrogate pairs and refuse lone surrogates; `\u0000` gives a NUL byte. Input starting
//!   with a NUL in its first two bytes is `JSON parser does not support UTF-16 or UTF-32`. Tables
//!   are built with `lua_newtable` and `lua_rawset`/`lua_rawseti` in input order, so their layout
//!   (`pairs` order, `#`) is Redis's.
//! - **Configuration.** Each `cjson.new()` table has its own settings; the functions take the same
//!   arguments (booleans or `"on"`/`"off"`, `"null"` for invalid numbers), report range errors
//!   against argument #1 whatever the position (as Redis does), truncate integers to a C `int`
//!   (`encode_max_depth(2^32 + 5)` sets 5), and apply earlier arguments before a later one fails.
//!   `encode_keep_buffer` is accepted and reported but changes nothing visible.
//!
//! Bounds: encoding and decoding walk nesting with an explicit stack (no recursion in Rust); the
//! output of decoding never exceeds the input's size plus Lua's own per-value overhead.
//!
//! Differences: encoding stops with `Cannot serialise, output larger than 536870912 bytes` past
//! 512 MiB of output (see `raw::MAX_OUTPUT`), where Redis would keep growing its buffer.

use std::ffi::c_int;

use mlua::ffi;

use crate::numfmt;
use crate::raw::{self, msg, Outcome, Raise, State, Upvalue};

/// One `cjson` table's settings, stored in a userdata shared as an upvalue by its functions.
#[repr(C)]
#[derive(Clone, Copy)]
struct Config {
    /// [`CONFIG_MAGIC`], checked before the userdata is trusted to be a `Config`.
    magic: u64,
    sparse_convert: i32,
    sparse_ratio: i32,
    sparse_safe: i32,
    encode_max_depth: i32,
    decode_max_depth: i32,
    /// 0 off, 1 on, 2 "null".
    encode_invalid_numbers: i32,
    decode_invalid_numbers: i32,
    encode_keep_buffer: i32,
    encode_number_precision: i32,
}

const CONFIG_MAGIC: u64 = u64::from_le_bytes(*b"cjsoncfg");

const DEFAULT_CONFIG: Config = Config {
    magic: CONFIG_MAGIC,
    sparse_convert: 0,
    sparse_ratio: 2,
    sparse_safe: 10,
    encode_max_depth: 1000,
    decode_max_depth: 1000,
    encode_invalid_numbers: 0,
    decode_invalid_numbers: 1,
    encode_keep_buffer: 1,
    encode_number_precision: 14,
};

/// The configuration of the function being called (its second upvalue).
///
/// Every cjson function is built with its table's `Config` userdata as upvalue 2. Only a script
/// with the debug library could replace it (Redis gives scripts none); the size and magic checks
/// keep a replaced one from being read or written as a `Config`.
unsafe fn config<'a>(up: Upvalue) -> Result<&'a mut Config, Raise> {
    let missing = || Raise::error("cjson configuration missing");
    // SAFETY: `block` returns a pointer only to a userdata block of exactly Config's size, which
    // Lua aligns for any C type; every bit pattern is a valid Config, and the magic tells ours.
    let cfg = up.block::<Config>().and_then(|p| p.as_mut()).ok_or_else(missing)?;
    if cfg.magic != CONFIG_MAGIC {
        return Err(missing());
    }
    Ok(cfg)
}

// ---------------------------------------------------------------------------------------------
// Configuration functions

/// `json_arg_init`: at most `n` arguments; missing ones read as nil.
unsafe fn arg_init(state: State, n: c_int) -> Result<(), Raise> {
    if ffi::lua_gettop(state) > n {
        return Err(Raise::arg(n + 1, "found too many arguments"));
    }
    ffi::lua_settop(state, n);
    Ok(())
}

/// A C string argument as `luaL_checkstring` gives it: up to its first NUL.
unsafe fn c_string_arg<'a>(state: State, narg: c_int) -> Result<&'a [u8], Raise> {
    let s = raw::check_lstring(state, narg)?;
    Ok(&s[..s.iter().position(|&b| b == 0).unwrap_or(s.len())])
}

/// An option that is a boolean or one of `names` (index = setting); pushes the current value.
unsafe fn enum_option(state: State, idx: c_int, setting: &mut i32, names: &[&str]) -> Result<(), Raise> {
    match ffi::lua_type(state, idx) {
        ffi::LUA_TNIL => {}
        ffi::LUA_TBOOLEAN => *setting = ffi::lua_toboolean(state, idx),
        _ => {
            let name = c_string_arg(state, idx)?;
            match names.iter().position(|n| n.as_bytes() == name) {
                Some(i) => *setting = i as i32,
                None => {
                    let mut m = raw::Msg::from_str("invalid option '");
                    m.push_bytes(name);
                    m.push_bytes(b"'");
                    return Err(Raise::Arg(idx, m));
                }
            }
        }
    }
    if *setting == 0 || *setting == 1 {
        ffi::lua_pushboolean(state, *setting);
    } else {
        raw::push_bytes(state, names.get(*setting as usize).copied().unwrap_or("").as_bytes());
    }
    Ok(())
}

const BOOL_NAMES: [&str; 2] = ["off", "on"];

/// An integer option in min..=max (a C `int`: the Lua integer is truncated to 32 bits first);
/// pushes the current value. Redis reports the range error against argument #1 whatever `idx` is.
unsafe fn integer_option(state: State, idx: c_int, setting: &mut i32, min: i32, max: i32) -> Result<(), Raise> {
    if ffi::lua_type(state, idx) != ffi::LUA_TNIL {
        let value = raw::check_integer(state, idx)? as i32;
        if value < min || value > max {
            return Err(Raise::Arg(1, msg!("expected integer between {min} and {max}")));
        }
        *setting = value;
    }
    ffi::lua_pushnumber(state, f64::from(*setting));
    Ok(())
}

unsafe fn cfg_encode_sparse_array(state: State, _: &mut (), up: Upvalue) -> Outcome {
    let cfg = config(up)?;
    arg_init(state, 3)?;
    enum_option(state, 1, &mut cfg.sparse_convert, &BOOL_NAMES)?;
    integer_option(state, 2, &mut cfg.sparse_ratio, 0, i32::MAX)?;
    integer_option(state, 3, &mut cfg.sparse_safe, 0, i32::MAX)?;
    Ok(3)
}

unsafe fn cfg_encode_max_depth(state: State, _: &mut (), up: Upvalue) -> Outcome {
    let cfg = config(up)?;
    arg_init(state, 1)?;
    integer_option(state, 1, &mut cfg.encode_max_depth, 1, i32::MAX)?;
    Ok(1)
}

unsafe fn cfg_decode_max_depth(state: State, _: &mut (), up: Upvalue) -> Outcome {
    let cfg = config(up)?;
    arg_init(state, 1)?;
    integer_option(state, 1, &mut cfg.decode_max_depth, 1, i32::MAX)?;
    Ok(1)
}

unsafe fn cfg_encode_number_precision(state: State, _: &mut (), up: Upvalue) -> Outcome {
    let cfg = config(up)?;
    arg_init(state, 1)?;
    integer_option(state, 1, &mut cfg.encode_number_precision, 1, 14)?;
    Ok(1)
}

unsafe fn cfg_encode_keep_buffer(state: State, _: &mut (), up: Upvalue) -> Outcome {
    let cfg = config(up)?;
    arg_init(state, 1)?;
    enum_option(state, 1, &mut cfg.encode_keep_buffer, &BOOL_NAMES)?;
    Ok(1)
}

unsafe fn cfg_encode_invalid_numbers(state: State, _: &mut (), up: Upvalue) -> Outcome {
    let cfg = config(up)?;
    arg_init(state, 1)?;
    enum_option(state, 1, &mut cfg.encode_invalid_numbers, &["off", "on", "null"])?;
    Ok(1)
}

unsafe fn cfg_decode_invalid_numbers(state: State, _: &mut (), up: Upvalue) -> Outcome {
    let cfg = config(up)?;
    arg_init(state, 1)?;
    enum_option(state, 1, &mut cfg.decode_invalid_numbers, &BOOL_NAMES)?;
    Ok(1)
}

unsafe fn new(state: State, _: &mut (), _: Upvalue) -> Outcome {
    push_module(state);
    Ok(1)
}

// ---------------------------------------------------------------------------------------------
// Encoding

#[derive(Default)]
pub(crate) struct EncodeScratch {
    out: Vec<u8>,
    frames: Vec<EncodeFrame>,
}

/// A table being written. Its table is on the Lua stack, with (for objects) the current key above.
enum EncodeFrame {
    Array { len: i32, next: i64 },
    Object { first: bool },
}

unsafe fn type_name(state: State, idx: c_int) -> &'static str {
    match ffi::lua_type(state, idx) {
        ffi::LUA_TNIL => "nil",
        ffi::LUA_TBOOLEAN => "boolean",
        ffi::LUA_TLIGHTUSERDATA | ffi::LUA_TUSERDATA => "userdata",
        ffi::LUA_TNUMBER => "number",
        ffi::LUA_TSTRING => "string",
        ffi::LUA_TTABLE => "table",
        ffi::LUA_TFUNCTION => "function",
        ffi::LUA_TTHREAD => "thread",
        _ => "no value",
    }
}

unsafe fn encode_error(state: State, idx: c_int, reason: &str) -> Raise {
    Raise::Error(msg!("Cannot serialise {}: {reason}", type_name(state, idx)))
}

/// Writes the number at `idx` (a value or a key).
unsafe fn append_number(state: State, cfg: &Config, out: &mut Vec<u8>, idx: c_int) -> Result<(), Raise> {
    let num = ffi::lua_tonumber(state, idx);
    if num.is_nan() || num.is_infinite() {
        match cfg.encode_invalid_numbers {
            0 => return Err(encode_error(state, idx, "must not be NaN or Inf")),
            1 if num.is_nan() => {
                // Redis writes "nan" whatever the sign, where printf would write "-nan".
                out.extend_from_slice(b"nan");
                return Ok(());
            }
            1 => {}
            _ => {
                out.extend_from_slice(b"null");
                return Ok(());
            }
        }
    }
    numfmt::push_g(out, num, cfg.encode_number_precision.clamp(1, 17) as u32);
    Ok(())
}

/// Which bytes a JSON string escapes: `"`, `\`, `/`, control bytes and DEL.
const fn needs_escape() -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = true;
        b += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t[b'/' as usize] = true;
    t[0x7f] = true;
    t
}

const NEEDS_ESCAPE: [bool; 256] = needs_escape();

fn append_string(out: &mut Vec<u8>, s: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(s.len() + 2);
    out.push(b'"');
    let mut rest = s;
    while let Some(i) = rest.iter().position(|&b| NEEDS_ESCAPE[usize::from(b)]) {
        out.extend_from_slice(&rest[..i]);
        let b = rest[i];
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            b'\x08' => out.extend_from_slice(b"\\b"),
            b'\x0c' => out.extend_from_slice(b"\\f"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 15)]);
            }
        }
        rest = &rest[i + 1..];
    }
    out.extend_from_slice(rest);
    out.push(b'"');
}

/// Redis's array test for the table on top: the largest integer key ≥ 1 when every key is one
/// (kept in a C `int`, see the module doc), or -1 for an object. Sparse arrays fail or become
/// objects as configured.
unsafe fn array_length(state: State, cfg: &Config) -> Result<i32, Raise> {
    let (mut max, mut items) = (0i32, 0i32);
    ffi::lua_pushnil(state);
    while ffi::lua_next(state, -2) != 0 {
        let k = ffi::lua_tonumber(state, -2);
        if ffi::lua_type(state, -2) == ffi::LUA_TNUMBER && k != 0.0 && k.floor() == k && k >= 1.0 {
            if k > f64::from(max) {
                max = raw::f64_to_i32(k);
            }
            items = items.wrapping_add(1);
            ffi::lua_settop(state, -2);
            continue;
        }
        ffi::lua_settop(state, -3);
        return Ok(-1);
    }
    if cfg.sparse_ratio > 0 && max > items.wrapping_mul(cfg.sparse_ratio) && max > cfg.sparse_safe {
        if cfg.sparse_convert == 0 {
            return Err(encode_error(state, -1, "excessively sparse array"));
        }
        return Ok(-1);
    }
    Ok(max)
}

unsafe fn encode(state: State, scratch: &mut EncodeScratch, up: Upvalue) -> Outcome {
    let cfg = *config(up)?;
    if ffi::lua_gettop(state) != 1 {
        return Err(Raise::arg(1, "expected 1 argument"));
    }
    let EncodeScratch { out, frames } = scratch;
    let mut depth: i32 = 0;
    // The value to write is on top of the stack.
    loop {
        let mut finished = true;
        match ffi::lua_type(state, -1) {
            ffi::LUA_TSTRING => append_string(out, raw::str_bytes(state, -1)),
            ffi::LUA_TNUMBER => append_number(state, &cfg, out, -1)?,
            ffi::LUA_TBOOLEAN => out.extend_from_slice(if ffi::lua_toboolean(state, -1) != 0 {
                b"true"
            } else {
                b"false"
            }),
            ffi::LUA_TNIL => out.extend_from_slice(b"null"),
            ffi::LUA_TLIGHTUSERDATA if ffi::lua_touserdata(state, -1).is_null() => out.extend_from_slice(b"null"),
            ffi::LUA_TTABLE => {
                depth += 1;
                if depth > cfg.encode_max_depth || !raw::check_stack(state, 3) {
                    return Err(Raise::Error(msg!("Cannot serialise, excessive nesting ({depth})")));
                }
                let len = array_length(state, &cfg)?;
                if len > 0 {
                    out.push(b'[');
                    frames.push(EncodeFrame::Array { len, next: 1 });
                } else {
                    out.push(b'{');
                    ffi::lua_pushnil(state);
                    frames.push(EncodeFrame::Object { first: true });
                }
                finished = false;
            }
            _ => return Err(encode_error(state, -1, "type not supported")),
        }
        if out.len() > raw::MAX_OUTPUT {
            return Err(Raise::Error(msg!(
                "Cannot serialise, output larger than {} bytes",
                raw::MAX_OUTPUT
            )));
        }
        // Move to the next value to write, closing finished tables on the way.
        loop {
            let Some(frame) = frames.last_mut() else {
                let bytes: &[u8] = out;
                raw::push_bytes(state, bytes);
                return Ok(1);
            };
            match frame {
                EncodeFrame::Array { len, next } => {
                    if finished {
                        ffi::lua_settop(state, -2); // the element just written
                    }
                    if *next > i64::from(*len) {
                        out.push(b']');
                    } else {
                        if *next > 1 {
                            out.push(b',');
                        }
                        ffi::lua_rawgeti_(state, -1, *next as c_int); // next <= len, an int
                        *next += 1;
                        break;
                    }
                }
                EncodeFrame::Object { first } => {
                    if finished {
                        ffi::lua_settop(state, -2); // the value just written; its key stays
                    }
                    if ffi::lua_next(state, -2) != 0 {
                        if !*first {
                            out.push(b',');
                        }
                        *first = false;
                        match ffi::lua_type(state, -2) {
                            ffi::LUA_TNUMBER => {
                                out.push(b'"');
                                append_number(state, &cfg, out, -2)?;
                                out.extend_from_slice(b"\":");
                            }
                            ffi::LUA_TSTRING => {
                                append_string(out, raw::str_bytes(state, -2));
                                out.push(b':');
                            }
                            _ => return Err(encode_error(state, -2, "table key must be a number or string")),
                        }
                        break;
                    }
                    out.push(b'}');
                }
            }
            // The table on top is complete.
            frames.pop();
            depth -= 1;
            finished = true;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Decoding

#[derive(Default)]
pub(crate) struct DecodeScratch {
    /// The current string token's decoded bytes.
    tmp: Vec<u8>,
    frames: Vec<DecodeFrame>,
}

/// A table being filled; it is on the Lua stack (with, for objects, the current key above it).
enum DecodeFrame {
    Array { index: c_int },
    Object,
}

#[derive(Clone, Copy, PartialEq)]
enum Tok {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str,
    Num(f64),
    Bool(bool),
    Null,
    Colon,
    Comma,
    End,
    Error(&'static str),
}

impl Tok {
    fn name(self) -> &'static str {
        match self {
            Tok::ObjBegin => "T_OBJ_BEGIN",
            Tok::ObjEnd => "T_OBJ_END",
            Tok::ArrBegin => "T_ARR_BEGIN",
            Tok::ArrEnd => "T_ARR_END",
            Tok::Str => "T_STRING",
            Tok::Num(_) => "T_NUMBER",
            Tok::Bool(_) => "T_BOOLEAN",
            Tok::Null => "T_NULL",
            Tok::Colon => "T_COLON",
            Tok::Comma => "T_COMMA",
            Tok::End => "T_END",
            Tok::Error(e) => e,
        }
    }
}

struct Parser<'a> {
    /// The input, whose byte at `data.len()` is the NUL every Lua string ends with.
    data: &'a [u8],
    pos: usize,
    invalid_numbers: bool,
    depth: i32,
}

impl Parser<'_> {
    /// The byte at `i`, with the terminating NUL at and past the end.
    fn at(&self, i: usize) -> u8 {
        self.data.get(i).copied().unwrap_or(0)
    }

    fn starts_with(&self, word: &[u8]) -> bool {
        self.data.get(self.pos..).is_some_and(|rest| rest.starts_with(word))
    }

    /// Lexes the next token; a string token's bytes go to `tmp`. Returns the token and where it
    /// is reported to be (its start, or the offending byte of a bad string).
    fn next(&mut self, tmp: &mut Vec<u8>) -> (Tok, usize) {
        while matches!(self.at(self.pos), b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        let start = self.pos;
        let ch = self.at(start);
        let single = match ch {
            b'{' => Some(Tok::ObjBegin),
            b'}' => Some(Tok::ObjEnd),
            b'[' => Some(Tok::ArrBegin),
            b']' => Some(Tok::ArrEnd),
            b':' => Some(Tok::Colon),
            b',' => Some(Tok::Comma),
            0 => return (Tok::End, start),
            b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n' | b'i' | b'I' | b'N' | b'+' => None,
            _ => return (Tok::Error("invalid token"), start),
        };
        if let Some(tok) = single {
            self.pos += 1;
            return (tok, start);
        }
        if ch == b'"' {
            return self.string(tmp);
        }
        if ch == b'-' || ch.is_ascii_digit() {
            if !self.invalid_numbers && self.is_invalid_number() {
                return (Tok::Error("invalid number"), start);
            }
            return self.number();
        }
        for (word, tok) in [
            (&b"true"[..], Tok::Bool(true)),
            (b"false", Tok::Bool(false)),
            (b"null", Tok::Null),
        ] {
            if self.starts_with(word) {
                self.pos += word.len();
                return (tok, start);
            }
        }
        if self.invalid_numbers && self.is_invalid_number() {
            return self.number();
        }
        (Tok::Error("invalid token"), start)
    }

    /// Forms `strtod` reads that JSON does not allow: a leading `+`, hex, leading zeros, inf, nan.
    fn is_invalid_number(&self) -> bool {
        let mut p = self.pos;
        if self.at(p) == b'+' {
            return true;
        }
        if self.at(p) == b'-' {
            p += 1;
        }
        let c = self.at(p);
        if c == b'0' {
            let c2 = self.at(p + 1);
            return c2 | 0x20 == b'x' || c2.is_ascii_digit();
        }
        // C compares a signed char: bytes from 0x80 count as "ordinary" too.
        if c <= b'9' || c >= 0x80 {
            return false;
        }
        let word = [self.at(p), self.at(p + 1), self.at(p + 2)].map(|b| b.to_ascii_lowercase());
        &word == b"inf" || &word == b"nan"
    }

    fn number(&mut self) -> (Tok, usize) {
        let start = self.pos;
        // SAFETY: `data` is a Lua string's bytes, which Lua always follows with a NUL.
        let (v, used) = unsafe { numfmt::strtod_at(self.data.as_ptr().add(start)) };
        // strtod stops at the NUL, so `used` stays within the string.
        if used == 0 || start + used > self.data.len() {
            return (Tok::Error("invalid number"), start);
        }
        self.pos += used;
        (Tok::Num(v), start)
    }

    fn string(&mut self, tmp: &mut Vec<u8>) -> (Tok, usize) {
        let start = self.pos;
        tmp.clear();
        self.pos += 1;
        loop {
            // Copy the run up to the next quote, backslash or NUL at once.
            let rest = self.data.get(self.pos..).unwrap_or(&[]);
            let run = rest
                .iter()
                .position(|&b| matches!(b, b'"' | b'\\' | 0))
                .unwrap_or(rest.len());
            tmp.extend_from_slice(&rest[..run]);
            self.pos += run;
            match self.at(self.pos) {
                b'"' => {
                    self.pos += 1;
                    return (Tok::Str, start);
                }
                0 => return (Tok::Error("unexpected end of string"), self.pos),
                _ => {}
            }
            // A backslash.
            let unescaped = match self.at(self.pos + 1) {
                b'"' => b'"',
                b'\\' => b'\\',
                b'/' => b'/',
                b'b' => b'\x08',
                b'f' => b'\x0c',
                b'n' => b'\n',
                b'r' => b'\r',
                b't' => b'\t',
                b'u' => {
                    if self.unicode_escape(tmp) {
                        continue;
                    }
                    return (Tok::Error("invalid unicode escape code"), self.pos);
                }
                _ => return (Tok::Error("invalid escape code"), self.pos),
            };
            tmp.push(unescaped);
            self.pos += 2;
        }
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let mut v = 0;
        for i in 0..4 {
            v = (v << 4) | char::from(self.at(at + i)).to_digit(16)?;
        }
        Some(v)
    }

    /// `\uXXXX` (or a surrogate pair `\uD8xx\uDCxx`) at `pos`, appended as UTF-8.
    fn unicode_escape(&mut self, tmp: &mut Vec<u8>) -> bool {
        let Some(mut cp) = self.hex4(self.pos + 2) else {
            return false;
        };
        let mut len = 6;
        if cp & 0xf800 == 0xd800 {
            if cp & 0x400 != 0 || self.at(self.pos + 6) != b'\\' || self.at(self.pos + 7) != b'u' {
                return false;
            }
            let Some(low) = self.hex4(self.pos + 8) else {
                return false;
            };
            if low & 0xfc00 != 0xdc00 {
                return false;
            }
            cp = (((cp & 0x3ff) << 10) | (low & 0x3ff)) + 0x10000;
            len = 12;
        }
        let Some(c) = char::from_u32(cp) else {
            return false;
        };
        let mut buf = [0u8; 4];
        tmp.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        self.pos += len;
        true
    }
}

fn parse_error(expected: &str, tok: Tok, at: usize) -> Raise {
    Raise::Error(msg!(
        "Expected {expected} but found {} at character {}",
        tok.name(),
        at + 1
    ))
}

unsafe fn decode(state: State, scratch: &mut DecodeScratch, up: Upvalue) -> Outcome {
    let cfg = *config(up)?;
    if ffi::lua_gettop(state) != 1 {
        return Err(Raise::arg(1, "expected 1 argument"));
    }
    let data = raw::check_lstring(state, 1)?;
    if data.len() >= 2 && (data[0] == 0 || data[1] == 0) {
        return Err(Raise::error("JSON parser does not support UTF-16 or UTF-32"));
    }
    let DecodeScratch { tmp, frames } = scratch;
    let mut p = Parser {
        data,
        pos: 0,
        invalid_numbers: cfg.decode_invalid_numbers != 0,
        depth: 0,
    };
    let mut tok = p.next(tmp);
    loop {
        // `tok` starts a value: push it, or open a table.
        let (t, at) = tok;
        let opened = match t {
            Tok::Str => {
                raw::push_bytes(state, tmp);
                None
            }
            Tok::Num(n) => {
                ffi::lua_pushnumber(state, n);
                None
            }
            Tok::Bool(b) => {
                ffi::lua_pushboolean(state, c_int::from(b));
                None
            }
            Tok::Null => {
                ffi::lua_pushlightuserdata(state, std::ptr::null_mut());
                None
            }
            Tok::ObjBegin | Tok::ArrBegin => {
                let object = t == Tok::ObjBegin;
                p.depth += 1;
                // Redis reserves room for table, key and value (objects) or table and value.
                if p.depth > cfg.decode_max_depth || !raw::check_stack(state, if object { 3 } else { 2 }) {
                    return Err(Raise::Error(msg!(
                        "Found too many nested data structures ({}) at character {}",
                        p.depth,
                        p.pos
                    )));
                }
                ffi::lua_createtable(state, 0, 0);
                Some(object)
            }
            _ => return Err(parse_error("value", t, at)),
        };
        // A new table starts on its first element, unless it is empty and so already complete.
        if let Some(object) = opened {
            let first = p.next(tmp);
            if first.0 != if object { Tok::ObjEnd } else { Tok::ArrEnd } {
                if object {
                    frames.push(DecodeFrame::Object);
                    tok = object_key(state, &mut p, tmp, first)?;
                } else {
                    frames.push(DecodeFrame::Array { index: 1 });
                    tok = first;
                }
                continue;
            }
            p.depth -= 1;
        }
        // A complete value is on top of the stack: store it, closing the tables it completes, until
        // one asks for another element.
        loop {
            let Some(frame) = frames.last_mut() else {
                let end = p.next(tmp);
                if end.0 != Tok::End {
                    return Err(parse_error("the end", end.0, end.1));
                }
                return Ok(1);
            };
            let next = p.next(tmp);
            match frame {
                DecodeFrame::Array { index } => {
                    ffi::lua_rawseti_(state, -2, *index);
                    if next.0 == Tok::Comma {
                        *index = index.wrapping_add(1);
                        tok = p.next(tmp);
                        break;
                    }
                    if next.0 != Tok::ArrEnd {
                        return Err(parse_error("comma or array end", next.0, next.1));
                    }
                }
                DecodeFrame::Object => {
                    ffi::lua_rawset(state, -3);
                    if next.0 == Tok::Comma {
                        let key = p.next(tmp);
                        tok = object_key(state, &mut p, tmp, key)?;
                        break;
                    }
                    if next.0 != Tok::ObjEnd {
                        return Err(parse_error("comma or object end", next.0, next.1));
                    }
                }
            }
            frames.pop();
            p.depth -= 1;
        }
    }
}

/// Pushes an object's key (the token `key`) and reads its colon; returns the value's first token.
unsafe fn object_key(
    state: State,
    p: &mut Parser,
    tmp: &mut Vec<u8>,
    key: (Tok, usize),
) -> Result<(Tok, usize), Raise> {
    if key.0 != Tok::Str {
        return Err(parse_error("object key string", key.0, key.1));
    }
    raw::push_bytes(state, tmp);
    let colon = p.next(tmp);
    if colon.0 != Tok::Colon {
        return Err(parse_error("colon", colon.0, colon.1));
    }
    Ok(p.next(tmp))
}

// ---------------------------------------------------------------------------------------------
// Registration

mod tramp {
    use std::ffi::c_int;

    use mlua::ffi::lua_State;

    use super::{DecodeScratch, EncodeScratch};
    use crate::raw::run;

    macro_rules! unit {
        ($($name:ident),*) => {$(
            pub(super) unsafe extern "C-unwind" fn $name(state: *mut lua_State) -> c_int {
                run::<()>(state, super::$name)
            }
        )*};
    }

    pub(super) unsafe extern "C-unwind" fn encode(state: *mut lua_State) -> c_int {
        run::<EncodeScratch>(state, super::encode)
    }
    pub(super) unsafe extern "C-unwind" fn decode(state: *mut lua_State) -> c_int {
        run::<DecodeScratch>(state, super::decode)
    }
    unit!(
        cfg_encode_sparse_array,
        cfg_encode_max_depth,
        cfg_decode_max_depth,
        cfg_encode_number_precision,
        cfg_encode_keep_buffer,
        cfg_encode_invalid_numbers,
        cfg_decode_invalid_numbers,
        new
    );
}

/// Pushes a new `cjson` table with its own configuration, built in Redis's order (which decides
/// `pairs` order).
///
/// # Safety
/// Needs a few free stack slots; may raise a memory error (run it protected).
pub(crate) unsafe fn push_module(state: State) {
    ffi::lua_createtable(state, 0, 0);
    let cfg = ffi::lua_newuserdata(state, std::mem::size_of::<Config>()) as *mut Config;
    // SAFETY: Lua returned a block of the requested size, aligned for any C type.
    cfg.write(DEFAULT_CONFIG);
    for (name, f) in [
        ("encode", tramp::encode as ffi::lua_CFunction),
        ("decode", tramp::decode),
        ("encode_sparse_array", tramp::cfg_encode_sparse_array),
        ("encode_max_depth", tramp::cfg_encode_max_depth),
        ("decode_max_depth", tramp::cfg_decode_max_depth),
        ("encode_number_precision", tramp::cfg_encode_number_precision),
        ("encode_keep_buffer", tramp::cfg_encode_keep_buffer),
        ("encode_invalid_numbers", tramp::cfg_encode_invalid_numbers),
        ("decode_invalid_numbers", tramp::cfg_decode_invalid_numbers),
        ("new", tramp::new),
    ] {
        raw::push_closure(state, f, Some(-1));
        raw::set_field(state, -3, name);
    }
    ffi::lua_settop(state, -2); // the configuration
    ffi::lua_pushlightuserdata(state, std::ptr::null_mut());
    raw::set_field(state, -2, "null");
    raw::push_bytes(state, b"cjson");
    raw::set_field(state, -2, "_NAME");
    raw::push_bytes(state, b"2.1.0");
    raw::set_field(state, -2, "_VERSION");
}

#[cfg(test)]
mod tests {
    use crate::testutil::run;

    #[test]
    fn encodes_scalars_like_redis() {
        assert_eq!(
            run("return cjson.encode({1, 'a/b', true, cjson.null})"),
            r#"s:[1,"a\/b",true,null]"#
        );
        assert_eq!(
            run("return cjson.encode(-0.0), cjson.encode(1e-300), cjson.encode(0.1), cjson.encode(100000000000005)"),
            "s:-0 s:1e-300 s:0.1 s:1e+14"
        );
        assert_eq!(
            run("return cjson.encode('\\0\\31\\127\\128\\r')"),
            r#"x:225c75303030305c75303031665c7530303766805c7222"#
        );
        assert_eq!(
            run("return cjson.encode(0/0)"),
            "error: user_script:1: Cannot serialise number: must not be NaN or Inf"
        );
        assert_eq!(
            run("return cjson.encode(tostring)"),
            "error: user_script:1: Cannot serialise function: type not supported"
        );
    }

    #[test]
    fn tables_arrays_and_objects() {
        assert_eq!(
            run("return cjson.encode({}), cjson.encode({[1] = 1, [2] = 2, [4] = 4}), cjson.encode({[0] = 1})"),
            r#"s:{} s:[1,2,null,4] s:{"0":1}"#
        );
        assert_eq!(
            run("return cjson.encode({[1] = 1, [20] = 2})"),
            "error: user_script:1: Cannot serialise table: excessively sparse array"
        );
        // Keys of 2^31 and above wrap in Redis's C int and make an object.
        assert_eq!(
            run("return cjson.encode({[2^31] = 1}), cjson.encode({[1e-300] = 1})"),
            r#"s:{"2147483648":1} s:{"1e-300":1}"#
        );
        assert_eq!(
            run("return cjson.encode({[true] = 1})"),
            "error: user_script:1: Cannot serialise boolean: table key must be a number or string"
        );
        assert_eq!(
            run("local t = {} t[1] = t return cjson.encode(t)"),
            "error: user_script:1: Cannot serialise, excessive nesting (1001)"
        );
    }

    #[test]
    fn decodes_with_exact_errors() {
        assert_eq!(
            run("local t = cjson.decode('[1,\"\\\\u00e9\",null,{\"a\":false}]') return t[1], t[2], t[3], t[4].a"),
            "n:1 x:c3a9 null false"
        );
        assert_eq!(
            run("return cjson.decode('[1,2')"),
            "error: user_script:1: Expected comma or array end but found T_END at character 5"
        );
        assert_eq!(
            run("return cjson.decode('\"a\\\\qb\"')"),
            "error: user_script:1: Expected value but found invalid escape code at character 3"
        );
        assert_eq!(
            run("return cjson.decode('[truex]')"),
            "error: user_script:1: Expected comma or array end but found invalid token at character 6"
        );
        assert_eq!(
            run("return cjson.decode('a\\0')"),
            "error: user_script:1: JSON parser does not support UTF-16 or UTF-32"
        );
        assert_eq!(
            run("return cjson.decode(string.rep('[', 1001))"),
            "error: user_script:1: Found too many nested data structures (1001) at character 1001"
        );
        assert_eq!(run("return cjson.decode('nan(5)') ~= cjson.decode('nan(5)'), cjson.decode('0x10'), cjson.decode('[1]\\0junk')[1]"), "true n:16 n:1");
    }

    #[test]
    fn configuration_is_per_instance() {
        assert_eq!(
            run("local c = cjson.new() c.encode_number_precision(3) return c.encode(math.pi), cjson.encode(math.pi)"),
            "s:3.14 s:3.1415926535898"
        );
        assert_eq!(run("local c = cjson.new() c.encode_sparse_array(true) return c.encode({[1] = 1, [20] = 2}), c.encode_sparse_array()"), r#"s:{"1":1,"20":2} true n:2 n:10"#);
        assert_eq!(
            run("local c = cjson.new() c.encode_invalid_numbers('null') return c.encode({0/0, 1/0})"),
            "s:[null,null]"
        );
        assert_eq!(
            run("return cjson.encode_max_depth(0)"),
            "error: user_script:1: bad argument #1 to 'encode_max_depth' (expected integer between 1 and 2147483647)"
        );
        assert_eq!(
            run("return cjson.encode_max_depth(1, 2)"),
            "error: user_script:1: bad argument #2 to 'encode_max_depth' (found too many arguments)"
        );
    }

    #[test]
    #[cfg_attr(debug_assertions, ignore = "writes 512 MiB; runs in release (CI) builds")]
    fn output_amplification_is_capped() {
        let code = "local t = {string.rep('x', 1000)} for i = 1, 30 do t = {t, t} end return cjson.encode(t)";
        assert_eq!(
            run(code),
            "error: user_script:1: Cannot serialise, output larger than 536870912 bytes"
        );
    }

    #[test]
    fn deep_input_fails_cleanly_on_a_small_thread_stack() {
        // The walks keep their own stacks, so the Lua stack limit (not the thread's) ends them.
        let out = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                (
                    run("local c = cjson.new() c.decode_max_depth(2^31 - 1) return c.decode(string.rep('[', 100000))"),
                    run("local c = cjson.new() c.encode_max_depth(2^31 - 1) local t = {} t[1] = t return c.encode(t)"),
                )
            })
            .expect("spawn")
            .join()
            .expect("no overflow");
        assert_eq!(
            out.0,
            "error: user_script:1: Found too many nested data structures (7999) at character 7999"
        );
        assert_eq!(
            out.1,
            "error: user_script:1: Cannot serialise, excessive nesting (7998)"
        );
    }
}
