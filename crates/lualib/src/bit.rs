//! `bit`: Redis 7.0's bundled LuaBitOp 1.0 (`bit.band`, `bit.tohex`, ...), operating on 32-bit
//! integers.
//!
//! Kept identical to Redis:
//! - Number → int32 conversion: the argument's `lua_tonumber` value plus 2^52 + 2^51, low 32 bits
//!   of the resulting double. This rounds to nearest-even modulo 2^32 for ordinary numbers and gives
//!   the same (odd but deterministic) bits for huge numbers, NaN and infinities. Numeric strings are
//!   accepted; any other argument whose converted bits are 0 is refused with
//!   `bad argument #N to 'f' (number expected, got T)` — so a non-numeric argument is only caught
//!   when its bits are 0, exactly as in Redis.
//! - Results are signed 32-bit values returned as Lua numbers.
//! - `band`/`bor`/`bxor` check argument 1 first, then the others from the last one down.
//! - Shift and rotate counts are masked to 5 bits; `arshift` is arithmetic.
//! - `tohex(x [, n])`: `n` digits (default 8, at most 8), uppercase when `n` is negative, `-2^31`
//!   treated as `-(2^31 - 1)`; an explicit nil `n` is an argument error (only an absent one defaults).
//!
//! Differences: none known.

use std::ffi::c_int;

use mlua::ffi;

use crate::raw::{self, Outcome, Raise, State, Upvalue};

/// LuaBitOp's conversion of argument `idx` to 32 bits (see the module doc).
unsafe fn barg(state: State, idx: c_int) -> Result<u32, Raise> {
    let n = ffi::lua_tonumber(state, idx);
    let b = (n + 6_755_399_441_055_744.0).to_bits() as u32;
    if b == 0 && ffi::lua_isnumber(state, idx) == 0 {
        return Err(raw::type_error(state, idx, "number"));
    }
    Ok(b)
}

unsafe fn ret(state: State, b: u32) -> Outcome {
    ffi::lua_pushnumber(state, f64::from(b as i32));
    Ok(1)
}

unsafe fn unary(state: State, f: fn(u32) -> u32) -> Outcome {
    let b = barg(state, 1)?;
    ret(state, f(b))
}

unsafe fn fold(state: State, f: fn(u32, u32) -> u32) -> Outcome {
    let mut b = barg(state, 1)?;
    let mut i = ffi::lua_gettop(state);
    while i > 1 {
        b = f(b, barg(state, i)?);
        i -= 1;
    }
    ret(state, b)
}

unsafe fn shift(state: State, f: fn(u32, u32) -> u32) -> Outcome {
    let b = barg(state, 1)?;
    let n = barg(state, 2)? & 31;
    ret(state, f(b, n))
}

unsafe fn tobit(state: State, _: &mut (), _: Upvalue) -> Outcome {
    unary(state, |b| b)
}
unsafe fn bnot(state: State, _: &mut (), _: Upvalue) -> Outcome {
    unary(state, |b| !b)
}
unsafe fn bswap(state: State, _: &mut (), _: Upvalue) -> Outcome {
    unary(state, u32::swap_bytes)
}
unsafe fn band(state: State, _: &mut (), _: Upvalue) -> Outcome {
    fold(state, |a, b| a & b)
}
unsafe fn bor(state: State, _: &mut (), _: Upvalue) -> Outcome {
    fold(state, |a, b| a | b)
}
unsafe fn bxor(state: State, _: &mut (), _: Upvalue) -> Outcome {
    fold(state, |a, b| a ^ b)
}
unsafe fn lshift(state: State, _: &mut (), _: Upvalue) -> Outcome {
    shift(state, |b, n| b << n)
}
unsafe fn rshift(state: State, _: &mut (), _: Upvalue) -> Outcome {
    shift(state, |b, n| b >> n)
}
unsafe fn arshift(state: State, _: &mut (), _: Upvalue) -> Outcome {
    shift(state, |b, n| ((b as i32) >> n) as u32)
}
unsafe fn rol(state: State, _: &mut (), _: Upvalue) -> Outcome {
    shift(state, u32::rotate_left)
}
unsafe fn ror(state: State, _: &mut (), _: Upvalue) -> Outcome {
    shift(state, u32::rotate_right)
}

unsafe fn tohex(state: State, _: &mut (), _: Upvalue) -> Outcome {
    let mut b = barg(state, 1)?;
    let mut n = if ffi::lua_type(state, 2) == ffi::LUA_TNONE {
        8
    } else {
        barg(state, 2)? as i32
    };
    let digits: &[u8; 16] = if n < 0 {
        // Redis's copy guards the negation of -2^31, which would overflow.
        n = n.checked_neg().unwrap_or(i32::MAX);
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let n = n.min(8) as usize;
    let mut buf = [0u8; 8];
    for slot in buf[..n].iter_mut().rev() {
        *slot = digits[(b & 15) as usize];
        b >>= 4;
    }
    raw::push_bytes(state, &buf[..n]);
    Ok(1)
}

macro_rules! trampolines {
    ($($name:ident),* $(,)?) => {
        mod tramp {
            $(
                pub(super) unsafe extern "C-unwind" fn $name(state: *mut mlua::ffi::lua_State) -> std::ffi::c_int {
                    crate::raw::run::<()>(state, super::$name)
                }
            )*
        }
    };
}

trampolines!(tobit, bnot, band, bor, bxor, lshift, rshift, arshift, rol, ror, bswap, tohex);

/// Redis registers the functions in this order; it decides the order `pairs(bit)` visits them.
const FUNCS: [(&str, ffi::lua_CFunction); 12] = [
    ("tobit", tramp::tobit),
    ("bnot", tramp::bnot),
    ("band", tramp::band),
    ("bor", tramp::bor),
    ("bxor", tramp::bxor),
    ("lshift", tramp::lshift),
    ("rshift", tramp::rshift),
    ("arshift", tramp::arshift),
    ("rol", tramp::rol),
    ("ror", tramp::ror),
    ("bswap", tramp::bswap),
    ("tohex", tramp::tohex),
];

/// Pushes a new `bit` table.
///
/// # Safety
/// Needs a few free stack slots; may raise a memory error (run it protected).
pub(crate) unsafe fn push_module(state: State) {
    ffi::lua_createtable(state, 0, FUNCS.len() as c_int);
    for (name, f) in FUNCS {
        raw::push_closure(state, f, None);
        raw::set_field(state, -2, name);
    }
}

#[cfg(test)]
mod tests {
    use crate::testutil::run;

    #[test]
    fn converts_numbers_like_luabitop() {
        assert_eq!(
            run("return bit.tobit(2^32 + 5), bit.tobit(2^31), bit.tobit(-1)"),
            "n:5 n:-2147483648 n:-1"
        );
        // Rounds to nearest even, modulo 2^32.
        assert_eq!(
            run("return bit.tobit(1.5), bit.tobit(2.5), bit.tobit(-0.5)"),
            "n:2 n:2 n:0"
        );
        assert_eq!(
            run("return bit.tobit('12'), bit.tobit(0/0), bit.tobit(1/0)"),
            "n:12 n:0 n:0"
        );
    }

    #[test]
    fn operations() {
        assert_eq!(
            run("return bit.band(0xff, 0x0f), bit.bor(1, 2, 4), bit.bxor(5, 5), bit.bnot(0)"),
            "n:15 n:7 n:0 n:-1"
        );
        assert_eq!(
            run("return bit.lshift(1, 31), bit.lshift(1, 33), bit.rshift(-1, 28), bit.arshift(-256, 4)"),
            "n:-2147483648 n:2 n:15 n:-16"
        );
        assert_eq!(
            run("return bit.rol(0x12345678, 4), bit.ror(1, 1), bit.bswap(0x12345678)"),
            "n:591751041 n:-2147483648 n:2018915346"
        );
    }

    #[test]
    fn tohex_widths() {
        assert_eq!(
            run("return bit.tohex(0xabc), bit.tohex(0xabc, 3), bit.tohex(0xabc, -3), bit.tohex(1, 0)"),
            "s:00000abc s:abc s:ABC s:"
        );
        assert_eq!(
            run("return bit.tohex(0xabc, 100), bit.tohex(0xabc, -2^31)"),
            "s:00000abc s:00000ABC"
        );
        assert_eq!(
            run("return bit.tohex(1, nil)"),
            "error: user_script:1: bad argument #2 to 'tohex' (number expected, got nil)"
        );
    }

    #[test]
    fn argument_errors_name_the_function_as_called() {
        assert_eq!(
            run("return bit.band(1, 'x')"),
            "error: user_script:1: bad argument #2 to 'band' (number expected, got string)"
        );
        // Under pcall there is no caller line and no name; as a method call, `self` is reported.
        assert_eq!(
            run("return select(2, pcall(bit.band, {}))"),
            "s:bad argument #1 to '?' (number expected, got table)"
        );
        assert_eq!(
            run("return bit:band(1)"),
            "error: user_script:1: calling 'band' on bad self (number expected, got table)"
        );
        // The error is a plain string, as from Redis's C code.
        assert_eq!(run("return type(select(2, pcall(bit.bnot)))"), "s:string");
    }
}
