//! `targets/targets.toml`: how to bootstrap, start and reach each reference
//! variant. Parsed strictly (unknown keys are errors naming the file and
//! key) and validated once; the rest of the lifecycle only sees
//! [`TargetsSpec`]. This module does not run anything.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::TargetError;

/// File name of the spec inside the targets root.
pub const SPEC_FILE: &str = "targets.toml";

/// The validated contents of targets.toml, with paths resolved against the
/// targets root.
#[derive(Debug, Clone)]
pub struct TargetsSpec {
    /// The targets/ directory.
    pub root: PathBuf,
    /// The spec file itself (for messages).
    pub file: PathBuf,
    /// The private PostgreSQL, if the targets need one.
    pub database: Option<DatabaseSpec>,
    pub bootstraps: BTreeMap<String, BootstrapSpec>,
    /// In file order.
    pub variants: Vec<VariantSpec>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSpec {
    /// SQL files, relative to the targets root (absolute after validation).
    pub schema: PathBuf,
    pub seed: PathBuf,
    pub name: String,
    pub user: String,
    /// Not accepted: local mode draws a random password per run. Parsed
    /// only to reject it with a message saying so.
    #[serde(default)]
    pub password: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BootstrapSpec {
    /// Working directory of the commands (absolute after validation).
    pub dir: PathBuf,
    /// Lock file whose SHA-256 decides whether the commands must run, relative to `dir`.
    pub lock: PathBuf,
    /// Stamp file holding the hash of the lock file after success, relative to `dir`.
    pub stamp: PathBuf,
    pub commands: Vec<Vec<String>>,
    /// Programs that must be on PATH.
    #[serde(default)]
    pub requires: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct VariantSpec {
    pub name: String,
    /// Name of a `[bootstrap.*]` table to run first.
    #[serde(default)]
    pub bootstrap: Option<String>,
    /// Working directory (absolute after validation).
    pub dir: PathBuf,
    /// Program and arguments; a program containing '/' resolves against `dir`.
    pub command: Vec<String>,
    /// Path that answers 200 once the target is ready, e.g. "/plaintext".
    pub readiness: String,
    /// Service name in docker-compose.yml (default: the variant name).
    #[serde(default)]
    pub compose_service: Option<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Chart colour, "#rrggbb" (read by `crate::variants`).
    #[serde(default)]
    pub color: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    #[serde(default)]
    database: Option<DatabaseSpec>,
    #[serde(default)]
    bootstrap: BTreeMap<String, BootstrapSpec>,
    #[serde(default)]
    variant: Vec<VariantSpec>,
}

impl VariantSpec {
    /// Service name in docker-compose.yml.
    pub fn service(&self) -> &str {
        self.compose_service.as_deref().unwrap_or(&self.name)
    }
}

impl TargetsSpec {
    /// Reads and validates `<root>/targets.toml`.
    pub fn load(root: &Path) -> Result<Self, TargetError> {
        let file = root.join(SPEC_FILE);
        let text = std::fs::read_to_string(&file)
            .map_err(|e| TargetError::io(format!("cannot read {}", file.display()), e))?;
        Self::parse(root, &file, &text)
    }

    /// Parses spec text; `file` is only used in messages.
    pub fn parse(root: &Path, file: &Path, text: &str) -> Result<Self, TargetError> {
        let err = |message: String| TargetError::Spec {
            path: file.to_path_buf(),
            message,
        };
        let raw: RawSpec = toml::from_str(text).map_err(|e| err(e.to_string().trim().into()))?;
        if raw.variant.is_empty() {
            return Err(err("no [[variant]] defined".into()));
        }
        let mut bootstraps = BTreeMap::new();
        for (name, mut b) in raw.bootstrap {
            if b.commands.is_empty() || b.commands.iter().any(|c| c.is_empty()) {
                return Err(err(format!(
                    "bootstrap.{name}.commands: every command needs at least a program"
                )));
            }
            b.dir = root.join(&b.dir);
            bootstraps.insert(name, b);
        }
        let mut seen = BTreeSet::new();
        let mut variants = Vec::new();
        for mut v in raw.variant {
            if v.name.is_empty() || !seen.insert(v.name.clone()) {
                return Err(err(format!(
                    "variant name {:?} is empty or defined twice",
                    v.name
                )));
            }
            if v.command.is_empty() {
                return Err(err(format!("variant {}: command is empty", v.name)));
            }
            if !v.readiness.starts_with('/') {
                return Err(err(format!(
                    "variant {}: readiness = {:?} must be a path starting with '/'",
                    v.name, v.readiness
                )));
            }
            if let Some(b) = &v.bootstrap {
                if !bootstraps.contains_key(b) {
                    return Err(err(format!(
                        "variant {}: bootstrap = {b:?} but there is no [bootstrap.{b}]",
                        v.name
                    )));
                }
            }
            for key in ["PORT", "HOST", "DATABASE_URL", "DB_POOL", "SECRET_KEY"] {
                if v.env.contains_key(key) {
                    return Err(err(format!(
                        "variant {}: env.{key} is set by bakeoff and cannot be overridden",
                        v.name
                    )));
                }
            }
            v.dir = root.join(&v.dir);
            variants.push(v);
        }
        let database = raw.database.map(|mut d| {
            d.schema = root.join(&d.schema);
            d.seed = root.join(&d.seed);
            d
        });
        if let Some(d) = &database {
            for (key, value) in [("name", &d.name), ("user", &d.user)] {
                if value.is_empty() || !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                {
                    return Err(err(format!(
                        "database.{key} = {value:?}: use letters, digits and '_' only"
                    )));
                }
            }
            if d.password.is_some() {
                return Err(err(
                    "database.password is not read: bakeoff gives the database a random password per run and passes it to the targets in DATABASE_URL; remove the key".into(),
                ));
            }
        }
        Ok(TargetsSpec {
            root: root.to_path_buf(),
            file: file.to_path_buf(),
            database,
            bootstraps,
            variants,
        })
    }

    pub fn variant(&self, name: &str) -> Result<&VariantSpec, TargetError> {
        self.variants
            .iter()
            .find(|v| v.name == name)
            .ok_or_else(|| TargetError::UnknownTarget {
                name: name.to_string(),
                spec: self.file.clone(),
                known: self.names().join(", "),
            })
    }

    /// Variant names in file order.
    pub fn names(&self) -> Vec<String> {
        self.variants.iter().map(|v| v.name.clone()).collect()
    }
}

/// A program as written in targets.toml: one containing '/' is relative to
/// `dir` (unless absolute); a bare name is looked up on PATH at spawn time.
pub fn resolve_program(dir: &Path, program: &str) -> PathBuf {
    if program.contains('/') {
        dir.join(program)
    } else {
        PathBuf::from(program)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
[database]
schema = "db/schema.sql"
seed = "db/seed.sql"
name = "bakeoff"
user = "bakeoff"

[bootstrap.node]
dir = "node"
lock = "package-lock.json"
stamp = "node_modules/.bakeoff-stamp"
commands = [["npm", "ci", "--no-audit", "--no-fund"]]
requires = ["node", "npm"]

[[variant]]
name = "node"
bootstrap = "node"
dir = "node"
command = ["node", "server.js"]
readiness = "/plaintext"
compose_service = "node"
[variant.env]
NODE_ENV = "production"

[[variant]]
name = "django-sync"
dir = "django"
command = [".venv/bin/gunicorn", "app.wsgi"]
readiness = "/plaintext"
"#;

    fn parse(text: &str) -> Result<TargetsSpec, TargetError> {
        TargetsSpec::parse(Path::new("/r"), Path::new("/r/targets.toml"), text)
    }

    #[test]
    fn parses_and_resolves_paths() {
        let spec = parse(SAMPLE).unwrap();
        assert_eq!(spec.names(), ["node", "django-sync"]);
        let db = spec.database.as_ref().unwrap();
        assert_eq!(db.schema, Path::new("/r/db/schema.sql"));
        let node = spec.variant("node").unwrap();
        assert_eq!(node.dir, Path::new("/r/node"));
        assert_eq!(node.env["NODE_ENV"], "production");
        assert_eq!(
            spec.variant("django-sync").unwrap().service(),
            "django-sync"
        );
        assert_eq!(spec.bootstraps["node"].dir, Path::new("/r/node"));
        assert_eq!(
            resolve_program(&node.dir, ".venv/bin/gunicorn"),
            Path::new("/r/node/.venv/bin/gunicorn")
        );
        assert_eq!(resolve_program(&node.dir, "node"), Path::new("node"));
    }

    #[test]
    fn unknown_key_names_file_and_key() {
        let text = SAMPLE.replace(
            "readiness = \"/plaintext\"\ncompose",
            "readyness = \"/x\"\ncompose",
        );
        let msg = parse(&text).unwrap_err().to_string();
        assert!(msg.contains("/r/targets.toml"), "{msg}");
        assert!(msg.contains("readyness"), "{msg}");
        let msg = parse(&format!("{SAMPLE}\n[extra]\nx = 1\n"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("extra"), "{msg}");
    }

    #[test]
    fn rejects_bad_references_and_reserved_env() {
        let msg = parse(&SAMPLE.replace("bootstrap = \"node\"", "bootstrap = \"nope\""))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("[bootstrap.nope]"), "{msg}");
        for reserved in ["PORT", "SECRET_KEY"] {
            let msg = parse(&SAMPLE.replace("NODE_ENV", reserved))
                .unwrap_err()
                .to_string();
            assert!(msg.contains(&format!("env.{reserved}")), "{msg}");
        }
        let msg =
            parse(&SAMPLE.replace("user = \"bakeoff\"", "user = \"bakeoff\"\npassword = \"x\""))
                .unwrap_err()
                .to_string();
        assert!(
            msg.contains("database.password") && msg.contains("random"),
            "{msg}"
        );
        let msg = parse(&SAMPLE.replace("\"/plaintext\"\ncompose", "\"plaintext\"\ncompose"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("readiness"), "{msg}");
        let unknown = parse(SAMPLE)
            .unwrap()
            .variant("deno")
            .unwrap_err()
            .to_string();
        assert!(
            unknown.contains("deno") && unknown.contains("node, django-sync"),
            "{unknown}"
        );
    }
}
