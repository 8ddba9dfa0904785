//! `--targets external`: already-running targets at given URLs. Validates
//! each URL, refuses non-loopback hosts unless `--allow-remote`, and checks
//! reachability (any HTTP answer will do) with a message naming the URL.
//! There is no lifecycle to manage.

use super::TargetError;
use super::local::control_client;
use crate::engine::EndpointError;

/// Checks a base URL and returns it without a trailing slash. The
/// loopback rule is the load engine's own ([`crate::engine::parse_url`]),
/// so what `run` accepts here is exactly what it will load.
pub fn validate(name: &str, url: &str, allow_remote: bool) -> Result<String, TargetError> {
    match crate::engine::parse_url(url, allow_remote) {
        Ok(_) => Ok(url.trim_end_matches('/').to_string()),
        Err(EndpointError::Remote { .. }) => Err(TargetError::RemoteUrl {
            name: name.to_string(),
            url: url.to_string(),
        }),
        Err(e) => Err(TargetError::BadUrl {
            name: name.to_string(),
            url: url.to_string(),
            reason: e.to_string(),
        }),
    }
}

/// Any HTTP response from `url` proves it is reachable.
pub async fn check_reachable(name: &str, url: &str) -> Result<(), TargetError> {
    match control_client().get(url).send().await {
        Ok(_) => Ok(()),
        Err(e) => Err(TargetError::Unreachable {
            name: name.to_string(),
            url: url.to_string(),
            reason: error_chain(&e),
        }),
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_only_unless_allowed() {
        assert_eq!(
            validate("n", "http://127.0.0.1:3000/", false).unwrap(),
            "http://127.0.0.1:3000"
        );
        assert!(validate("n", "http://[::1]:3000", false).is_ok());
        assert!(validate("n", "http://localhost:3000", false).is_ok());
        let msg = validate("n", "http://10.0.0.2:3000", false)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("--allow-remote") && msg.contains("10.0.0.2"),
            "{msg}"
        );
        assert!(validate("n", "http://10.0.0.2:3000", true).is_ok());
        assert!(validate("n", "not a url", false).is_err());
        assert!(validate("n", "https://127.0.0.1", false).is_err());
    }

    #[tokio::test]
    async fn unreachable_names_the_url() {
        let port = crate::targets::free_port().unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let msg = check_reachable("n", &url).await.unwrap_err().to_string();
        assert!(msg.contains(&url), "{msg}");
    }
}
