//! Atomic save and load of results files: write a temporary sibling,
//! sync, rename over the target, so a reader (or a crash) never sees a
//! half-written file; loading checks the schema version first. Reports and
//! charts write their files through [`write_atomic`] too.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{RESULTS_FILE, ResultsError, RunResults, SCHEMA_VERSION};

impl RunResults {
    /// Reads a results file, or `results.json` inside a run directory.
    pub fn load(path: &Path) -> Result<Self, ResultsError> {
        let file = resolve(path);
        let text = std::fs::read_to_string(&file).map_err(|source| ResultsError::Read {
            path: file.clone(),
            source,
        })?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|source| ResultsError::Parse {
                path: file.clone(),
                source,
            })?;
        let found = value
            .get("schema_version")
            .and_then(|v| v.as_u64())
            .unwrap_or(0) as u32;
        if found != SCHEMA_VERSION {
            return Err(ResultsError::Version { path: file, found });
        }
        serde_json::from_value(value).map_err(|source| ResultsError::Parse { path: file, source })
    }

    /// Writes to a temporary file beside `path` and renames it over `path`,
    /// so a reader (or a crash) never sees a half-written file.
    pub fn save_atomic(&self, path: &Path) -> Result<(), ResultsError> {
        let json = serde_json::to_vec_pretty(self).map_err(|e| ResultsError::Write {
            path: path.to_path_buf(),
            source: std::io::Error::other(e),
        })?;
        write_atomic(path, &json)
    }
}

/// `results.json` inside a directory, or the path itself.
pub fn resolve(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join(RESULTS_FILE)
    } else {
        path.to_path_buf()
    }
}

/// Writes bytes to `path` via a temporary sibling and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ResultsError> {
    let err = |source| ResultsError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(err)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let mut f = std::fs::File::create(&tmp).map_err(err)?;
    f.write_all(bytes).map_err(err)?;
    f.sync_all().map_err(err)?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::local_provenance;

    #[test]
    fn atomic_save_and_version_check() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("results.json");
        let run = RunResults::new(local_provenance("t", "adhoc"));
        run.save_atomic(&path).unwrap();
        assert_eq!(RunResults::load(dir.path()).unwrap(), run);
        std::fs::write(&path, r#"{"schema_version": 99}"#).unwrap();
        assert!(matches!(
            RunResults::load(&path),
            Err(ResultsError::Version { found: 99, .. })
        ));
    }
}
