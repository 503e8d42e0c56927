//! Empty on purpose: Cargo counts `[build-dependencies]` only for a package with a build script,
//! and those entries exist to unify host-crate features with the `wgpu` build (see Cargo.toml).
fn main() {
    println!("cargo::rerun-if-changed=build.rs");
}
