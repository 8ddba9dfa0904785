//! Dependency bootstrap of the targets (`npm ci`, a Python venv): runs a
//! bootstrap's commands in its directory unless its stamp file already holds
//! the SHA-256 of its lock file, then writes the stamp. A file lock
//! (flock) serialises concurrent bakeoff processes, so parallel tests do not
//! install into the same directory at once. Also checks that the tools a
//! bootstrap requires are on PATH, with a message naming what to install.

use std::fs::OpenOptions;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::process::{self, SpawnSpec};
use super::spec::{BootstrapSpec, resolve_program};
use super::{TargetError, log_tail};

/// What to install when a tool is missing.
pub fn install_hint(tool: &str) -> String {
    match tool {
        "node" => "install Node.js 20 (apt install nodejs npm)".into(),
        "npm" => "install npm, which comes with Node.js 20 (apt install nodejs npm)".into(),
        "python3" | "python" => {
            "install Python 3.11 with venv support (apt install python3 python3-venv)".into()
        }
        "psql" | "postgres" | "initdb" | "pg_config" => {
            "install PostgreSQL 15 (apt install postgresql)".into()
        }
        "docker" => {
            "install Docker (https://docs.docker.com/engine/install/) or use --targets local".into()
        }
        other => format!("install {other}"),
    }
}

/// Fails with [`TargetError::ToolMissing`] for the first tool not on PATH.
pub fn require_tools<'a>(tools: impl IntoIterator<Item = &'a str>) -> Result<(), TargetError> {
    for tool in tools {
        if process::which(tool).is_none() {
            return Err(TargetError::ToolMissing {
                tool: tool.to_string(),
                hint: install_hint(tool),
            });
        }
    }
    Ok(())
}

/// Hex SHA-256 of a file.
pub fn file_sha256(path: &Path) -> Result<String, TargetError> {
    let bytes = std::fs::read(path)
        .map_err(|e| TargetError::io(format!("cannot read lock file {}", path.display()), e))?;
    Ok(Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// True when the stamp holds exactly the lock file's hash.
pub fn is_up_to_date(b: &BootstrapSpec) -> Result<bool, TargetError> {
    let want = file_sha256(&b.dir.join(&b.lock))?;
    Ok(std::fs::read_to_string(b.dir.join(&b.stamp)).is_ok_and(|s| s.trim() == want))
}

/// Held while bootstrapping one directory; released on drop (closing the fd).
struct DirLock {
    _file: std::fs::File,
}

/// The lock file lives in the system temp dir (not in the working tree),
/// named after the directory it guards.
fn lock_dir(dir: &Path) -> Result<DirLock, TargetError> {
    let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let hash: String = Sha256::digest(canonical.to_string_lossy().as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    let path = std::env::temp_dir().join(format!("bakeoff-bootstrap-{hash}.lock"));
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| TargetError::io(format!("cannot open lock file {}", path.display()), e))?;
    // SAFETY: plain syscall on an fd we own; blocks until the other holder
    // (another bakeoff) finishes its bootstrap.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return Err(TargetError::io(
            format!("cannot lock {}", path.display()),
            std::io::Error::last_os_error(),
        ));
    }
    Ok(DirLock { _file: file })
}

/// Runs the bootstrap `name` if its stamp is stale; its output goes to
/// `log`. Returns whether anything ran.
pub async fn ensure(name: &str, b: &BootstrapSpec, log: &Path) -> Result<bool, TargetError> {
    require_tools(b.requires.iter().map(String::as_str))?;
    if is_up_to_date(b)? {
        return Ok(false);
    }
    let dir = b.dir.clone();
    let _lock = tokio::task::spawn_blocking(move || lock_dir(&dir))
        .await
        .map_err(|e| TargetError::io("bootstrap lock", std::io::Error::other(e)))??;
    // Someone else may have finished while we waited for the lock.
    if is_up_to_date(b)? {
        return Ok(false);
    }
    let want = file_sha256(&b.dir.join(&b.lock))?;
    eprintln!(
        "bakeoff: installing dependencies of {name} in {} (log: {})",
        b.dir.display(),
        log.display()
    );
    for command in &b.commands {
        let line = command.join(" ");
        let mut spec = SpawnSpec::new(
            &format!("bootstrap {name}"),
            resolve_program(&b.dir, &command[0]),
            log,
        );
        spec.args = command[1..].to_vec();
        spec.cwd = Some(b.dir.clone());
        append_line(log, &format!("$ {line}"));
        let mut group = process::spawn(&spec)?;
        let status = loop {
            if let Some(s) = group.try_status() {
                break s;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        };
        // Reaps stray members (none expected) and unregisters the group.
        group.stop(process::GRACE).await;
        if !status.success() {
            return Err(TargetError::Bootstrap {
                name: name.to_string(),
                command: line,
                status: process::describe(status),
                log: log.to_path_buf(),
                tail: log_tail(log, 20),
            });
        }
    }
    let stamp = b.dir.join(&b.stamp);
    write_stamp(&stamp, &want)?;
    Ok(true)
}

fn write_stamp(stamp: &Path, hash: &str) -> Result<(), TargetError> {
    if let Some(parent) = stamp.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| TargetError::io(format!("cannot create {}", parent.display()), e))?;
    }
    std::fs::write(stamp, format!("{hash}\n"))
        .map_err(|e| TargetError::io(format!("cannot write {}", stamp.display()), e))
}

fn append_line(log: &Path, line: &str) {
    use std::io::Write;
    if let Some(parent) = log.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    if let Ok(mut f) = OpenOptions::new().create(true).append(true).open(log) {
        let _ = writeln!(f, "{line}");
    }
}

/// Log file of a bootstrap inside the log dir.
pub fn log_path(log_dir: &Path, name: &str) -> PathBuf {
    log_dir.join(format!("bootstrap-{name}.log"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(dir: &Path, commands: Vec<Vec<String>>) -> BootstrapSpec {
        BootstrapSpec {
            dir: dir.to_path_buf(),
            lock: "deps.lock".into(),
            stamp: "out/.stamp".into(),
            commands,
            requires: vec!["sh".into()],
        }
    }

    fn sh(script: &str) -> Vec<String> {
        vec!["sh".into(), "-c".into(), script.into()]
    }

    #[test]
    fn sha256_is_hex_of_contents() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("x");
        std::fs::write(&f, "abc").unwrap();
        assert_eq!(
            file_sha256(&f).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[tokio::test]
    async fn runs_once_per_lock_hash() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("logs/b.log");
        std::fs::write(dir.path().join("deps.lock"), "v1").unwrap();
        let b = spec(dir.path(), vec![sh("echo ran >> count")]);
        assert!(!is_up_to_date(&b).unwrap());
        assert!(ensure("t", &b, &log).await.unwrap());
        assert!(is_up_to_date(&b).unwrap());
        assert!(!ensure("t", &b, &log).await.unwrap());
        let count = || std::fs::read_to_string(dir.path().join("count")).unwrap();
        assert_eq!(count().lines().count(), 1);
        std::fs::write(dir.path().join("deps.lock"), "v2").unwrap();
        assert!(ensure("t", &b, &log).await.unwrap());
        assert_eq!(count().lines().count(), 2);
        let stamp = std::fs::read_to_string(dir.path().join("out/.stamp")).unwrap();
        assert_eq!(
            stamp.trim(),
            file_sha256(&dir.path().join("deps.lock")).unwrap()
        );
    }

    #[tokio::test]
    async fn failure_names_command_and_shows_log() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("b.log");
        std::fs::write(dir.path().join("deps.lock"), "v1").unwrap();
        let b = spec(dir.path(), vec![sh("echo boom-marker; exit 3")]);
        let msg = ensure("t", &b, &log).await.unwrap_err().to_string();
        assert!(msg.contains("exit status 3"), "{msg}");
        assert!(msg.contains("boom-marker"), "{msg}");
        assert!(!is_up_to_date(&b).unwrap());
    }

    #[test]
    fn missing_tool_names_what_to_install() {
        let msg = require_tools(["sh", "surely-missing-tool"])
            .unwrap_err()
            .to_string();
        assert_eq!(
            msg,
            "surely-missing-tool not found on PATH: install surely-missing-tool"
        );
        assert!(install_hint("node").contains("Node.js 20"));
    }
}
