//! `cfg(every_route)` when every route group is built, `cfg(every_user_route)` when
//! every end user's group is (Cargo.toml's features, one per Spin component): the
//! full build matches every resource by name and keeps every lint, as against a
//! component's, which leaves some out.

const USER_GROUPS: [&str; 6] = [
    "ASSESS",
    "DEVICES",
    "ENROLL",
    "CHALLENGE",
    "VERIFY",
    "BACKUP_CODES",
];
const OTHER_GROUPS: [&str; 2] = ["TENANTS", "ADMIN"];

fn main() {
    println!("cargo::rustc-check-cfg=cfg(every_route)");
    println!("cargo::rustc-check-cfg=cfg(every_user_route)");
    let built = |group: &&str| std::env::var_os(format!("CARGO_FEATURE_{group}")).is_some();
    if USER_GROUPS.iter().all(built) {
        println!("cargo::rustc-cfg=every_user_route");
        if OTHER_GROUPS.iter().all(built) {
            println!("cargo::rustc-cfg=every_route");
        }
    }
}
