//! Classes of failed requests, as reported in `errors_by_kind`. The names
//! returned by [`ErrorKind::as_str`] are part of the results format: stable,
//! snake_case, never renamed.

/// Why a request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// TCP connect failed (refused, unreachable): nothing listens, or the
    /// server process is gone.
    Connect,
    /// No complete response within the request timeout (a stalled server).
    Timeout,
    /// The connection was reset (RST) at any point, or closed before a
    /// complete response head arrived.
    Reset,
    /// A response arrived with a status other than the expected one.
    HttpStatus,
    /// Anything else (malformed response, local I/O error).
    Other,
    /// The response head arrived but the connection was closed before the
    /// body was complete (fewer bytes than `Content-Length`, or no final
    /// chunk): a server that gave up mid-response without a reset.
    Truncated,
    /// Open model: scheduled in the window but never sent, because the
    /// step's hard deadline (window end + timeout) came first: no
    /// connection was free for it in time.
    Unsent,
}

impl ErrorKind {
    /// Every kind, in the order of their discriminants (see [`Self::index`]).
    pub const ALL: [ErrorKind; 7] = [
        ErrorKind::Connect,
        ErrorKind::Timeout,
        ErrorKind::Reset,
        ErrorKind::HttpStatus,
        ErrorKind::Other,
        ErrorKind::Truncated,
        ErrorKind::Unsent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Connect => "connect",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Reset => "reset",
            ErrorKind::HttpStatus => "http_status",
            ErrorKind::Other => "other",
            ErrorKind::Truncated => "truncated",
            ErrorKind::Unsent => "unsent",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_match_all_and_names_are_unique_snake_case() {
        for (i, kind) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(kind.index(), i, "{kind:?}");
            let name = kind.as_str();
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{name}"
            );
        }
        let mut names: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ErrorKind::ALL.len());
    }
}
