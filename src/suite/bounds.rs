//! The bounds every load is held to, whether it comes from a suite or from
//! the command line: the longest step, the highest rate, the connection
//! cap (`--max-connections`), and the open-file limit those connections
//! need (RLIMIT_NOFILE, raised when the hard limit allows). This module
//! decides what is too much; it does not parse files or flags.

use std::time::Duration;

/// The longest warm-up, duration, timeout or SLO one step may have: a
/// bound that keeps every load finite and catches a unit typo ("10h" for
/// "10s"), not a limit on real use.
pub const MAX_STEP_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

/// The highest offered rate (req/s) of an open-model step: beyond what one
/// generator can send, so larger values are typos.
pub const MAX_RATE: u32 = 10_000_000;

/// Default of `--max-connections`: the most connections one step may open.
/// Far above the shipped suites (256 at most) and what wrk/oha users
/// usually pass, low enough that an extra zero (`-c 10000` for `-c 1000`)
/// is caught before it exhausts the machine's sockets.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 4096;

/// The most subscribers of a fan-out step (a loopback client address has
/// about 28,000 ephemeral ports; the open-file limit is checked as well).
pub const MAX_SUBSCRIBERS: u32 = 25_000;

/// The most publishers of a fan-out step: each subscriber keeps one
/// sequence number per publisher.
pub const MAX_PUBLISHERS: u32 = crate::engine::fanout::MAX_PUBLISHERS;

/// File descriptors kept free beside the load connections: stdio, the
/// runtime's epoll/event fds, log files, pipes to child processes and the
/// control connections to targets and PostgreSQL.
pub const FD_HEADROOM: u64 = 256;

/// Why a load may not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BoundsError {
    /// More connections than `--max-connections` allows.
    #[error(
        "{what} opens {wanted} connections, above the connection cap of {cap} (--max-connections {cap}); pass a higher --max-connections if you mean it"
    )]
    ConnectionCap { what: String, wanted: u32, cap: u32 },
    /// The hard open-file limit cannot fit the connections.
    #[error(
        "{connections} connections need about {needed} open files, but this process may open at most {hard} (RLIMIT_NOFILE hard limit); use fewer connections or raise the limit (ulimit -Hn, or LimitNOFILE= for a service)"
    )]
    OpenFiles {
        connections: u32,
        needed: u64,
        hard: u64,
    },
    /// getrlimit/setrlimit failed.
    #[error(
        "cannot {action} the open-file limit (RLIMIT_NOFILE) for {connections} connections: {reason}"
    )]
    Rlimit {
        action: &'static str,
        connections: u32,
        reason: String,
    },
}

/// Refuses `wanted` connections above `cap`; `what` names where they come
/// from (`-c/--connections`, `scenario "json" at 512 connections`).
pub fn check_connection_cap(what: &str, wanted: u32, cap: u32) -> Result<(), BoundsError> {
    if wanted > cap {
        return Err(BoundsError::ConnectionCap {
            what: what.to_string(),
            wanted,
            cap,
        });
    }
    Ok(())
}

/// What to do with the open-file limit for a number of connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FdAction {
    /// The soft limit already fits.
    Keep,
    /// Raise the soft limit to this (the hard limit allows it).
    RaiseSoft(u64),
}

/// Decides, from the current soft and hard limits, whether `connections`
/// fit (`u64::MAX` stands for unlimited).
pub fn fd_action(connections: u32, soft: u64, hard: u64) -> Result<FdAction, BoundsError> {
    let needed = u64::from(connections) + FD_HEADROOM;
    if soft >= needed {
        Ok(FdAction::Keep)
    } else if hard >= needed {
        Ok(FdAction::RaiseSoft(needed))
    } else {
        Err(BoundsError::OpenFiles {
            connections,
            needed,
            hard,
        })
    }
}

/// Makes sure this process may open `connections` sockets plus headroom,
/// raising the soft RLIMIT_NOFILE when the hard limit allows, and failing
/// with the limit named when it does not. Call before any load is sent.
pub fn ensure_open_files(connections: u32) -> Result<(), BoundsError> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own and has no other
    // preconditions.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(BoundsError::Rlimit {
            action: "read",
            connections,
            reason: std::io::Error::last_os_error().to_string(),
        });
    }
    // rlim_t is u64 on Linux and RLIM_INFINITY is u64::MAX, which
    // `fd_action` reads as unlimited.
    match fd_action(connections, limit.rlim_cur, limit.rlim_max)? {
        FdAction::Keep => Ok(()),
        FdAction::RaiseSoft(soft) => {
            limit.rlim_cur = soft;
            // SAFETY: setrlimit reads the struct we own; raising the soft
            // limit up to the hard limit needs no privilege.
            if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
                return Err(BoundsError::Rlimit {
                    action: "raise",
                    connections,
                    reason: std::io::Error::last_os_error().to_string(),
                });
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_names_the_flag_and_the_cap() {
        assert!(check_connection_cap("-c/--connections", 64, 64).is_ok());
        let msg = check_connection_cap("-c/--connections", 65, 64)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("--max-connections 64"), "{msg}");
        assert!(msg.contains("opens 65 connections"), "{msg}");
    }

    #[test]
    fn soft_limit_is_raised_only_within_the_hard_limit() {
        let needed = 1000 + FD_HEADROOM;
        assert_eq!(fd_action(1000, needed, needed).unwrap(), FdAction::Keep);
        assert_eq!(
            fd_action(1000, 1024, u64::MAX).unwrap(),
            FdAction::RaiseSoft(needed)
        );
        let err = fd_action(1000, 512, 1024).unwrap_err();
        assert_eq!(
            err,
            BoundsError::OpenFiles {
                connections: 1000,
                needed,
                hard: 1024
            }
        );
        assert!(err.to_string().contains("RLIMIT_NOFILE"), "{err}");
    }

    #[test]
    fn this_process_fits_a_few_connections() {
        ensure_open_files(1).unwrap();
    }
}
