//! Redis 7.0's Lua libraries — `cjson`, `cmsgpack`, `bit` and `struct` — written in Rust for
//! Ferrite's script VM (mlua over plain Lua 5.1.5, as Redis embeds).
//!
//! Everything a script can observe is meant to match redis-server 7.0.15: returned values and their
//! Lua types, number text, byte layouts, table layouts (so `pairs` order and `#` agree), error
//! texts with their `user_script:N:` prefixes and argument numbers, and the points where deep
//! nesting or too many results run out of Lua stack. Each module's doc lists what it keeps and any
//! known difference (the only one: `cjson.encode` and `cmsgpack.pack` stop at 512 MiB of output,
//! where Redis would grow until memory runs out). `tests/vs_redis.rs` checks hundreds of written
//! snippets and thousands of seeded random ones against a live `redis-server`.
//!
//! How the functions are built (see [`raw`]): each is a Lua C function whose Rust body runs under
//! `lua_pcall`, owns nothing across calls that can raise, and reports errors that the C function
//! then raises as plain Lua strings, exactly as `luaL_error`/`luaL_argerror` would from Redis's C
//! code. Bodies never recurse on input-controlled depth; every loop is bounded by the input or by
//! the Lua stack limit.
//!
//! The tables are installed as plain globals; making them read-only (as Redis 7.0 does for its
//! globals and library tables) is the embedding's job.

// A body's error is an inline, fixed-size message (see `raw::Msg`) so that nothing on the heap is
// live when Lua raises; it is returned by value on the cold path only.
#![allow(clippy::result_large_err)]

use mlua::{Lua, Table};

mod bit;
mod cjson;
mod cmsgpack;
mod numfmt;
mod raw;
mod structlib;
#[cfg(test)]
mod testutil;

/// Install the global tables `cjson`, `cmsgpack`, `bit` and `struct` into `lua`, as Redis 7.0 does.
pub fn open_all(lua: &Lua) -> mlua::Result<()> {
    open_cjson(lua)?;
    open_struct(lua)?;
    open_cmsgpack(lua)?;
    open_bit(lua)
}

/// Install the global `cjson` table (lua-cjson 2.1.0 as bundled with Redis).
pub fn open_cjson(lua: &Lua) -> mlua::Result<()> {
    install(lua, "cjson", cjson::push_module)
}

/// Install the global `cmsgpack` table (lua-cmsgpack 0.4.0 as bundled with Redis).
pub fn open_cmsgpack(lua: &Lua) -> mlua::Result<()> {
    install(lua, "cmsgpack", cmsgpack::push_module)
}

/// Install the global `bit` table (LuaBitOp as bundled with Redis).
pub fn open_bit(lua: &Lua) -> mlua::Result<()> {
    install(lua, "bit", bit::push_module)
}

/// Install the global `struct` table (the struct library as bundled with Redis).
pub fn open_struct(lua: &Lua) -> mlua::Result<()> {
    install(lua, "struct", structlib::push_module)
}

fn install(lua: &Lua, name: &str, push: unsafe fn(raw::State)) -> mlua::Result<()> {
    // SAFETY: `exec_raw` runs the closure in protected mode with room on the stack; `push` leaves
    // exactly one table on top, which becomes the result.
    let table: Table = unsafe {
        lua.exec_raw((), |state| {
            push(state);
        })?
    };
    lua.globals().raw_set(name, table)
}
