//! `cfg(every_operation)` when every operation group is built (Cargo.toml's
//! features, one per Spin component): the full build, which matches every command
//! by name and keeps every lint, as against a component's, which leaves some out.

const GROUPS: [&str; 7] = [
    "ASSESS",
    "DEVICES",
    "ENROLL",
    "CHALLENGE",
    "VERIFY",
    "BACKUP_CODES",
    "ADMIN",
];

fn main() {
    println!("cargo::rustc-check-cfg=cfg(every_operation)");
    let built = |group: &str| std::env::var_os(format!("CARGO_FEATURE_{group}")).is_some();
    if GROUPS.iter().all(|g| built(g)) {
        println!("cargo::rustc-cfg=every_operation");
    }
}
