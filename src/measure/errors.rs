//! Classes of failed requests, as reported in `errors_by_kind`.

/// Why a request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// TCP connect failed (refused, unreachable).
    Connect,
    /// No complete response within the request timeout.
    Timeout,
    /// The server closed or reset the connection mid-request.
    Reset,
    /// A response arrived with a status other than the expected one.
    HttpStatus,
    /// Anything else (malformed response, local I/O error).
    Other,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 5] = [
        ErrorKind::Connect,
        ErrorKind::Timeout,
        ErrorKind::Reset,
        ErrorKind::HttpStatus,
        ErrorKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Connect => "connect",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Reset => "reset",
            ErrorKind::HttpStatus => "http_status",
            ErrorKind::Other => "other",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}
