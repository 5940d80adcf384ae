//! Helper for the unit tests: run a snippet in a fresh VM with the libraries and describe what it
//! returned, with types and exact values, or the error it raised.

use mlua::Lua;

/// Runs `code` (on line 1 of a chunk named `user_script`, as Redis names scripts) and returns its
/// results joined by spaces — `n:<%.17g>`, `s:<text>` or `x:<hex>` for other bytes, `true`, `nil`,
/// `null` for `cjson.null`, or the type name — or `error: <message>` when it raises.
pub(crate) fn run(code: &str) -> String {
    run_in(Lua::new(), code)
}

/// [`run`] in a given VM (one with the debug library, say).
pub(crate) fn run_in(lua: Lua, code: &str) -> String {
    crate::open_all(&lua).expect("open_all");
    // Values are described on the Lua side: mlua's conversion would turn -0 and tiny numbers into
    // integers.
    let chunk = format!(
        r##"local function pack(...) return {{n = select("#", ...), ...}} end local r = pack(pcall(function() {code}
           end))
           local function d(v)
             local t = type(v)
             if t == "number" then return "n:" .. string.format("%.17g", v)
             elseif t == "string" then
               if v:find("[^\32-\126]") then return "x:" .. (v:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end
               return "s:" .. v
             elseif t == "userdata" and v == cjson.null then return "null"
             elseif t == "boolean" or t == "nil" then return tostring(v)
             else return t end
           end
           if not r[1] then return "error: " .. tostring(r[2]) end
           local out = {{}}
           for i = 2, r.n do out[#out + 1] = d(r[i]) end
           return table.concat(out, " ")"##
    );
    lua.load(chunk)
        .set_name("@user_script")
        .eval::<String>()
        .expect("chunk runs")
}
