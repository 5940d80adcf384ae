//! The bridge between Lua's C calling convention and the libraries' Rust bodies.
//!
//! Every library function is a raw Lua C function (a *trampoline*) so that a script observes exactly
//! what it observes with Redis's C libraries: errors are plain Lua strings (mlua would raise a
//! userdata), argument errors name the function the way `luaL_argerror` does from the call site
//! (`bad argument #1 to 'band'`, or `'?'` under `pcall(bit.band, ...)`), and runtime errors carry the
//! caller's position (`user_script:3: `) exactly as `luaL_error` adds it.
//!
//! Invariants this module keeps:
//!
//! - **No `longjmp` over a frame that owns something.** Lua 5.1 raises errors with `longjmp`, which
//!   skips Rust destructors. A trampoline calls its body through `lua_pcall` (via [`worker`]), and
//!   everything the body owns (buffers, work stacks) lives in a scratch value owned by the trampoline,
//!   outside the protected call. Bodies hold no value with drop glue across a call into Lua that may
//!   raise (allocation: pushing strings, creating or growing tables, growing the stack), so a memory
//!   error only ever unwinds plain frames and is re-raised by the trampoline after its scratch is
//!   dropped.
//! - **Errors are raised only by the trampoline**, after the scratch is dropped, from the frame Lua
//!   sees as the called function. A body reports a [`Raise`]; its message is a fixed-size [`Msg`],
//!   which has no drop glue.
//! - **Numbers are read and written as raw `lua_Number`s.** mlua's `Value` conversion turns `-0` and
//!   any number within `f64::EPSILON` of an integer into an integer, which would change what
//!   `cjson.encode` or `struct.pack` produce; the bodies use the C API directly.
//! - **Stack discipline matches Redis's C code.** The body sees exactly the arguments the C function
//!   would see (the worker removes its own control pointer), so `lua_checkstack` succeeds and fails
//!   at the same nesting depths and result counts as in Redis.

use std::cell::Cell;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};

use mlua::ffi;

pub(crate) type State = *mut ffi::lua_State;

/// The most bytes `cjson.encode` or `cmsgpack.pack` will produce (512 MiB, Redis's default
/// `proto-max-bulk-len`). A table that refers to the same subtable many times encodes to output
/// exponential in its size; Redis would grow its buffer until the process runs out of memory, these
/// functions stop with an error instead. This is the one deliberate difference from Redis.
pub(crate) const MAX_OUTPUT: usize = 512 << 20;

/// Longest error message a body can report; Redis's are well under 200 bytes.
const MSG_CAP: usize = 256;

/// An error message held inline, so that it can be alive while Lua raises.
#[derive(Clone, Copy)]
pub(crate) struct Msg {
    buf: [u8; MSG_CAP],
    len: usize,
}

impl Msg {
    pub(crate) fn new() -> Msg {
        Msg {
            buf: [0; MSG_CAP],
            len: 0,
        }
    }

    pub(crate) fn from_str(s: &str) -> Msg {
        let mut m = Msg::new();
        m.push_bytes(s.as_bytes());
        m
    }

    /// Appends raw bytes (messages may quote a format byte that is not UTF-8); silently truncates.
    pub(crate) fn push_bytes(&mut self, bytes: &[u8]) {
        let room = MSG_CAP - 1 - self.len; // keep a NUL for the C calls
        let n = bytes.len().min(room);
        self.buf[self.len..self.len + n].copy_from_slice(&bytes[..n]);
        self.len += n;
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The message as a C string: the part before any NUL byte, as `lua_pushfstring("%s")` would.
    fn as_cstr(&mut self) -> &CStr {
        self.buf[self.len] = 0;
        CStr::from_bytes_until_nul(&self.buf[..=self.len]).unwrap_or(c"")
    }
}

impl fmt::Write for Msg {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push_bytes(s.as_bytes());
        Ok(())
    }
}

/// `format!` into a [`Msg`].
macro_rules! msg {
    ($($arg:tt)*) => {{
        let mut m = $crate::raw::Msg::new();
        let _ = ::std::fmt::Write::write_fmt(&mut m, format_args!($($arg)*));
        m
    }};
}
pub(crate) use msg;

/// How a body asks its trampoline to fail.
#[derive(Clone, Copy)]
pub(crate) enum Raise {
    /// `luaL_error`: the caller's position (`user_script:3: `) and then the message.
    Error(Msg),
    /// An error the VM itself raises from inside a C function (`table index is nil`): no position.
    Plain(Msg),
    /// `luaL_argerror(narg, msg)`.
    Arg(c_int, Msg),
}

impl Raise {
    pub(crate) fn error(s: &str) -> Raise {
        Raise::Error(Msg::from_str(s))
    }

    pub(crate) fn arg(narg: c_int, s: &str) -> Raise {
        Raise::Arg(narg, Msg::from_str(s))
    }
}

pub(crate) type Outcome = Result<c_int, Raise>;

/// A library function's body: runs inside `lua_pcall` with the call's arguments at 1..=n, returns
/// how many values it left on top of the stack. `up` is the trampoline's second upvalue (cjson's
/// configuration).
pub(crate) type Body<S> = unsafe fn(state: State, scratch: &mut S, up: Upvalue) -> Outcome;

/// The block of a full userdata held as a trampoline's second upvalue, if it has one.
#[derive(Clone, Copy)]
pub(crate) struct Upvalue {
    ptr: *mut c_void,
    len: usize,
}

impl Upvalue {
    /// The block as a `T`, when it is exactly that big. Lua aligns userdata blocks for any C type.
    pub(crate) fn block<T>(self) -> Option<*mut T> {
        (!self.ptr.is_null() && self.len == std::mem::size_of::<T>()).then_some(self.ptr.cast())
    }
}

struct Control<'a> {
    job: &'a mut dyn FnMut(State) -> Outcome,
    outcome: Option<Outcome>,
}

thread_local! {
    /// The control block of the call in progress on this thread, which the worker checks its
    /// pointer argument against. Only a script with the debug library could reach the worker (an
    /// upvalue) and call it itself; it then finds no call in progress, or a pointer that does not
    /// match, and does nothing.
    static ACTIVE: Cell<*mut c_void> = const { Cell::new(std::ptr::null_mut()) };
}

/// Runs `body` for the C function being called on `state`; see the module doc. Every trampoline is
/// a closure whose first upvalue is [`worker`].
///
/// # Safety
/// `state` is the state of a C function call made by Lua, to a closure built by [`push_closure`].
pub(crate) unsafe fn run<S: Default>(state: State, body: Body<S>) -> c_int {
    let up = match ffi::lua_type(state, ffi::lua_upvalueindex(2)) {
        ffi::LUA_TUSERDATA => Upvalue {
            ptr: ffi::lua_touserdata(state, ffi::lua_upvalueindex(2)),
            len: ffi::lua_objlen(state, ffi::lua_upvalueindex(2)),
        },
        _ => Upvalue {
            ptr: std::ptr::null_mut(),
            len: 0,
        },
    };
    let nargs = ffi::lua_gettop(state);
    // Lua guarantees LUA_MINSTACK free slots to a C function; these two pushes need no check.
    ffi::lua_pushvalue(state, ffi::lua_upvalueindex(1));
    ffi::lua_insert(state, 1);
    let failure: Option<Raise> = {
        let mut scratch = S::default();
        let mut job = |st: State| body(st, &mut scratch, up);
        let mut ctl = Control {
            job: &mut job,
            outcome: None,
        };
        let ptr: *mut c_void = (&mut ctl as *mut Control).cast();
        ffi::lua_pushlightuserdata(state, ptr);
        let previous = ACTIVE.replace(ptr);
        let status = ffi::lua_pcall(state, nargs + 1, ffi::LUA_MULTRET, 0);
        ACTIVE.set(previous);
        if status != 0 {
            // A Lua error (out of memory) escaped the body: the error value is on top.
            None
        } else {
            match ctl.outcome {
                Some(Err(r)) => Some(r),
                _ => return ffi::lua_gettop(state),
            }
        }
        // scratch and ctl are dropped here, before anything is raised.
    };
    match failure {
        None => ffi::lua_error(state),
        Some(raise) => raise_now(state, raise),
    }
}

unsafe fn raise_now(state: State, raise: Raise) -> ! {
    match raise {
        Raise::Error(m) => {
            ffi::luaL_where(state, 1);
            push_bytes(state, m.as_bytes());
            ffi::lua_concat(state, 2);
            ffi::lua_error(state)
        }
        Raise::Plain(m) => {
            push_bytes(state, m.as_bytes());
            ffi::lua_error(state)
        }
        Raise::Arg(narg, mut m) => {
            ffi::luaL_argerror(state, narg, m.as_cstr().as_ptr());
            unreachable_after_raise(state)
        }
    }
}

/// `luaL_argerror` never returns; its C signature says `int`.
unsafe fn unreachable_after_raise(state: State) -> ! {
    ffi::lua_error(state)
}

/// The protected half of every call: takes the control pointer the trampoline pushed last, then
/// runs the body with the original arguments at 1..=n.
unsafe extern "C-unwind" fn worker(state: State) -> c_int {
    let top = ffi::lua_gettop(state);
    if top == 0 || ffi::lua_type(state, top) != ffi::LUA_TLIGHTUSERDATA {
        return 0;
    }
    let ptr = ffi::lua_touserdata(state, top);
    if ptr.is_null() || ptr != ACTIVE.get() {
        return 0;
    }
    ACTIVE.set(std::ptr::null_mut()); // one body per call
    ffi::lua_settop(state, top - 1);
    // SAFETY: the pointer is the one the trampoline in progress on this thread pushed; its Control
    // lives until that trampoline's lua_pcall returns.
    let ctl = &mut *(ptr as *mut Control);
    let job = &mut *ctl.job;
    // A panic must not unwind into Lua's C frames; a body has no panicking paths on purpose, this is
    // a backstop.
    let outcome = match catch_unwind(AssertUnwindSafe(|| job(state))) {
        Ok(o) => o,
        Err(_) => Err(Raise::error("internal error in library function")),
    };
    let nret = *outcome.as_ref().unwrap_or(&0);
    ctl.outcome = Some(outcome);
    nret
}

/// Pushes a trampoline closure: upvalue 1 is the worker, upvalue 2 (when `up` is given) a copy of
/// the value at stack index `up`.
///
/// # Safety
/// Call with room for two pushes; may raise a memory error.
pub(crate) unsafe fn push_closure(state: State, func: ffi::lua_CFunction, up: Option<c_int>) {
    let up = up.map(|i| abs_index(state, i));
    ffi::lua_pushcfunction(state, worker);
    match up {
        Some(i) => {
            ffi::lua_pushvalue(state, i);
            ffi::lua_pushcclosure(state, func, 2);
        }
        None => ffi::lua_pushcclosure(state, func, 1),
    }
}

fn abs_index(state: State, i: c_int) -> c_int {
    if i > 0 || i <= ffi::LUA_REGISTRYINDEX {
        i
    } else {
        // SAFETY: reading the top of a valid state.
        unsafe { ffi::lua_gettop(state) + i + 1 }
    }
}

/// Sets `t[name] = <value on top>` (popping it) without metamethods.
///
/// # Safety
/// `t` is a table; may raise a memory error.
pub(crate) unsafe fn set_field(state: State, t: c_int, name: &str) {
    let t = abs_index(state, t);
    push_bytes(state, name.as_bytes());
    ffi::lua_insert(state, -2);
    ffi::lua_rawset(state, t);
}

/// Pushes a Lua string with these bytes. May raise a memory error.
pub(crate) unsafe fn push_bytes(state: State, bytes: &[u8]) {
    ffi::lua_pushlstring_(state, bytes.as_ptr().cast::<c_char>(), bytes.len());
}

/// The bytes of the string at `idx`, which must be a string (not a number: `lua_tolstring` would
/// convert it in place, which allocates). Valid while the string stays on the stack.
pub(crate) unsafe fn str_bytes<'a>(state: State, idx: c_int) -> &'a [u8] {
    let mut len = 0usize;
    let p = ffi::lua_tolstring(state, idx, &mut len);
    if p.is_null() {
        &[]
    } else {
        std::slice::from_raw_parts(p.cast::<u8>(), len)
    }
}

/// `luaL_typerror`: `bad argument #N to 'f' (<tname> expected, got <type of argument N>)`. The
/// type is read here, in the body, where the arguments (and, for `struct.pack`, its buffer) are
/// still on the stack; the trampoline no longer has them.
pub(crate) unsafe fn type_error(state: State, narg: c_int, tname: &str) -> Raise {
    let got = match ffi::lua_type(state, narg) {
        ffi::LUA_TNONE => "no value",
        ffi::LUA_TNIL => "nil",
        ffi::LUA_TBOOLEAN => "boolean",
        ffi::LUA_TLIGHTUSERDATA | ffi::LUA_TUSERDATA => "userdata",
        ffi::LUA_TNUMBER => "number",
        ffi::LUA_TSTRING => "string",
        ffi::LUA_TTABLE => "table",
        ffi::LUA_TFUNCTION => "function",
        ffi::LUA_TTHREAD => "thread",
        _ => "?",
    };
    Raise::Arg(narg, msg!("{tname} expected, got {got}"))
}

/// `luaL_checklstring`: a string, or a number converted in place to its `%.14g` text.
pub(crate) unsafe fn check_lstring<'a>(state: State, narg: c_int) -> Result<&'a [u8], Raise> {
    match ffi::lua_type(state, narg) {
        ffi::LUA_TSTRING | ffi::LUA_TNUMBER => Ok(str_bytes(state, narg)),
        _ => Err(type_error(state, narg, "string")),
    }
}

/// `luaL_checknumber`: a number or a string Lua converts to one.
pub(crate) unsafe fn check_number(state: State, narg: c_int) -> Result<f64, Raise> {
    let n = ffi::lua_tonumber(state, narg);
    if n == 0.0 && ffi::lua_isnumber(state, narg) == 0 {
        return Err(type_error(state, narg, "number"));
    }
    Ok(n)
}

/// `luaL_checkinteger`: the number truncated as Lua 5.1 on x86-64 does (see [`f64_to_i64`]).
pub(crate) unsafe fn check_integer(state: State, narg: c_int) -> Result<i64, Raise> {
    check_number(state, narg).map(f64_to_i64)
}

/// `luaL_optinteger`: `def` when the argument is absent or nil.
pub(crate) unsafe fn opt_integer(state: State, narg: c_int, def: i64) -> Result<i64, Raise> {
    if ffi::lua_type(state, narg) <= ffi::LUA_TNIL {
        Ok(def)
    } else {
        check_integer(state, narg)
    }
}

/// `lua_checkstack`: false when `n` more slots would pass `LUAI_MAXCSTACK`. May raise a memory error
/// while growing the stack.
pub(crate) unsafe fn check_stack(state: State, n: c_int) -> bool {
    ffi::lua_checkstack(state, n) != 0
}

/// `luaL_checkstack`: `stack overflow (<what>)`, raised with the caller's position.
pub(crate) unsafe fn check_stack_or(state: State, n: c_int, what: &str) -> Result<(), Raise> {
    if check_stack(state, n) {
        Ok(())
    } else {
        Err(Raise::Error(msg!("stack overflow ({what})")))
    }
}

/// 2^63, exactly.
const TWO63: f64 = 9_223_372_036_854_775_808.0;

/// A C cast `(int64_t)d` as x86-64 executes it (`cvttsd2si`): truncation toward zero, and
/// `i64::MIN` for NaN and anything out of range. Rust's `as` saturates instead.
pub(crate) fn f64_to_i64(d: f64) -> i64 {
    if (-TWO63..TWO63).contains(&d) {
        d as i64
    } else {
        i64::MIN
    }
}

/// A C cast `(int32_t)d` as x86-64 executes it: `i32::MIN` for NaN and out of range.
pub(crate) fn f64_to_i32(d: f64) -> i32 {
    if d > -2_147_483_649.0 && d < 2_147_483_648.0 {
        d as i32
    } else {
        i32::MIN
    }
}

/// A C cast `(uint64_t)d` as GCC compiles it for x86-64: values below 2^63 (and NaN) go through the
/// signed conversion, the rest have 2^63 subtracted first and the top bit flipped back, so 2^64 and
/// above (and +Inf) become 0.
pub(crate) fn f64_to_u64(d: f64) -> u64 {
    if d >= TWO63 {
        (f64_to_i64(d - TWO63) as u64) ^ (1 << 63)
    } else {
        f64_to_i64(d) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_casts_behave_like_x86() {
        assert_eq!(f64_to_i64(f64::NAN), i64::MIN);
        assert_eq!(f64_to_i64(1e300), i64::MIN);
        assert_eq!(f64_to_i64(-2.9), -2);
        assert_eq!(f64_to_i32(2_147_483_648.0), i32::MIN);
        assert_eq!(f64_to_i32(-2_147_483_648.9), i32::MIN);
        assert_eq!(f64_to_u64(TWO63), 1 << 63);
        assert_eq!(f64_to_u64(18_446_744_073_709_551_616.0), 0);
        assert_eq!(f64_to_u64(-1.0), u64::MAX);
    }

    #[test]
    fn messages_truncate_instead_of_growing() {
        let m = msg!("{}", "y".repeat(1000));
        assert_eq!(m.as_bytes().len(), MSG_CAP - 1);
    }

    #[test]
    fn the_internals_are_out_of_scripts_reach() {
        // Lua 5.1's debug library does not touch a C function's upvalues.
        // SAFETY (of unsafe_new): the test wants the debug library, which Lua::new leaves out.
        let lua = unsafe { mlua::Lua::unsafe_new() };
        let got = crate::testutil::run_in(lua, "return select('#', debug.getupvalue(cjson.encode, 1))");
        assert_eq!(got, "n:0");
        // And the worker, were it called directly, finds no call in progress and does nothing.
        let lua = mlua::Lua::new();
        // SAFETY: `worker` is a Lua C function.
        let w = unsafe { lua.create_c_function(worker) }.expect("function");
        let light = mlua::Value::LightUserData(mlua::LightUserData(std::ptr::dangling_mut()));
        assert_eq!(w.call::<mlua::MultiValue>((1, light)).expect("no error").len(), 0);
        assert_eq!(w.call::<mlua::MultiValue>(()).expect("no error").len(), 0);
    }

    #[test]
    fn memory_errors_propagate_and_leave_the_vm_usable() {
        let lua = mlua::Lua::new();
        crate::open_all(&lua).expect("open_all");
        let big: mlua::Table = lua
            .load("local t = {} for i = 1, 20000 do t[i] = string.rep('x', 50) end return t")
            .eval()
            .expect("table");
        lua.set_memory_limit(lua.used_memory() + 64 * 1024).expect("limit");
        let encode: mlua::Function = lua.load("return cjson.encode").eval().expect("fn");
        let err = encode.call::<mlua::String>(big).expect_err("over the limit");
        assert!(err.to_string().contains("not enough memory"), "{err}");
        lua.set_memory_limit(0).expect("unlimited");
        let ok: String = lua.load("return cjson.encode({1, 2})").eval().expect("still works");
        assert_eq!(ok, "[1,2]");
    }
}
