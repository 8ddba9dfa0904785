//! Software versions for provenance: node, npm, express, python, django,
//! gunicorn, uvicorn, psycopg, postgresql, as found on this machine and in
//! the targets' installed dependencies. Best effort: whatever cannot be
//! found is simply absent; nothing here fails.

use std::collections::BTreeMap;
use std::path::Path;

fn command_version(program: &Path, arg: &str) -> Option<String> {
    let out = std::process::Command::new(program).arg(arg).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = format!(
        "{} {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // "v20.11.1", "Python 3.11.9", "postgres (PostgreSQL) 15.6": first
    // token that starts with a digit (after an optional 'v').
    text.split_whitespace()
        .map(|t| t.trim_start_matches('v'))
        .find(|t| t.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .map(str::to_string)
}

/// `"version"` of an npm package installed under `dir/node_modules`.
fn npm_package_version(dir: &Path, package: &str) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("node_modules").join(package).join("package.json"))
        .ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v.get("version")?.as_str().map(str::to_string)
}

/// Versions of Python distributions installed in `dir/.venv`, from their
/// `<name>-<version>.dist-info` directories; keys are lower-case names.
fn venv_versions(dir: &Path, wanted: &[&str]) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    let Ok(libs) = std::fs::read_dir(dir.join(".venv/lib")) else {
        return found;
    };
    for lib in libs.flatten() {
        let Ok(entries) = std::fs::read_dir(lib.path().join("site-packages")) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(stem) = name.strip_suffix(".dist-info") else {
                continue;
            };
            let Some((dist, version)) = stem.rsplit_once('-') else {
                continue;
            };
            let dist = dist.to_ascii_lowercase().replace('_', "-");
            if wanted.contains(&dist.as_str()) {
                found.insert(dist, version.to_string());
            }
        }
    }
    found
}

/// Collects what it can. `dirs` are the targets' working directories;
/// `pg_bindir` the PostgreSQL binaries, if known.
pub fn collect<'a>(
    dirs: impl IntoIterator<Item = &'a Path>,
    pg_bindir: Option<&Path>,
) -> BTreeMap<String, String> {
    let mut v = BTreeMap::new();
    let mut put = |k: &str, val: Option<String>| {
        if let Some(val) = val {
            v.entry(k.to_string()).or_insert(val);
        }
    };
    put("node", command_version(Path::new("node"), "--version"));
    put("npm", command_version(Path::new("npm"), "--version"));
    let mut dirs: Vec<&Path> = dirs.into_iter().collect();
    dirs.sort();
    dirs.dedup();
    for dir in &dirs {
        put("express", npm_package_version(dir, "express"));
        put("pg", npm_package_version(dir, "pg"));
        let py = dir.join(".venv/bin/python");
        if py.is_file() {
            put("python", command_version(&py, "--version"));
        }
        for (k, val) in venv_versions(
            dir,
            &[
                "django",
                "gunicorn",
                "uvicorn",
                "uvicorn-worker",
                "psycopg",
                "psycopg-pool",
            ],
        ) {
            put(&k, Some(val));
        }
    }
    put("python", command_version(Path::new("python3"), "--version"));
    if let Some(bindir) = pg_bindir {
        put(
            "postgresql",
            command_version(&bindir.join("postgres"), "--version"),
        );
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_installed_packages() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("node_modules/express")).unwrap();
        std::fs::write(
            d.join("node_modules/express/package.json"),
            r#"{"name":"express","version":"5.1.0"}"#,
        )
        .unwrap();
        std::fs::create_dir_all(
            d.join(".venv/lib/python3.11/site-packages/Django-5.2.3.dist-info"),
        )
        .unwrap();
        std::fs::create_dir_all(
            d.join(".venv/lib/python3.11/site-packages/psycopg_pool-3.2.6.dist-info"),
        )
        .unwrap();
        let v = collect([d], None);
        assert_eq!(v.get("express").map(String::as_str), Some("5.1.0"));
        assert_eq!(v.get("django").map(String::as_str), Some("5.2.3"));
        assert_eq!(v.get("psycopg-pool").map(String::as_str), Some("3.2.6"));
        // python3 exists on every machine this runs on (the tests need it).
        assert!(v.get("python").is_some_and(|p| p.starts_with('3')), "{v:?}");
    }
}
