//! idem's promise to programs that do not run tokio: nothing in the normal dependency graph of
//! idem-core, idem-std or idem-smol (for any target) is tokio.
#![allow(clippy::unwrap_used)]

use std::process::Command;

#[test]
fn no_tokio_in_the_runtime_crates_dependency_graph() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    for krate in ["idem-core", "idem-std", "idem-smol"] {
        let out = Command::new(&cargo)
            .args(["tree", "--locked", "-e", "normal", "--target", "all", "--prefix", "none", "-p", krate])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "cargo tree -p {krate} failed: {}", String::from_utf8_lossy(&out.stderr));
        // The tree really was printed: the crate itself is its first line.
        assert!(stdout.lines().next().unwrap_or("").starts_with(krate), "{stdout}");
        let tokio: Vec<&str> = stdout.lines().filter(|l| l.contains("tokio")).collect();
        assert!(tokio.is_empty(), "{krate} depends on tokio: {tokio:?}");
        if krate == "idem-smol" {
            assert!(stdout.contains("async-io"), "the tree lists dependencies: {stdout}");
        }
    }
}
