//! `--targets external`: already-running targets at given URLs. Validates
//! each URL, refuses non-loopback hosts unless `--allow-remote`, and checks
//! reachability (any HTTP answer will do) with a message naming the URL.
//! There is no lifecycle to manage: [`ExternalLab`] only names the URLs.

use std::collections::BTreeMap;

use super::local::control_client_tls;
use super::{Lab, LabConfig, LabFuture, ResourceSampler, RunningTarget, TargetError};
use crate::engine::EndpointError;

/// The lab of external mode: the targets run elsewhere; bakeoff owns
/// neither their processes nor their database.
#[derive(Debug)]
pub struct ExternalLab {
    urls: BTreeMap<String, String>,
}

impl ExternalLab {
    /// Every target needs a URL of `cfg.urls`, valid and reachable.
    pub async fn prepare(cfg: &LabConfig, targets: &[String]) -> Result<ExternalLab, TargetError> {
        let mut urls = BTreeMap::new();
        for name in targets {
            let url = cfg
                .urls
                .get(name)
                .ok_or_else(|| TargetError::MissingUrl { name: name.clone() })?;
            let url = validate(name, url, cfg.allow_remote)?;
            check_reachable(name, &url, cfg.control_tls.as_deref()).await?;
            urls.insert(name.clone(), url);
        }
        Ok(ExternalLab { urls })
    }
}

/// The target at its configured URL (compose and external).
pub(super) fn at_url(
    urls: &BTreeMap<String, String>,
    name: &str,
) -> Result<RunningTarget, TargetError> {
    let base_url = urls
        .get(name)
        .ok_or_else(|| TargetError::MissingUrl {
            name: name.to_string(),
        })?
        .clone();
    Ok(RunningTarget {
        name: name.to_string(),
        base_url,
        pgid: None,
    })
}

impl Lab for ExternalLab {
    fn start<'a>(&'a mut self, name: &'a str) -> LabFuture<'a, RunningTarget> {
        Box::pin(async move { at_url(&self.urls, name) })
    }
    fn alive(&mut self, _: &str) -> bool {
        true
    }
    fn stop<'a>(&'a mut self, _: &'a str) -> LabFuture<'a, ()> {
        Box::pin(async { Ok(()) })
    }
    fn sample(&self, _: &str) -> Option<ResourceSampler> {
        None
    }
    /// bakeoff does not own an external target's database, so its state
    /// between targets is the user's business.
    fn restore_database(&self) -> LabFuture<'_, ()> {
        Box::pin(async { Ok(()) })
    }
    fn shutdown(&mut self) -> LabFuture<'_, ()> {
        Box::pin(async { Ok(()) })
    }
}

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
pub async fn check_reachable(
    name: &str,
    url: &str,
    tls: Option<&rustls::ClientConfig>,
) -> Result<(), TargetError> {
    match control_client_tls(tls).get(url).send().await {
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
        assert!(validate("n", "https://127.0.0.1", false).is_ok());
        assert!(validate("n", "ftp://127.0.0.1", false).is_err());
    }

    #[tokio::test]
    async fn unreachable_names_the_url() {
        let port = crate::targets::free_port().unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let msg = check_reachable("n", &url, None)
            .await
            .unwrap_err()
            .to_string();
        assert!(msg.contains(&url), "{msg}");
    }
}
