//! The address a step sends to, parsed from a URL, and the loopback-only
//! guard that runs before any connection or DNS lookup.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};

/// The URL schemes `load` speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scheme {
    #[default]
    Http,
    /// TLS (rustls) under HTTP/1.1 or, by ALPN, HTTP/2: see `tls.rs`.
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// Where requests go: a socket address plus the Host header to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub scheme: Scheme,
    pub addr: SocketAddr,
    /// The host as written in the URL (no port, IPv6 without brackets):
    /// the TLS server name.
    pub host: String,
    /// Value of the Host header ("127.0.0.1:3000").
    pub host_header: String,
    /// "host:port" as written in the URL, the default target name.
    pub authority: String,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EndpointError {
    #[error("invalid URL {url:?}: {reason}")]
    Invalid { url: String, reason: String },
    #[error("only http:// and https:// URLs are supported, got {url:?}")]
    Scheme { url: String },
    #[error(
        "refusing to send load to {host:?} in {url:?}: bakeoff only loads 127.0.0.0/8, ::1 and localhost by default; pass --allow-remote if you own that host"
    )]
    Remote { url: String, host: String },
    #[error("cannot resolve {host:?} in {url:?}: {reason}")]
    Resolve {
        url: String,
        host: String,
        reason: String,
    },
}

/// A parsed URL: its endpoint and the path + query to request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedUrl {
    pub endpoint: Endpoint,
    pub path_and_query: String,
}

/// Parses `url`, refusing non-loopback hosts unless `allow_remote`. The
/// check looks at the literal host only, so a remote name is refused
/// before any DNS lookup.
pub fn parse_url(url: &str, allow_remote: bool) -> Result<ParsedUrl, EndpointError> {
    let parsed = url::Url::parse(url).map_err(|e| EndpointError::Invalid {
        url: url.into(),
        reason: e.to_string(),
    })?;
    let scheme = match parsed.scheme() {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        _ => return Err(EndpointError::Scheme { url: url.into() }),
    };
    // Both schemes have a known default port (80, 443).
    let port = parsed.port_or_known_default().unwrap_or(80);
    let (ip, host_text, host): (Option<IpAddr>, String, String) = match parsed.host() {
        Some(url::Host::Ipv4(v4)) => (Some(IpAddr::V4(v4)), v4.to_string(), v4.to_string()),
        Some(url::Host::Ipv6(v6)) => (Some(IpAddr::V6(v6)), format!("[{v6}]"), v6.to_string()),
        Some(url::Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => (
            Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            "localhost".to_string(),
            "localhost".to_string(),
        ),
        Some(url::Host::Domain(d)) => (None, d.to_string(), d.to_string()),
        None => {
            return Err(EndpointError::Invalid {
                url: url.into(),
                reason: "no host".into(),
            });
        }
    };
    let loopback = ip.is_some_and(|ip| ip.is_loopback());
    if !loopback && !allow_remote {
        return Err(EndpointError::Remote {
            url: url.into(),
            host: host_text,
        });
    }
    let addr = match ip {
        Some(ip) => SocketAddr::new(ip, port),
        None => (host_text.as_str(), port)
            .to_socket_addrs()
            .map_err(|e| EndpointError::Resolve {
                url: url.into(),
                host: host_text.clone(),
                reason: e.to_string(),
            })?
            .next()
            .ok_or_else(|| EndpointError::Resolve {
                url: url.into(),
                host: host_text.clone(),
                reason: "no addresses".into(),
            })?,
    };
    let authority = format!("{host_text}:{port}");
    let mut path_and_query = parsed.path().to_string();
    if let Some(q) = parsed.query() {
        path_and_query.push('?');
        path_and_query.push_str(q);
    }
    Ok(ParsedUrl {
        endpoint: Endpoint {
            scheme,
            addr,
            host,
            host_header: authority.clone(),
            authority,
        },
        path_and_query,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_accepted() {
        let p = parse_url("http://127.0.0.1:3000/json?x=1", false).unwrap();
        assert_eq!(p.endpoint.addr, "127.0.0.1:3000".parse().unwrap());
        assert_eq!(p.path_and_query, "/json?x=1");
        assert_eq!(p.endpoint.authority, "127.0.0.1:3000");
        assert!(parse_url("http://127.9.9.9/", false).is_ok());
        assert_eq!(
            parse_url("http://[::1]:8080/", false)
                .unwrap()
                .endpoint
                .authority,
            "[::1]:8080"
        );
        assert_eq!(
            parse_url("http://localhost:1/", false)
                .unwrap()
                .endpoint
                .addr
                .ip(),
            Ipv4Addr::LOCALHOST
        );
    }

    #[test]
    fn remote_hosts_are_refused_without_lookup() {
        // A name that would fail DNS here: refused as remote, not as unresolvable.
        let err = parse_url("http://no-such-host.invalid/", false).unwrap_err();
        assert!(matches!(err, EndpointError::Remote { .. }));
        assert!(err.to_string().contains("--allow-remote"));
        assert!(matches!(
            parse_url("http://10.0.0.1/", false),
            Err(EndpointError::Remote { .. })
        ));
        assert!(matches!(
            parse_url("https://10.0.0.1/", false),
            Err(EndpointError::Remote { .. })
        ));
        assert!(matches!(
            parse_url("ftp://127.0.0.1/", false),
            Err(EndpointError::Scheme { .. })
        ));
    }

    #[test]
    fn https_defaults_to_port_443_and_keeps_its_scheme() {
        let p = parse_url("https://127.0.0.1/x", false).unwrap();
        assert_eq!(p.endpoint.scheme, Scheme::Https);
        assert_eq!(p.endpoint.addr, "127.0.0.1:443".parse().unwrap());
        assert_eq!(p.endpoint.host, "127.0.0.1");
        let p = parse_url("http://[::1]:8/", false).unwrap();
        assert_eq!(p.endpoint.scheme, Scheme::Http);
        assert_eq!(p.endpoint.host, "::1");
    }
}
