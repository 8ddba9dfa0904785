//! The HTTP side of the checker: one reqwest client (no proxy, no
//! decompression, connection reuse on) and a fetched response kept whole
//! so checks can look at raw headers and bytes.

use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::HeaderMap;

use super::REQUEST_TIMEOUT;

/// A cheap-to-clone HTTP client for the checks.
#[derive(Debug, Clone)]
pub(crate) struct Probe {
    client: reqwest::Client,
}

/// One response, read in full.
#[derive(Debug, Clone)]
pub(crate) struct Fetched {
    pub status: u16,
    pub version: reqwest::Version,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Time from sending the request to the end of the body.
    pub elapsed: Duration,
}

impl Fetched {
    /// A header as text ("" if missing or not ASCII).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

impl Probe {
    /// A client trusting what `tls` trusts for https:// (None: the
    /// system roots).
    pub fn new(tls: Option<rustls::ClientConfig>) -> Result<Self, reqwest::Error> {
        let tls = tls.or_else(|| {
            crate::engine::tls::client_config(&Default::default())
                .ok()
                .map(|c| (*c).clone())
        });
        let mut builder = reqwest::Client::builder()
            // A proxy from the environment would change headers and defeat
            // the loopback-only rule.
            .no_proxy()
            .timeout(REQUEST_TIMEOUT)
            .pool_idle_timeout(Duration::from_secs(30));
        if let Some(tls) = tls {
            builder = builder.use_preconfigured_tls(tls);
        }
        let client = builder.build()?;
        Ok(Probe { client })
    }

    /// GETs `base` + `path_and_query`, offering `Accept-Encoding: gzip`
    /// as browsers and load tools do (reqwest is built without
    /// decompression, so an encoded answer shows up as a `Content-Encoding`
    /// header, which the contract forbids).
    pub async fn get(&self, base: &str, path_and_query: &str) -> Result<Fetched, String> {
        let url = format!("{}{}", base.trim_end_matches('/'), path_and_query);
        let req = self
            .client
            .get(&url)
            .header(reqwest::header::ACCEPT_ENCODING, "gzip");
        let start = Instant::now();
        let resp = req
            .send()
            .await
            .map_err(|e| format!("GET {url}: {}", chain(&e)))?;
        let status = resp.status().as_u16();
        let version = resp.version();
        let headers = resp.headers().clone();
        let body = resp
            .bytes()
            .await
            .map_err(|e| format!("GET {url}: reading body: {}", chain(&e)))?;
        Ok(Fetched {
            status,
            version,
            headers,
            body,
            elapsed: start.elapsed(),
        })
    }
}

/// An error with its causes, since reqwest's top-level message alone
/// ("error sending request") says little.
fn chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
