//! A sorted set: a listpack of member/score pairs while small, else a structure with O(log n) rank and range operations (`skiplist`).
//!
//! SCAFFOLD: the type's representation is being written by the collections milestone; this shell only
//! gives the generic layer its shape. No command can create this type yet.

/// See the module docs.
#[derive(Debug, Clone, Default)]
pub struct ZSet {
    len: usize,
}

impl ZSet {
    pub fn encoding(&self) -> &'static str {
        "hashtable"
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn free_effort(&self) -> usize {
        1
    }

    /// The elements, in the order DEBUG DIGEST reads them.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], f64)> + '_ {
        std::iter::empty()
    }

    pub fn mem_usage(&self) -> usize {
        std::mem::size_of::<Self>()
    }
}
