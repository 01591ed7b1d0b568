//! The component embeds public/sdk, which `scripts/build-sdk` writes (tsc); say so
//! rather than fail on a missing file.
fn main() {
    for module in ["index", "texts", "prompt"] {
        let path = format!("../../../public/sdk/{module}.js");
        println!("cargo::rerun-if-changed={path}");
        assert!(
            std::path::Path::new(&path).exists(),
            "public/sdk/{module}.js is missing: run scripts/build-sdk first (scripts/build-spin does)"
        );
    }
}
