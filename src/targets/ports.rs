//! Loopback ports of local mode: free ports picked by the kernel, fixed
//! ports asked for through `BAKEOFF_PORTS`, the check that a fixed port is
//! free before anything is spawned on it, and who holds a taken port (read
//! from /proc, best effort) so the message can name the culprit.
//!
//! `BAKEOFF_PORTS` is a comma-separated list of `NAME=PORT`, where NAME is a
//! variant of targets.toml or `postgres` for the private PostgreSQL, e.g.
//! `BAKEOFF_PORTS=node=3001,postgres=55432`. Unlisted ones get a free port.
//! It exists for users who want stable URLs from `bakeoff up` and for tests
//! that need to know the port in advance to take it.

use std::collections::BTreeMap;

use super::TargetError;

/// The environment variable holding fixed ports.
pub const PORTS_VAR: &str = crate::env::PORTS;

/// Name under which PostgreSQL's port is given in `BAKEOFF_PORTS`.
pub const POSTGRES: &str = "postgres";

/// Parses a `BAKEOFF_PORTS` value.
pub fn parse(value: &str) -> Result<BTreeMap<String, u16>, TargetError> {
    let bad = |reason: String| TargetError::BadEnv {
        var: PORTS_VAR.into(),
        value: value.into(),
        reason,
    };
    let mut ports = BTreeMap::new();
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (name, port) = item
            .split_once('=')
            .ok_or_else(|| bad(format!("{item:?} is not NAME=PORT")))?;
        let port: u16 = port
            .trim()
            .parse()
            .ok()
            .filter(|&p| p > 0)
            .ok_or_else(|| bad(format!("{port:?} is not a port number (1..65535)")))?;
        if ports.insert(name.trim().to_string(), port).is_some() {
            return Err(bad(format!("{name} is given twice")));
        }
    }
    Ok(ports)
}

/// The fixed ports of this process's environment (empty when unset).
pub fn from_env() -> Result<BTreeMap<String, u16>, TargetError> {
    match crate::env::ports() {
        Ok(Some(v)) => parse(&v),
        Ok(None) => Ok(BTreeMap::new()),
        Err(e) => Err(TargetError::BadEnv {
            var: PORTS_VAR.into(),
            value: e.lossy,
            reason: "not UTF-8".into(),
        }),
    }
}

/// `name=port,...`: a parsed `BAKEOFF_PORTS` written back, for messages.
pub fn describe(ports: &BTreeMap<String, u16>) -> String {
    let items: Vec<String> = ports.iter().map(|(n, p)| format!("{n}={p}")).collect();
    items.join(",")
}

/// Binds 127.0.0.1:0 and returns the port the kernel picked. The socket is
/// closed before the target binds the port, so another process could take
/// it in between; that rare race ends in an early exit whose message names
/// the port (see `local`).
pub fn free_port() -> Result<u16, TargetError> {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| TargetError::io("cannot pick a free port on 127.0.0.1", e))
}

/// Fails with [`TargetError::PortInUse`] when 127.0.0.1:`port` cannot be
/// bound (a listener on 0.0.0.0 or 127.0.0.1 holds it). `who` is what
/// wanted the port ("target node", "PostgreSQL").
pub fn ensure_free(port: u16, who: &str) -> Result<(), TargetError> {
    match std::net::TcpListener::bind(("127.0.0.1", port)) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Err(TargetError::PortInUse {
            who: who.to_string(),
            port,
            holder: describe_holder(port),
        }),
        Err(e) => Err(TargetError::io(
            format!("{who}: cannot bind 127.0.0.1:{port}"),
            e,
        )),
    }
}

/// " (held by pid 1234, python3)" or "" when /proc does not tell.
pub fn describe_holder(port: u16) -> String {
    match holder(port) {
        Some((pid, comm)) => format!(" (held by pid {pid}, {comm})"),
        None => String::new(),
    }
}

/// The first process with a listening TCP socket on `port`: the socket's
/// inode from /proc/net/tcp{,6}, then the process whose fd links to it.
/// None when not found or not visible to us.
pub fn holder(port: u16) -> Option<(i32, String)> {
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        if let Ok(text) = std::fs::read_to_string(table) {
            inodes.extend(listening_inodes(&text, port));
        }
    }
    if inodes.is_empty() {
        return None;
    }
    let targets: Vec<String> = inodes.iter().map(|i| format!("socket:[{i}]")).collect();
    let mut pids = super::process::pids();
    pids.sort();
    pids.into_iter().find_map(|pid| {
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
        let holds = fds.flatten().any(|fd| {
            std::fs::read_link(fd.path())
                .is_ok_and(|l| targets.iter().any(|t| l.as_os_str() == t.as_str()))
        });
        holds.then(|| {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .map(|c| c.trim().to_string())
                .unwrap_or_else(|_| "?".into());
            (pid, comm)
        })
    })
}

/// Inodes of the LISTEN sockets on `port` in a /proc/net/tcp table.
fn listening_inodes(table: &str, port: u16) -> Vec<u64> {
    const LISTEN: &str = "0A";
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let local_port = f.get(1)?.rsplit_once(':')?.1;
            let p = u16::from_str_radix(local_port, 16).ok()?;
            (p == port && *f.get(3)? == LISTEN).then(|| f.get(9)?.parse().ok())?
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_name_port_lists() {
        let p = parse("node=3001, postgres=55432,").unwrap();
        assert_eq!(p["node"], 3001);
        assert_eq!(p["postgres"], 55432);
        assert!(parse("").unwrap().is_empty());
        for bad in ["node", "node=x", "node=0", "node=70000", "a=1,a=2"] {
            let msg = parse(bad).unwrap_err().to_string();
            assert!(msg.contains("BAKEOFF_PORTS"), "{bad}: {msg}");
        }
    }

    #[test]
    fn a_taken_port_names_its_holder() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let msg = ensure_free(port, "target web").unwrap_err().to_string();
        let me = std::process::id();
        assert!(msg.contains(&format!("port {port} on 127.0.0.1")), "{msg}");
        assert!(msg.contains("target web"), "{msg}");
        assert!(msg.contains(&format!("held by pid {me}")), "{msg}");
        drop(l);
        // Freed, the port binds again. Other tests of this binary run in
        // parallel and may use the ephemeral port for a moment in between
        // (a client connection's source port), so give it a second.
        let mut last = ensure_free(port, "target web");
        for _ in 0..20 {
            if last.is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
            last = ensure_free(port, "target web");
        }
        last.unwrap();
    }

    #[test]
    fn reads_listen_entries_only() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
   0: 0100007F:0BB9 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1\n\
   1: 0100007F:0BB9 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 222 1\n\
   2: 0100007F:0BBA 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 333 1\n";
        assert_eq!(listening_inodes(table, 3001), [111]);
        assert!(listening_inodes(table, 3003).is_empty());
    }
}
