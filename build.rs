//! Builds the small C shim for `long double` arithmetic (`csrc/ldouble.c`, see `src/util/ldouble.rs`).

fn main() {
    println!("cargo:rerun-if-changed=csrc/ldouble.c");
    cc::Build::new()
        .file("csrc/ldouble.c")
        .warnings(true)
        .extra_warnings(true)
        .compile("ferrite_ldouble");
}
