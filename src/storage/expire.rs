//! INTERIM active expiry (see the module docs of `storage`).

use super::{Db, OwnedValue};

#[derive(Debug, Clone, Copy)]
pub struct ExpireParams {
    pub effort: u32,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct CycleStats {
    pub sampled: u64,
    pub expired: u64,
    pub timed_out: bool,
    pub avg_ttl_ms: i64,
}

pub fn expire_cycle(
    db: &mut Db,
    now_ms: i64,
    _params: &ExpireParams,
    _deadline: impl Fn() -> bool,
    mut on_expired: impl FnMut(&[u8], OwnedValue),
) -> CycleStats {
    let mut dead = vec![];
    db.for_each(|e| {
        if e.expire_at().is_some_and(|t| t <= now_ms) {
            dead.push(e.key().to_vec());
        }
    });
    let mut st = CycleStats {
        sampled: dead.len() as u64,
        expired: dead.len() as u64,
        ..Default::default()
    };
    for k in dead {
        if let Some((v, _)) = db.remove(&k) {
            on_expired(&k, v);
        }
    }
    st.timed_out = false;
    st
}
