//! Small helpers shared by several layers.

pub mod glob;
pub mod int_text;
pub mod ldouble;
