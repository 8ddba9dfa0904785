//! The API contract checker behind `bakeoff check`: it sends requests to
//! running targets and verifies every endpoint of targets/API.md (statuses,
//! headers, exact bodies, clamps, escaping, sort order, that updates
//! persist, that `/io` waits overlap, that `/cpu` digests are right, that
//! `/ws/fanout` broadcasts to every client in order per publisher (or, where
//! `/ws/info` says it is not offered, answers 426), and
//! with a database URL how many queries and rows each database endpoint
//! and its `/raw/` twin send per request: `queries`) and,
//! across targets, that the deterministic responses are byte-for-byte the
//! same.
//!
//! It owns no process: starting and stopping targets is the lifecycle's job
//! (`crate::targets`), and `commands/check.rs` glues the two together. The
//! checks are pure HTTP and ws:// (plus an optional direct database read), so tests
//! can point them at an in-process fake server.

mod contract;
mod db;
pub(crate) mod fanout;
mod fortunes;
mod headers;
mod probe;
mod queries;
mod shapes;
pub mod table;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

pub use contract::cpu_digest;
pub use fortunes::{ADDED_FORTUNE, TECHEMPOWER_FORTUNES};
pub use queries::{Allowed, QueryFigures};

use probe::Probe;

/// Endpoint label used for checks that compare targets with each other.
pub const CROSS_TARGET: &str = "(all targets)";

/// The outcome of one check of one endpoint on one target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckResult {
    /// Target (variant) name, or [`CROSS_TARGET`] for cross-target checks.
    pub target: String,
    /// Endpoint path the check is about, e.g. "/queries".
    pub endpoint: String,
    /// Short name of what was checked, e.g. "clamp queries=501 -> 500".
    pub check: String,
    /// True only if the check was carried out and held.
    pub passed: bool,
    /// False when the check could not be carried out (e.g. update
    /// persistence without a database URL): such a result is reported but
    /// is neither a pass nor a failure.
    pub verifiable: bool,
    /// Why it failed, what was seen, or why it could not be verified.
    pub detail: String,
    /// The "queries per request" check: what the batch cost and what the
    /// contract allows (`queries` module).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queries: Option<QueryFigures>,
}

impl CheckResult {
    /// A check that was carried out and failed.
    pub fn is_failure(&self) -> bool {
        self.verifiable && !self.passed
    }
}

/// True if any result is a failure (unverifiable checks do not count).
pub fn any_failed(results: &[CheckResult]) -> bool {
    results.iter().any(CheckResult::is_failure)
}

/// Runs every contract check against each `(name, base_url)`, plus the
/// cross-target checks. Update persistence is reported as not verifiable;
/// use [`check_targets_with_db`] to verify it.
pub async fn check_targets(targets: &[(String, String)]) -> Vec<CheckResult> {
    check_targets_with_db(targets, None).await
}

/// Like [`check_targets`], and with a database URL (the PostgreSQL the
/// targets share) also verifies that `/updates` persisted its new values,
/// by reading them back with `psql`.
///
/// Targets are checked one after the other so that their `/updates` cannot
/// overwrite each other's rows between the write and the read-back, and so
/// that the `/io` overlap measurement of one target is not disturbed by
/// another target's work. Only the `/io` upper-clamp requests, which must
/// wait the full 10 s maximum, run in the background for all targets at
/// once.
pub async fn check_targets_with_db(
    targets: &[(String, String)],
    database_url: Option<&str>,
) -> Vec<CheckResult> {
    check_targets_tls(targets, database_url, None).await
}

/// [`check_targets_with_db`] trusting what `tls` trusts for https:// URLs
/// (`--cacert`, `--insecure`); None: the system roots.
pub async fn check_targets_tls(
    targets: &[(String, String)],
    database_url: Option<&str>,
    tls: Option<rustls::ClientConfig>,
) -> Vec<CheckResult> {
    let probe = match Probe::new(tls) {
        Ok(p) => p,
        Err(err) => {
            return targets
                .iter()
                .map(|(name, _)| CheckResult {
                    target: name.clone(),
                    endpoint: "(client)".into(),
                    check: "build HTTP client".into(),
                    passed: false,
                    verifiable: true,
                    detail: err.to_string(),
                    queries: None,
                })
                .collect();
        }
    };
    let db = database_url.map(db::Database::new);

    let slow: Vec<_> = targets
        .iter()
        .map(|(name, base)| {
            let probe = probe.clone();
            let (name, base) = (name.clone(), base.clone());
            tokio::spawn(async move { contract::check_io_upper_clamp(&probe, &name, &base).await })
        })
        .collect();

    let mut results = Vec::new();
    let mut samples: BTreeMap<String, contract::Samples> = BTreeMap::new();
    for (name, base) in targets {
        let mut target = contract::TargetCheck::new(&probe, name, base, db.as_ref());
        target.run_all().await;
        let (mut found, sample) = target.finish();
        results.append(&mut found);
        samples.insert(name.clone(), sample);
    }
    for (handle, (name, _)) in slow.into_iter().zip(targets) {
        match handle.await {
            Ok(r) => results.push(r),
            Err(err) => results.push(CheckResult {
                target: name.clone(),
                endpoint: "/io".into(),
                check: contract::IO_UPPER_CLAMP.into(),
                passed: false,
                verifiable: true,
                detail: format!("check task failed: {err}"),
                queries: None,
            }),
        }
    }
    results.extend(contract::cross_target(&samples));
    order(&mut results, targets);
    results
}

/// Stable report order: targets in the given order, then cross-target
/// checks; within a target, endpoints in contract order.
fn order(results: &mut [CheckResult], targets: &[(String, String)]) {
    let target_rank = |t: &str| {
        targets
            .iter()
            .position(|(n, _)| n == t)
            .unwrap_or(targets.len())
    };
    results.sort_by_key(|r| (target_rank(&r.target), contract::endpoint_rank(&r.endpoint)));
}

/// How long one request may take before it counts as a failure. Generous:
/// `/updates?queries=501` on a cold synchronous worker does 1000 queries.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
