//! Value encodings. The compact ones keep Redis's byte formats exactly (listpack, intset), so RDB files
//! hold them as copies.

pub mod intset;
pub mod listpack;
