//! Criterion, natively: `cargo bench -p edge-mfa-bench`. The same workloads run as
//! wasm with `scripts/bench` (docs/PERFORMANCE.md).

use criterion::{Criterion, criterion_group, criterion_main};
use edge_mfa_bench::{NAMES, Workloads};

fn operations(c: &mut Criterion) {
    let w = Workloads::new();
    for name in NAMES {
        assert!(w.run(name), "{name} must succeed before it is measured");
        c.bench_function(name, |b| {
            b.iter(|| std::hint::black_box(w.run(std::hint::black_box(name))))
        });
    }
}

criterion_group!(benches, operations);
criterion_main!(benches);
