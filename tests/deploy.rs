//! The deployment files, checked statically: every manifest under
//! deploy/k8s/ validates against the Kubernetes version stated below with
//! PyPI's `kubernetes-validate` (strict: unknown fields refused), and
//! docker-compose.yml (its generator profile included) still parses. A
//! missing tool is a failure, not a skip: CI installs both (.ci/run).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The Kubernetes version the manifests are written for (Indexed Jobs are
/// GA since 1.24).
const KUBERNETES_VERSION: &str = "1.31.0";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn manifests() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("deploy/k8s"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    files
}

#[test]
fn kubernetes_manifests_validate() {
    let files = manifests();
    assert!(files.len() >= 4, "deploy/k8s/ has {files:?}");
    let out = Command::new("kubernetes-validate")
        .args(["--strict", "--kubernetes-version", KUBERNETES_VERSION])
        .args(&files)
        .output()
        .unwrap_or_else(|e| {
            panic!("kubernetes-validate not runnable ({e}): pip install kubernetes-validate (.ci/run does)")
        });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    // Every document was checked, and the generator is an Indexed Job.
    for kind in [
        "statefulset/postgres",
        "job/bakeoff-generator",
        "job/bakeoff-merge",
        "deployment/node",
    ] {
        assert!(
            text.contains(&format!("passed for resource {kind}")),
            "{kind}: {text}"
        );
    }
    let generator = std::fs::read_to_string(root().join("deploy/k8s/30-generator.yaml")).unwrap();
    assert!(generator.contains("completionMode: Indexed"));
    assert!(generator.contains("--shard \"$JOB_COMPLETION_INDEX/$SHARDS\""));
}

#[test]
fn compose_file_with_its_generator_profile_parses() {
    for profile in [&[][..], &["--profile", "generator"][..]] {
        let out = Command::new("docker-compose")
            .current_dir(root())
            .args(["-f", "docker-compose.yml"])
            .args(profile)
            .args(["config", "-q"])
            .output()
            .unwrap_or_else(|e| panic!("docker-compose not runnable ({e}); .ci/run installs it"));
        assert!(
            out.status.success(),
            "{profile:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
