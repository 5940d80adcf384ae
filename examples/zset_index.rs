//! Compare the sorted set's two candidate ordered indexes (B+tree, skiplist): time per operation and
//! bytes per member, with the server's counting allocator. `cargo run --release --example zset_index [N]`.

#[global_allocator]
static ALLOC: ferrite::memory::CountingAllocator = ferrite::memory::CountingAllocator;

fn main() {
    let n = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    print!(
        "{}",
        ferrite::storage::object::zset::bench_support::compare_indexes(n, ferrite::memory::used_memory)
    );
}
