//! `struct`: Redis 7.0's bundled copy of Roberto Ierusalimschy's struct library (`struct.pack`,
//! `struct.unpack`, `struct.size`), converting between Lua values and C-struct-like byte strings.
//!
//! Format options (as in Redis): `>` big endian, `<` little endian (the default, x86-64's native
//! order), `!n` maximum alignment (default 8; must be a power of two), `x` a zero byte, `b`/`B`
//! char, `h`/`H` short, `l`/`L` long (8), `T` size_t (8), `i`/`I[n]` an `n`-byte integer (default 4,
//! at most 32), `f` float, `d` double, `s` a zero-terminated string, `c[n]` `n` raw bytes (`c0`: the
//! whole string when packing, a length taken from the previous result when unpacking), space
//! ignored. Lowercase integer options are signed when unpacking. The format ends at its first NUL
//! byte, as the C string it is.
//!
//! Kept identical to Redis:
//! - Error texts, argument numbers and their quirks: a short `c` string is reported against the
//!   *next* argument; an invalid option is `bad argument #1 ... (invalid format option 'z')`, but
//!   `struct.size` silently accepts invalid letters (it only checks punctuation); a size past
//!   `INT_MAX` is `integral size overflow`.
//! - Integer conversion as the C casts execute on x86-64: negatives through `int64_t`, others
//!   through `uint64_t` (so 2^64, +Inf → 0; NaN → 0x8000000000000000), integers wider than 8 bytes
//!   padded with zeros when packing and folded to their last 8 bytes when unpacking, with the sign
//!   mask shifted by `(8*size - 1) mod 64`.
//! - Alignment padding for every option but `c` and `s`, computed with the same arithmetic even for
//!   sizes that are not powers of two (`!4i3`).
//! - `pack` reports the first missing argument as `nil` (`number expected, got nil`): Redis pushes a
//!   nil mark after the arguments, and so does this module.
//! - `unpack` checks for stack room (`stack overflow (too many results)`) at the same points.
//!
//! Bounds: output is at most the format's fixed sizes plus the string arguments; `unpack` checks every
//! read against the data length, including after alignment padding.
//!
//! Differences: none known.

use std::ffi::c_int;

use mlua::ffi;

use crate::raw::{self, msg, Outcome, Raise, State, Upvalue};

/// Largest `i`/`I` size (MAXINTSIZE).
const MAX_INT_SIZE: usize = 32;
/// Default and largest natural alignment on x86-64 (MAXALIGN).
const MAX_ALIGN: i32 = 8;

#[derive(Clone, Copy, PartialEq)]
enum Endian {
    Little,
    Big,
}

struct Header {
    endian: Endian,
    align: i32,
}

impl Default for Header {
    fn default() -> Header {
        Header {
            endian: Endian::Little,
            align: 1,
        }
    }
}

/// Reads a format string: the option letters with their numeric suffixes.
struct Format<'a> {
    fmt: &'a [u8],
    pos: usize,
}

impl<'a> Format<'a> {
    fn new(bytes: &'a [u8]) -> Format<'a> {
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        Format {
            fmt: &bytes[..end],
            pos: 0,
        }
    }

    fn next_opt(&mut self) -> Option<u8> {
        let b = *self.fmt.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    /// A decimal count after an option, or `default`; refuses counts past `INT_MAX`.
    fn number(&mut self, default: i32) -> Result<i32, Raise> {
        let mut digits = false;
        let mut a: i32 = 0;
        while let Some(&c) = self.fmt.get(self.pos) {
            if !c.is_ascii_digit() {
                break;
            }
            let d = i32::from(c - b'0');
            if a > i32::MAX / 10 || a * 10 > i32::MAX - d {
                return Err(Raise::error("integral size overflow"));
            }
            a = a * 10 + d;
            self.pos += 1;
            digits = true;
        }
        Ok(if digits { a } else { default })
    }

    /// The size an option occupies (0 for options without a fixed size or without data).
    fn size_of(&mut self, opt: u8) -> Result<usize, Raise> {
        Ok(match opt {
            b'B' | b'b' => 1,
            b'H' | b'h' => 2,
            b'L' | b'l' | b'T' | b'd' => 8,
            b'f' => 4,
            b'x' => 1,
            b'c' => self.number(1)? as usize,
            b'i' | b'I' => {
                let sz = self.number(4)?;
                if sz as usize > MAX_INT_SIZE {
                    return Err(Raise::Error(msg!(
                        "integral size {sz} is larger than limit of {MAX_INT_SIZE}"
                    )));
                }
                sz as usize
            }
            _ => 0,
        })
    }

    /// Options that change the header rather than read or write data.
    fn control(&mut self, opt: u8, h: &mut Header) -> Result<(), Raise> {
        match opt {
            b' ' => Ok(()),
            b'>' => {
                h.endian = Endian::Big;
                Ok(())
            }
            b'<' => {
                h.endian = Endian::Little;
                Ok(())
            }
            b'!' => {
                let a = self.number(MAX_ALIGN)?;
                if a <= 0 || a & (a - 1) != 0 {
                    return Err(Raise::Error(msg!("alignment {a} is not a power of 2")));
                }
                h.align = a;
                Ok(())
            }
            _ => {
                let mut m = raw::Msg::from_str("invalid format option '");
                // `%c` of lua_pushfstring: the byte itself, nothing for NUL (which cannot occur).
                m.push_bytes(&[opt]);
                m.push_bytes(b"'");
                Err(Raise::Arg(1, m))
            }
        }
    }
}

/// Padding before an option at offset `len` (the C arithmetic, wrapping, for any size).
fn to_align(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align as usize);
    size.wrapping_sub(len & size.wrapping_sub(1)) & size.wrapping_sub(1)
}

fn is_integer_opt(opt: u8) -> bool {
    matches!(opt, b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I')
}

unsafe fn pack(state: State, out: &mut Vec<u8>, _: Upvalue) -> Outcome {
    let mut fmt = Format::new(raw::check_lstring(state, 1)?);
    let mut h = Header::default();
    let mut arg: c_int = 2;
    let mut total: usize = 0;
    // Redis pushes a nil to separate the arguments from its luaL_Buffer, so the first argument
    // past the last one given reads as nil. (The buffer's pieces above it are never reached: every
    // option refuses that nil first.)
    ffi::lua_pushnil(state);
    let b = out;
    while let Some(opt) = fmt.next_opt() {
        let mut size = fmt.size_of(opt)?;
        let pad = to_align(total, &h, opt, size);
        total = total.wrapping_add(pad);
        b.resize(b.len() + pad, 0);
        match opt {
            _ if is_integer_opt(opt) => {
                let n = raw::check_number(state, arg)?;
                arg += 1;
                let value = if n < 0.0 {
                    raw::f64_to_i64(n) as u64
                } else {
                    raw::f64_to_u64(n)
                };
                // Sizes past 8 bytes get zeros beyond the 64-bit value, at the far end.
                let mut bytes = [0u8; MAX_INT_SIZE];
                for (i, slot) in bytes[..size.min(8)].iter_mut().enumerate() {
                    *slot = (value >> (8 * i)) as u8;
                }
                let bytes = &mut bytes[..size];
                if h.endian == Endian::Big {
                    bytes.reverse();
                }
                b.extend_from_slice(bytes);
            }
            b'x' => b.push(0),
            b'f' => {
                let f = raw::check_number(state, arg)? as f32;
                arg += 1;
                let bytes = if h.endian == Endian::Big {
                    f.to_be_bytes()
                } else {
                    f.to_le_bytes()
                };
                b.extend_from_slice(&bytes);
            }
            b'd' => {
                let d = raw::check_number(state, arg)?;
                arg += 1;
                let bytes = if h.endian == Endian::Big {
                    d.to_be_bytes()
                } else {
                    d.to_le_bytes()
                };
                b.extend_from_slice(&bytes);
            }
            b'c' | b's' => {
                let s = raw::check_lstring(state, arg)?;
                arg += 1;
                if size == 0 {
                    size = s.len();
                }
                if s.len() < size {
                    return Err(Raise::arg(arg, "string too short"));
                }
                b.extend_from_slice(&s[..size]);
                if opt == b's' {
                    b.push(0);
                    size += 1;
                }
            }
            _ => fmt.control(opt, &mut h)?,
        }
        total = total.wrapping_add(size);
    }
    raw::push_bytes(state, b);
    Ok(1)
}

/// Reads an integer of `size` bytes; past 8 bytes only the last 8 (in reading order) remain.
fn get_integer(bytes: &[u8], endian: Endian, signed: bool) -> f64 {
    let mut l: u64 = 0;
    let mut push = |b: u8| l = (l << 8) | u64::from(b);
    if endian == Endian::Big {
        bytes.iter().copied().for_each(&mut push);
    } else {
        bytes.iter().rev().copied().for_each(&mut push);
    }
    if !signed {
        return l as f64;
    }
    // The C shift count (8*size - 1) is taken mod 64 by the x86 shift instruction.
    let shift = ((bytes.len() as u32).wrapping_mul(8).wrapping_sub(1)) & 63;
    let mask = u64::MAX << shift;
    if l & mask != 0 {
        l |= mask;
    }
    l as i64 as f64
}

unsafe fn unpack(state: State, _: &mut (), _: Upvalue) -> Outcome {
    let mut fmt = Format::new(raw::check_lstring(state, 1)?);
    let data = raw::check_lstring(state, 2)?;
    let ld = data.len();
    // The position is converted to `size_t` first, so only 0 is refused here; a negative one is
    // huge and fails the length check of the first option (or is returned as is by an empty
    // format, wrapped back through `lua_Integer`).
    let mut pos = raw::opt_integer(state, 3, 1)? as u64 as usize;
    if pos == 0 {
        return Err(Raise::arg(3, "offset must be 1 or greater"));
    }
    pos -= 1;
    let mut h = Header::default();
    let mut n: c_int = 0;
    while let Some(opt) = fmt.next_opt() {
        let mut size = fmt.size_of(opt)?;
        pos = pos.wrapping_add(to_align(pos, &h, opt, size));
        if pos > ld || size > ld - pos {
            return Err(Raise::arg(2, "data string too short"));
        }
        raw::check_stack_or(state, 2, "too many results")?;
        let item = &data[pos..pos + size];
        match opt {
            _ if is_integer_opt(opt) => {
                ffi::lua_pushnumber(state, get_integer(item, h.endian, opt.is_ascii_lowercase()));
                n += 1;
            }
            b'x' => {}
            b'f' => {
                let mut b = [0u8; 4];
                b.copy_from_slice(item);
                let f = if h.endian == Endian::Big {
                    f32::from_be_bytes(b)
                } else {
                    f32::from_le_bytes(b)
                };
                ffi::lua_pushnumber(state, f64::from(f));
                n += 1;
            }
            b'd' => {
                let mut b = [0u8; 8];
                b.copy_from_slice(item);
                let d = if h.endian == Endian::Big {
                    f64::from_be_bytes(b)
                } else {
                    f64::from_le_bytes(b)
                };
                ffi::lua_pushnumber(state, d);
                n += 1;
            }
            b'c' => {
                if size == 0 {
                    if n == 0 || ffi::lua_isnumber(state, -1) == 0 {
                        return Err(Raise::error("format 'c0' needs a previous size"));
                    }
                    size = raw::f64_to_u64(ffi::lua_tonumber(state, -1)) as usize;
                    ffi::lua_settop(state, -2);
                    n -= 1;
                    if size > ld - pos {
                        return Err(Raise::arg(2, "data string too short"));
                    }
                }
                raw::push_bytes(state, &data[pos..pos + size]);
                n += 1;
            }
            b's' => {
                let Some(len) = data[pos..].iter().position(|&b| b == 0) else {
                    return Err(Raise::error("unfinished string in data"));
                };
                raw::push_bytes(state, &data[pos..pos + len]);
                size = len + 1;
                n += 1;
            }
            _ => fmt.control(opt, &mut h)?,
        }
        pos += size;
    }
    ffi::lua_pushnumber(state, (pos as u64).wrapping_add(1) as i64 as f64);
    Ok(n + 1)
}

unsafe fn size(state: State, _: &mut (), _: Upvalue) -> Outcome {
    let mut fmt = Format::new(raw::check_lstring(state, 1)?);
    let mut h = Header::default();
    let mut pos: usize = 0;
    while let Some(opt) = fmt.next_opt() {
        let size = fmt.size_of(opt)?;
        pos = pos.wrapping_add(to_align(pos, &h, opt, size));
        if opt == b's' {
            return Err(Raise::arg(1, "option 's' has no fixed size"));
        } else if opt == b'c' && size == 0 {
            return Err(Raise::arg(1, "option 'c0' has no fixed size"));
        }
        if !opt.is_ascii_alphanumeric() {
            fmt.control(opt, &mut h)?;
        }
        pos = pos.wrapping_add(size);
    }
    ffi::lua_pushnumber(state, pos as i64 as f64);
    Ok(1)
}

mod tramp {
    use std::ffi::c_int;

    use mlua::ffi::lua_State;

    pub(super) unsafe extern "C-unwind" fn pack(state: *mut lua_State) -> c_int {
        crate::raw::run::<Vec<u8>>(state, super::pack)
    }
    pub(super) unsafe extern "C-unwind" fn unpack(state: *mut lua_State) -> c_int {
        crate::raw::run::<()>(state, super::unpack)
    }
    pub(super) unsafe extern "C-unwind" fn size(state: *mut lua_State) -> c_int {
        crate::raw::run::<()>(state, super::size)
    }
}

/// Pushes a new `struct` table (functions in Redis's registration order).
///
/// # Safety
/// Needs a few free stack slots; may raise a memory error (run it protected).
pub(crate) unsafe fn push_module(state: State) {
    ffi::lua_createtable(state, 0, 3);
    for (name, f) in [
        ("pack", tramp::pack as ffi::lua_CFunction),
        ("unpack", tramp::unpack),
        ("size", tramp::size),
    ] {
        raw::push_closure(state, f, None);
        raw::set_field(state, -2, name);
    }
}

#[cfg(test)]
mod tests {
    use crate::testutil::run;

    #[test]
    fn packs_and_unpacks() {
        assert_eq!(run("return struct.pack('<i>h', 1, 2)"), "x:010000000002");
        assert_eq!(
            run("return struct.unpack('<i>h', struct.pack('<i>h', -1, 2))"),
            "n:-1 n:2 n:7"
        );
        assert_eq!(
            run("return struct.pack('!4bi', 1, 2), struct.size('!4bi')"),
            "x:0100000002000000 n:8"
        );
        assert_eq!(
            run("return struct.pack('sc0c2', 'ab', 'cd', 'efg')"),
            "x:61620063646566"
        );
        assert_eq!(run("return struct.unpack('bc0', '\\3abcd')"), "s:abc n:5");
        assert_eq!(
            run("return struct.pack('>d', -0.0), struct.pack('<i16', -1)"),
            "x:8000000000000000 x:ffffffffffffffff0000000000000000"
        );
    }

    #[test]
    fn integer_casts_follow_x86() {
        assert_eq!(
            run("return struct.pack('>L', 0/0), struct.pack('>L', 2^64), struct.pack('>l', -1/0)"),
            "x:8000000000000000 x:0000000000000000 x:8000000000000000"
        );
        assert_eq!(
            run("return struct.unpack('>i12', '\\0\\0\\0\\0\\128\\0\\0\\0\\0\\0\\0\\1')"),
            "n:-2147483647 n:13"
        );
    }

    #[test]
    fn errors_match_redis() {
        assert_eq!(
            run("return struct.pack('i')"),
            "error: user_script:1: bad argument #2 to 'pack' (number expected, got nil)"
        );
        assert_eq!(
            run("return struct.pack('c5', 'ab')"),
            "error: user_script:1: bad argument #3 to 'pack' (string too short)"
        );
        assert_eq!(
            run("return struct.pack('z')"),
            "error: user_script:1: bad argument #1 to 'pack' (invalid format option 'z')"
        );
        assert_eq!(
            run("return struct.pack('i33', 1)"),
            "error: user_script:1: integral size 33 is larger than limit of 32"
        );
        assert_eq!(
            run("return struct.pack('i99999999999', 1)"),
            "error: user_script:1: integral size overflow"
        );
        assert_eq!(
            run("return struct.pack('!3i', 1)"),
            "error: user_script:1: alignment 3 is not a power of 2"
        );
        assert_eq!(
            run("return struct.unpack('!4bi', '\\1')"),
            "error: user_script:1: bad argument #2 to 'unpack' (data string too short)"
        );
        assert_eq!(
            run("return struct.unpack('b', '\\1', 0)"),
            "error: user_script:1: bad argument #3 to 'unpack' (offset must be 1 or greater)"
        );
        assert_eq!(
            run("return struct.unpack('c0', 'abc')"),
            "error: user_script:1: format 'c0' needs a previous size"
        );
        assert_eq!(
            run("return struct.unpack('s', 'abc')"),
            "error: user_script:1: unfinished string in data"
        );
        assert_eq!(
            run("return struct.size('s')"),
            "error: user_script:1: bad argument #1 to 'size' (option 's' has no fixed size)"
        );
        assert_eq!(run("return struct.size('z')"), "n:0");
    }

    #[test]
    fn hostile_sizes_are_bounded() {
        assert_eq!(
            run("return struct.pack('c2147483647', 'x')"),
            "error: user_script:1: bad argument #3 to 'pack' (string too short)"
        );
        assert_eq!(
            run("return struct.unpack('c2147483647', 'x')"),
            "error: user_script:1: bad argument #2 to 'unpack' (data string too short)"
        );
        assert_eq!(
            run("return struct.unpack(string.rep('b', 9000), string.rep('\\0', 9000))"),
            "error: user_script:1: stack overflow (too many results)"
        );
        assert_eq!(
            run("return #struct.pack(string.rep('x', 100000) .. 'c0', string.rep('y', 100000))"),
            "n:200000"
        );
    }
}
