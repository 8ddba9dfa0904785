//! The one error type of the target lifecycle. Every message names the tool,
//! file, port, URL or target at fault and, where a process failed, the last
//! lines of its log, so a user can act without opening anything else.

use std::path::PathBuf;

/// Why the lifecycle could not prepare, start, stop or reach a target.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("{tool} not found on PATH: {hint}")]
    ToolMissing { tool: String, hint: String },

    /// Several [`TargetError::ToolMissing`] at once, one per line.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    ToolsMissing(Vec<TargetError>),

    #[error(
        "{who} cannot start: port {port} on 127.0.0.1 is already in use{holder}; stop that process or give another port in BAKEOFF_PORTS"
    )]
    PortInUse {
        /// "target node", "PostgreSQL".
        who: String,
        port: u16,
        /// " (held by pid 1234, python3)" or "".
        holder: String,
    },

    #[error("invalid {var}={value:?}: {reason}")]
    BadEnv {
        var: String,
        value: String,
        reason: String,
    },

    #[error(
        "PostgreSQL binaries not found (looked in {looked}): install PostgreSQL 15 (apt install postgresql)"
    )]
    PostgresMissing { looked: String },

    #[error("{}: {message}", path.display())]
    Spec { path: PathBuf, message: String },

    #[error(
        "no targets directory found: set BAKEOFF_TARGETS to the repository's targets/ directory, or run bakeoff from the repository root"
    )]
    NoTargetsRoot,

    #[error("unknown target {name:?}: {} defines {known}", spec.display())]
    UnknownTarget {
        name: String,
        spec: PathBuf,
        known: String,
    },

    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },

    #[error("bootstrap {name} failed: `{command}` {status}; last lines of {}:\n{tail}", log.display())]
    Bootstrap {
        name: String,
        command: String,
        status: String,
        log: PathBuf,
        tail: String,
    },

    #[error("PostgreSQL: {message}; last lines of {}:\n{tail}", log.display())]
    Postgres {
        message: String,
        log: PathBuf,
        tail: String,
    },

    #[error("reading the query counters (pg_stat_statements): {message}")]
    QueryStats { message: String },

    #[error("target {name} did not become ready within {} (GET {url} never answered 200; raise BAKEOFF_READY_TIMEOUT if it is just slow); last lines of {}:\n{tail}", seconds(*timeout), log.display())]
    NotReady {
        name: String,
        url: String,
        timeout: std::time::Duration,
        log: PathBuf,
        tail: String,
    },

    #[error("target {name} exited before becoming ready ({status}){}; last lines of {}:\n{tail}",
        if *port_in_use { format!(": port {port} on 127.0.0.1 was already in use{holder}") } else { String::new() },
        log.display())]
    Exited {
        name: String,
        status: String,
        port: u16,
        port_in_use: bool,
        /// " (held by pid 1234, python3)" or "".
        holder: String,
        log: PathBuf,
        tail: String,
    },

    #[error("invalid CPU list {cpus:?}: this process may run on CPUs {allowed}")]
    Cpus { cpus: Vec<usize>, allowed: String },

    #[error("docker compose: {0}")]
    Compose(String),

    #[error(
        "no URL for target {name}: pass --url {name}=http://127.0.0.1:PORT or list it in the suite's [urls]"
    )]
    MissingUrl { name: String },

    #[error("invalid URL for target {name}: {url:?} ({reason})")]
    BadUrl {
        name: String,
        url: String,
        reason: String,
    },

    #[error(
        "URL of target {name} ({url}) is not on loopback: pass --allow-remote to load a remote host"
    )]
    RemoteUrl { name: String, url: String },

    #[error("target {name} at {url} is not reachable: {reason}")]
    Unreachable {
        name: String,
        url: String,
        reason: String,
    },
}

impl TargetError {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        TargetError::Io {
            what: what.into(),
            source,
        }
    }
}

/// "2 s", "1.5 s", "0.25 s".
pub(crate) fn seconds(d: std::time::Duration) -> String {
    let text = format!("{:.3}", d.as_secs_f64());
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text} s")
}

/// The last `n` lines of a log file ("(log is empty)" or "(cannot read log)"
/// rather than an error: this only ever decorates another error).
pub(crate) fn log_tail(path: &std::path::Path, n: usize) -> String {
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let lines: Vec<&str> = text.lines().collect();
            if lines.is_empty() {
                return "(log is empty)".into();
            }
            let start = lines.len().saturating_sub(n);
            lines[start..]
                .iter()
                .map(|l| format!("  | {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        }
        Err(e) => format!("(cannot read log: {e})"),
    }
}
