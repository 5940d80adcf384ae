//! A hash: a listpack of field/value pairs while small, a hash table past `hash-max-listpack-entries`/`-value`.
//!
//! SCAFFOLD: the type's representation is being written by the collections milestone; this shell only
//! gives the generic layer its shape. No command can create this type yet.

/// See the module docs.
#[derive(Debug, Clone, Default)]
pub struct Hash {
    len: usize,
}

impl Hash {
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
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        std::iter::empty()
    }

    pub fn mem_usage(&self) -> usize {
        std::mem::size_of::<Self>()
    }
}
