//! idem's promise to programs that do not run tokio: nothing in the normal dependency graph of
//! idem-core, idem-runtime, idem-std or idem-smol (for any target) is tokio. And the runtimes
//! are siblings over idem-runtime: idem-smol's graph holds neither the blocking runtime
//! (idem-std) nor the threads-based cluster server (idem-mock), and idem-runtime's holds no
//! runtime at all.
#![allow(clippy::unwrap_used)]

use std::process::Command;

/// The crates (names only) of `krate`'s normal dependency graph, for any target, itself first.
fn normal_graph(krate: &str) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let out = Command::new(&cargo)
        .args(["tree", "--locked", "-e", "normal", "--target", "all", "--prefix", "none", "-p", krate])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "cargo tree -p {krate} failed: {}", String::from_utf8_lossy(&out.stderr));
    stdout.lines().filter_map(|l| l.split_whitespace().next()).map(str::to_string).collect()
}

#[test]
fn no_tokio_in_the_runtime_crates_dependency_graph() {
    for krate in ["idem-core", "idem-runtime", "idem-std", "idem-smol"] {
        let graph = normal_graph(krate);
        // The tree really was printed: the crate itself is its first line.
        assert_eq!(graph.first().map(String::as_str), Some(krate), "{graph:?}");
        let tokio: Vec<&String> = graph.iter().filter(|c| c.contains("tokio")).collect();
        assert!(tokio.is_empty(), "{krate} depends on tokio: {tokio:?}");
        if krate == "idem-smol" {
            assert!(graph.iter().any(|c| c == "async-io"), "the tree lists dependencies: {graph:?}");
        }
    }
}

#[test]
fn the_async_runtime_does_not_pull_in_the_blocking_one_or_the_cluster_server() {
    let smol = normal_graph("idem-smol");
    assert!(smol.iter().any(|c| c == "idem-runtime"), "{smol:?}");
    for absent in ["idem-std", "idem-mock"] {
        assert!(!smol.iter().any(|c| c == absent), "idem-smol depends on {absent}: {smol:?}");
    }
    let std = normal_graph("idem-std");
    assert!(std.iter().any(|c| c == "idem-runtime"), "{std:?}");
    assert!(!std.iter().any(|c| c == "idem-mock" || c == "idem-smol"), "{std:?}");
    let shared = normal_graph("idem-runtime");
    for absent in ["idem-std", "idem-smol", "idem-mock", "smol", "async-io"] {
        assert!(!shared.iter().any(|c| c == absent), "idem-runtime depends on {absent}: {shared:?}");
    }
}
