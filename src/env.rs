//! The process environment: the ONE module that reads environment
//! variables, one typed accessor per variable, so the full list is here.
//! Commands read them while resolving their configuration; the library
//! below takes the values as parameters, except `PATH` (looked up where a
//! program is resolved).
//!
//! | variable | read by | meaning |
//! |---|---|---|
//! | `BAKEOFF_TARGETS` | commands (`targets::targets_root`) | the targets/ directory |
//! | `BAKEOFF_PORTS` | commands → `LabConfig::fixed_ports` | `name=port,...`: fixed loopback ports for variants and `postgres` |
//! | `BAKEOFF_READY_TIMEOUT` | commands → `LabConfig::ready_timeout` | how long a target (and PostgreSQL) gets to become ready ("2", "0.5s", "500ms", "3m") |
//! | `BAKEOFF_PG_BINDIR` | commands → `LabConfig::pg_bindir` | directory of `initdb`, `postgres`, `psql` |
//! | `PATH` | `targets::process::which` (the one lookup below the commands) | where node, npm and python3 are looked for |
//! | `POSTGRES_PASSWORD` | commands → `LabConfig::compose_db_password` | the compose database's password (default `bakeoff`, as in docker-compose.yml) |
//! | `BAKEOFF_DATABASE_URL` | `commands::check` | with `--url`, the database to verify `/updates` against and count queries in (as the targets' role, with `pg_stat_statements`) |
//! | `BAKEOFF_DEBUG_PANIC_AFTER_STEPS` | `runner` (test hook) | panic after the N-th saved step |
//! | `BAKEOFF_TARGET_FAULT` | never by bakeoff: the Node target reads it (inherited; test hook) | deliberate misbehaviour for `check`'s query counting tests (targets/API.md) |

use std::ffi::OsString;
use std::path::PathBuf;

/// The name of the readiness-timeout variable (for messages).
pub const READY_TIMEOUT: &str = "BAKEOFF_READY_TIMEOUT";
/// The name of the fixed-ports variable (for messages).
pub const PORTS: &str = "BAKEOFF_PORTS";
/// The name of the PostgreSQL bin directory variable (for messages).
pub const PG_BINDIR: &str = "BAKEOFF_PG_BINDIR";
/// The name of the targets directory variable.
pub const TARGETS: &str = "BAKEOFF_TARGETS";
/// The name of `check --url`'s database variable.
pub const DATABASE_URL: &str = "BAKEOFF_DATABASE_URL";
const DEBUG_PANIC_AFTER_STEPS: &str = "BAKEOFF_DEBUG_PANIC_AFTER_STEPS";

/// A set variable whose value is not UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotUnicode {
    pub var: &'static str,
    pub lossy: String,
}

fn text(var: &'static str) -> Result<Option<String>, NotUnicode> {
    match std::env::var(var) {
        Ok(v) => Ok(Some(v)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(v)) => Err(NotUnicode {
            var,
            lossy: v.to_string_lossy().into_owned(),
        }),
    }
}

/// `BAKEOFF_TARGETS`, if set.
pub fn targets_dir() -> Option<PathBuf> {
    std::env::var_os(TARGETS).map(PathBuf::from)
}

/// `BAKEOFF_PORTS`, unparsed, if set.
pub fn ports() -> Result<Option<String>, NotUnicode> {
    text(PORTS)
}

/// `BAKEOFF_READY_TIMEOUT`, unparsed, if set (a non-UTF-8 value is given
/// lossily, so it fails to parse with a message naming it).
pub fn ready_timeout() -> Option<String> {
    text(READY_TIMEOUT).unwrap_or_else(|e| Some(e.lossy))
}

/// `BAKEOFF_PG_BINDIR`, if set.
pub fn pg_bindir() -> Option<PathBuf> {
    std::env::var_os(PG_BINDIR).map(PathBuf::from)
}

/// `PATH`, if set.
pub fn path() -> Option<OsString> {
    std::env::var_os("PATH")
}

/// `POSTGRES_PASSWORD`, or docker-compose.yml's default `bakeoff`.
pub fn postgres_password() -> String {
    text("POSTGRES_PASSWORD")
        .ok()
        .flatten()
        .unwrap_or_else(|| "bakeoff".into())
}

/// `BAKEOFF_DATABASE_URL`, if set and UTF-8.
pub fn database_url() -> Option<String> {
    text(DATABASE_URL).ok().flatten()
}

/// `BAKEOFF_DEBUG_PANIC_AFTER_STEPS=N` as a number, if set and valid.
pub fn debug_panic_after_steps() -> Option<usize> {
    text(DEBUG_PANIC_AFTER_STEPS)
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse().ok())
}
