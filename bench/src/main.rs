//! The workloads of the library, timed with the platform clock, for runtimes
//! without criterion: `wasm32-wasip1` under Node's WASI and under Wasmtime.
//! Prints one JSON line per workload: {"name", "iterations", "ns_per_op"}.

use std::time::Instant;

use edge_mfa_bench::{NAMES, Workloads};

fn main() {
    let w = Workloads::new();
    let budget_ns: u128 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000_000);
    for name in NAMES {
        if !w.run(name) {
            eprintln!("{name} failed before measuring");
            std::process::exit(1);
        }
        // Warm up, then double the batch until it fills the time budget.
        for _ in 0..20 {
            w.run(name);
        }
        let mut iterations: u64 = 16;
        loop {
            let start = Instant::now();
            for _ in 0..iterations {
                std::hint::black_box(w.run(std::hint::black_box(name)));
            }
            let elapsed = start.elapsed().as_nanos();
            if elapsed >= budget_ns / 4 || iterations >= 1 << 24 {
                println!(
                    r#"{{"name":"{name}","iterations":{iterations},"ns_per_op":{}}}"#,
                    elapsed / u128::from(iterations)
                );
                break;
            }
            iterations *= 2;
        }
    }
}
