//! The individual contract checks of targets/API.md, one method per
//! endpoint, run against a single target by [`TargetCheck`]; plus the
//! cross-target comparisons and the `/cpu` reference digest. What a single
//! response must look like is in `shapes`; header rules common to every
//! response are in `headers`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::db::Database;
use super::fanout::{self, Offer};
use super::fortunes;
use super::headers::HeaderTally;
use super::probe::{Fetched, Probe};
use super::queries::{self, QueryFigures};
use super::shapes::{self, HTML, TEXT, preview};
use super::{CROSS_TARGET, CheckResult};

/// Endpoints in contract order (the report's column order).
pub(crate) const ENDPOINTS: [&str; 15] = [
    "/plaintext",
    "/json",
    "/db",
    "/queries",
    "/fortunes",
    "/updates",
    "/raw/db",
    "/raw/queries",
    "/raw/fortunes",
    "/raw/updates",
    "/io",
    "/cpu",
    fanout::EP,
    NOT_FOUND,
    CROSS_TARGET,
];

/// Endpoint label of the unknown-path check.
pub(crate) const NOT_FOUND: &str = "404";
const NOT_FOUND_PATH: &str = "/no-such-path-bakeoff";

/// Name of the background `/io` upper-clamp check.
pub(crate) const IO_UPPER_CLAMP: &str = "clamp ms=20000 -> 10000";

const PLAINTEXT_BODY: &[u8] = b"Hello, World!";
const JSON_BODY: &str = r#"{"message":"Hello, World!"}"#;
const JAPANESE_FORTUNE: &str = "フレームワークのベンチマーク";

/// How many `/io` requests the overlap check sends at once, how long each
/// waits, and the most the batch may take in total. Run one after another
/// they would need 8 × 300 ms = 2.4 s; overlapping, a little over 300 ms
/// (django-sync serves WORKERS × THREADS at once, at least 15 by default).
const OVERLAP_REQUESTS: usize = 8;
const OVERLAP_MS: u64 = 300;
const OVERLAP_LIMIT: Duration = Duration::from_millis(1500);

/// Rows the `/updates` persistence check asks for.
const PERSIST_ROWS: usize = 20;

/// Position of an endpoint label in the report (unknown labels last).
pub(crate) fn endpoint_rank(endpoint: &str) -> usize {
    ENDPOINTS
        .iter()
        .position(|e| *e == endpoint)
        .unwrap_or(ENDPOINTS.len())
}

/// The `/cpu` digest the contract defines: SHA-256 of the ASCII bytes
/// `bakeoff`, then `rounds - 1` more times SHA-256 of the previous raw
/// 32-byte digest, as lowercase hex. `rounds` below 1 counts as 1, as the
/// contract's clamp does.
pub fn cpu_digest(rounds: u32) -> String {
    let mut digest = Sha256::digest(b"bakeoff");
    for _ in 1..rounds.max(1) {
        digest = Sha256::digest(digest);
    }
    format!("{digest:x}")
}

/// Responses kept per target for the cross-target comparison, keyed by
/// request path.
#[derive(Debug, Default, Clone)]
pub(crate) struct Samples {
    bodies: BTreeMap<&'static str, Bytes>,
}

/// Paths whose bodies API.md marks identical on every target.
const SAME_BODY_PATHS: [&str; 6] = [
    "/plaintext",
    "/json",
    "/fortunes",
    "/io?ms=0",
    "/cpu?n=1000",
    NOT_FOUND_PATH,
];

/// `/queries` and `/updates` cases: (query string, expected row count).
/// Parameters are integers only if the whole value is `-?[0-9]+`; the last
/// occurrence counts; the range is 1..=500 with default 1.
const QUERIES_CASES: [(&str, usize); 9] = [
    ("", 1),
    ("?queries=abc", 1),
    ("?queries=12abc", 1),
    ("?queries=0", 1),
    ("?queries=-3", 1),
    ("?queries=1", 1),
    ("?queries=20", 20),
    ("?queries=2&queries=4", 4),
    ("?queries=501", 500),
];

/// `/io` cases: (query string, expected slept_ms, check name).
const IO_CASES: [(&str, u64, &str); 5] = [
    ("?ms=0", 0, "ms=0 -> 0"),
    ("?ms=50", 50, "ms=50 waits 50 ms"),
    ("?ms=-5", 0, "clamp ms=-5 -> 0"),
    ("?ms=abc", 0, "ms=abc -> 0"),
    ("", 0, "no ms -> 0"),
];

/// `/cpu` cases: (query string, expected rounds, check name).
const CPU_CASES: [(&str, u32, &str); 7] = [
    ("?n=1", 1, "n=1 digest"),
    ("?n=1000", 1000, "n=1000 digest"),
    ("?n=0", 1, "clamp n=0 -> 1"),
    ("?n=abc", 1, "n=abc -> 1"),
    ("?n=1e3", 1, "n=1e3 -> 1"),
    ("", 1, "no n -> 1"),
    ("?n=200000", 100_000, "clamp n=200000 -> 100000"),
];

/// All checks of one target, accumulating results.
pub(crate) struct TargetCheck<'a> {
    probe: &'a Probe,
    name: String,
    base: String,
    db: Option<&'a Database>,
    results: Vec<CheckResult>,
    headers: HeaderTally,
    samples: Samples,
}

impl<'a> TargetCheck<'a> {
    pub fn new(probe: &'a Probe, name: &str, base: &str, db: Option<&'a Database>) -> Self {
        TargetCheck {
            probe,
            name: name.to_string(),
            base: base.to_string(),
            db,
            results: Vec::new(),
            headers: HeaderTally::default(),
            samples: Samples::default(),
        }
    }

    /// Every per-target check except the background `/io` upper clamp.
    pub async fn run_all(&mut self) {
        self.plaintext().await;
        self.json().await;
        for prefix in ["", "/raw"] {
            self.db_endpoint(&format!("{prefix}/db")).await;
            self.row_arrays(&format!("{prefix}/queries")).await;
            self.fortunes(&format!("{prefix}/fortunes")).await;
            self.updates(&format!("{prefix}/updates")).await;
        }
        self.query_counts().await;
        self.io().await;
        self.cpu().await;
        self.ws_fanout().await;
        self.not_found().await;
    }

    /// The results (header checks included) and the kept samples.
    pub fn finish(mut self) -> (Vec<CheckResult>, Samples) {
        let header_results = self.headers.results(&self.name);
        self.results.extend(header_results);
        (self.results, self.samples)
    }

    fn record(&mut self, endpoint: &str, check: &str, outcome: Result<(), String>) {
        let (passed, detail) = match outcome {
            Ok(()) => (true, String::new()),
            Err(d) => (false, d),
        };
        self.results.push(CheckResult {
            target: self.name.clone(),
            endpoint: endpoint.to_string(),
            check: check.to_string(),
            passed,
            verifiable: true,
            detail,
            queries: None,
        });
    }

    fn unverifiable(&mut self, endpoint: &str, check: &str, why: &str) {
        self.results.push(CheckResult {
            target: self.name.clone(),
            endpoint: endpoint.to_string(),
            check: check.to_string(),
            passed: false,
            verifiable: false,
            detail: why.to_string(),
            queries: None,
        });
    }

    /// GETs a path, tallies its headers under `endpoint`, and keeps the
    /// body if it is one compared across targets.
    async fn get(&mut self, endpoint: &str, path: &str) -> Result<Fetched, String> {
        let fetched = self.probe.get(&self.base, path).await?;
        self.headers.observe(endpoint, path, &fetched);
        if let Some(key) = SAME_BODY_PATHS.iter().find(|p| **p == path) {
            self.samples.bodies.insert(key, fetched.body.clone());
        }
        Ok(fetched)
    }

    async fn plaintext(&mut self) {
        const EP: &str = "/plaintext";
        match self.get(EP, EP).await {
            Ok(f) => {
                self.record(EP, "status 200", shapes::status(&f, 200));
                self.record(
                    EP,
                    "Content-Type text/plain",
                    shapes::content_type(&f, TEXT),
                );
                self.record(EP, "exact body", shapes::exact_body(&f, PLAINTEXT_BODY));
            }
            Err(e) => self.record(EP, "request", Err(e)),
        }
    }

    async fn json(&mut self) {
        const EP: &str = "/json";
        match self.get(EP, EP).await {
            Ok(f) => {
                self.record(EP, "status 200", shapes::status(&f, 200));
                self.record(
                    EP,
                    "Content-Type application/json",
                    shapes::content_type(&f, shapes::JSON),
                );
                self.record(
                    EP,
                    "exact body",
                    shapes::exact_body(&f, JSON_BODY.as_bytes()),
                );
            }
            Err(e) => self.record(EP, "request", Err(e)),
        }
    }

    async fn db_endpoint(&mut self, ep: &str) {
        // Several requests, since a bad row may be one in many.
        for i in 1..=3 {
            let outcome = match self.get(ep, ep).await {
                Ok(f) => shapes::db_answer(&f).map(|_| ()),
                Err(e) => Err(e),
            };
            self.record(ep, &format!("one compact world row (request {i})"), outcome);
        }
    }

    /// GETs `endpoint` with each [`QUERIES_CASES`] case and checks the
    /// answers; returns the rows of every well-formed answer.
    async fn row_arrays(&mut self, endpoint: &str) -> Vec<Vec<(i64, i64)>> {
        let mut answers = Vec::new();
        for (query, want) in QUERIES_CASES {
            let plural = if want == 1 { "" } else { "s" };
            let label = match query.strip_prefix('?') {
                None => format!("no queries -> {want} row"),
                Some(q) => format!("{q} -> {want} row{plural}"),
            };
            let outcome = match self.get(endpoint, &format!("{endpoint}{query}")).await {
                Ok(f) => shapes::rows_answer(&f, want),
                Err(e) => Err(e),
            };
            match outcome {
                Ok(rows) => {
                    answers.push(rows);
                    self.record(endpoint, &label, Ok(()));
                }
                Err(e) => self.record(endpoint, &label, Err(e)),
            }
        }
        answers
    }

    async fn updates(&mut self, ep: &str) {
        let answers = self.row_arrays(ep).await;
        let order = answers
            .iter()
            .try_for_each(|rows| shapes::ascending_distinct(rows));
        self.record(ep, "distinct ids in ascending order", order);
        self.persistence(ep).await;
    }

    /// After `/updates?queries=20`, the database holds the returned values
    /// and each differs from the row's previous value.
    async fn persistence(&mut self, ep: &str) {
        let persist = format!("new values persist (queries={PERSIST_ROWS})");
        let change = format!("new values differ from the old (queries={PERSIST_ROWS})");
        let Some(db) = self.db else {
            let why = "no database URL: cannot read the rows back";
            self.unverifiable(ep, &persist, why);
            self.unverifiable(ep, &change, why);
            return;
        };
        let before = match db.world_numbers(None).await {
            Ok(b) => b,
            Err(e) => {
                let why = format!("reading table world: {e}");
                self.record(ep, &persist, Err(why.clone()));
                self.record(ep, &change, Err(why));
                return;
            }
        };
        let path = format!("{ep}?queries={PERSIST_ROWS}");
        let rows = match self.get(ep, &path).await {
            Ok(f) => shapes::rows_answer(&f, PERSIST_ROWS),
            Err(e) => Err(e),
        };
        let rows = match rows {
            Ok(rows) => rows,
            Err(e) => {
                self.record(ep, &persist, Err(e.clone()));
                self.record(ep, &change, Err(e));
                return;
            }
        };
        let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let stored = db
            .world_numbers(Some(&ids))
            .await
            .map_err(|e| format!("reading the rows back: {e}"))
            .and_then(|stored| shapes::persisted(&rows, &stored));
        self.record(ep, &persist, stored);
        self.record(ep, &change, shapes::changed(&rows, &before));
    }

    async fn fortunes(&mut self, ep: &str) {
        let f = match self.get(ep, ep).await {
            Ok(f) => f,
            Err(e) => return self.record(ep, "request", Err(e)),
        };
        self.record(ep, "status 200", shapes::status(&f, 200));
        self.record(
            ep,
            "Content-Type text/html; charset=utf-8",
            shapes::content_type(&f, HTML),
        );
        let html = match std::str::from_utf8(&f.body) {
            Ok(s) => s.to_string(),
            Err(e) => return self.record(ep, "body is UTF-8", Err(e.to_string())),
        };
        self.record(
            ep,
            "<script> escaped",
            if html.contains("<script") {
                Err("the body contains a raw <script tag".into())
            } else if !html.contains("&lt;script&gt;") {
                Err("&lt;script&gt; not found".into())
            } else {
                Ok(())
            },
        );
        self.record(
            ep,
            "Japanese fortune intact",
            if html.contains(JAPANESE_FORTUNE) {
                Ok(())
            } else {
                Err(format!("{JAPANESE_FORTUNE} not found as UTF-8 text"))
            },
        );
        let rows = match fortunes::parse_rows(&html) {
            Ok(rows) => rows,
            Err(e) => {
                return self.record(ep, "rows as <tr><td>id</td><td>message</td></tr>", Err(e));
            }
        };
        self.record(ep, "13 rows", shapes::count(rows.len(), 13));
        let added = rows
            .iter()
            .any(|r| r.id == "0" && r.message == fortunes::ADDED_FORTUNE);
        self.record(
            ep,
            "added fortune with id 0",
            if added {
                Ok(())
            } else {
                Err(format!(
                    "no row <td>0</td><td>{}</td>",
                    fortunes::ADDED_FORTUNE
                ))
            },
        );
        self.record(ep, "sorted by message (code point)", shapes::sorted(&rows));
        self.record(
            ep,
            "rows are the seeded fortunes",
            shapes::same_fortunes(&rows),
        );
        let want = fortunes::expected_html();
        self.record(
            ep,
            "exact markup and escaping",
            shapes::exact_body(&f, want.as_bytes()),
        );
    }

    /// Each database endpoint's queries and rows per request, from the
    /// database's counters around a batch of [`queries::BATCH`] requests
    /// (`queries` module); not verifiable without a database that counts.
    async fn query_counts(&mut self) {
        const CHECK: &str = "queries per request";
        for (ep, query, allowed) in queries::endpoints() {
            let Some(db) = self.db else {
                self.unverifiable(ep, CHECK, "no database URL: cannot read the query counters");
                continue;
            };
            let counter = db.query_counter();
            let before = match counter.read().await {
                Ok(c) => c,
                Err(e) => {
                    self.unverifiable(ep, CHECK, &e.to_string());
                    continue;
                }
            };
            let request = format!("{ep}{query}");
            let mut failed = None;
            for _ in 0..queries::BATCH {
                match self.probe.get(&self.base, &request).await {
                    Ok(f) if f.status == 200 => {}
                    Ok(f) => failed = Some(format!("{request} answered {}", f.status)),
                    Err(e) => failed = Some(e),
                }
            }
            let after = counter.read().await;
            let outcome = match (failed, after) {
                (Some(why), _) => Err(why),
                (None, Err(e)) => Err(e.to_string()),
                (None, Ok(after)) => {
                    let figures =
                        QueryFigures::new(request, queries::BATCH, after.since(&before), allowed);
                    let outcome = figures.judge();
                    self.record(ep, CHECK, outcome);
                    if let Some(last) = self.results.last_mut() {
                        last.queries = Some(figures);
                    }
                    continue;
                }
            };
            self.record(ep, CHECK, outcome);
        }
    }

    async fn io(&mut self) {
        const EP: &str = "/io";
        for (query, want, label) in IO_CASES {
            let outcome = match self.get(EP, &format!("{EP}{query}")).await {
                Ok(f) => shapes::slept(&f, want),
                Err(e) => Err(e),
            };
            self.record(EP, label, outcome);
        }
        let outcome = self.overlap().await;
        let label = format!("{OVERLAP_REQUESTS} concurrent ms={OVERLAP_MS} overlap");
        self.record(EP, &label, outcome);
    }

    /// Sends the overlap batch on concurrent connections and checks every
    /// answer and the batch's wall time.
    async fn overlap(&mut self) -> Result<(), String> {
        let path = format!("/io?ms={OVERLAP_MS}");
        let start = Instant::now();
        let tasks: Vec<_> = (0..OVERLAP_REQUESTS)
            .map(|_| {
                let probe = self.probe.clone();
                let (base, path) = (self.base.clone(), path.clone());
                tokio::spawn(async move { probe.get(&base, &path).await })
            })
            .collect();
        let mut answers = Vec::with_capacity(OVERLAP_REQUESTS);
        for task in tasks {
            answers.push(
                task.await
                    .map_err(|e| format!("request task failed: {e}"))??,
            );
        }
        let wall = start.elapsed();
        for f in &answers {
            self.headers.observe("/io", &path, f);
        }
        for f in &answers {
            shapes::slept(f, OVERLAP_MS)?;
        }
        if wall < OVERLAP_LIMIT {
            Ok(())
        } else {
            Err(format!(
                "{OVERLAP_REQUESTS} concurrent requests took {} ms in total (limit {} ms; \
                 one after another they take {} ms): the waits do not overlap",
                wall.as_millis(),
                OVERLAP_LIMIT.as_millis(),
                OVERLAP_REQUESTS as u64 * OVERLAP_MS
            ))
        }
    }

    async fn cpu(&mut self) {
        const EP: &str = "/cpu";
        for (query, rounds, label) in CPU_CASES {
            let outcome = match self.get(EP, &format!("{EP}{query}")).await {
                Ok(f) => shapes::cpu_answer(&f, rounds),
                Err(e) => Err(e),
            };
            self.record(EP, label, outcome);
        }
    }

    /// `/ws/info`, then the fan-out cases, or the documented 426 where the
    /// endpoint is not offered (`fanout` module). `/ws/info`'s headers are
    /// tallied under `/ws/fanout`.
    async fn ws_fanout(&mut self) {
        const EP: &str = fanout::EP;
        let offer = match self.get(EP, "/ws/info").await {
            Ok(f) => shapes::status(&f, 200)
                .and_then(|()| shapes::content_type(&f, shapes::JSON))
                .and_then(|()| fanout::parse_info(&f.body)),
            Err(e) => Err(e),
        };
        self.record(EP, fanout::INFO, offer.clone().map(|_| ()));
        // What it said, for the JSON report: which bus this variant uses.
        if let (Some(last), Ok(o)) = (self.results.last_mut(), &offer) {
            last.detail = match o {
                Offer::Offered(bus) => format!("bus: {bus}"),
                Offer::NotOffered(reason) => format!("not offered: {reason}"),
            };
        }
        let url = match fanout::ws_url(&self.base) {
            Ok(url) => url,
            Err(why) => {
                let check = match offer {
                    Ok(Offer::NotOffered(_)) => fanout::NOT_OFFERED,
                    _ => fanout::CONNECT,
                };
                return self.unverifiable(EP, check, &why);
            }
        };
        match offer {
            Ok(Offer::NotOffered(_)) => {
                // The handshake is refused with 426, and a plain GET says
                // why in text.
                let plain = match self.probe.get(&self.base, EP).await {
                    Ok(f) => shapes::status(&f, 426)
                        .and_then(|()| shapes::content_type(&f, TEXT))
                        .and_then(|()| match f.body.trim_ascii().is_empty() {
                            true => Err("426 without a reason in the body".into()),
                            false => Ok(()),
                        }),
                    Err(e) => Err(e),
                };
                let outcome = fanout::refused(&url)
                    .await
                    .and(plain.map_err(|e| format!("ws/fanout: GET {EP}: {e}")));
                self.record(EP, fanout::NOT_OFFERED, outcome);
            }
            // Offered, or /ws/info broken: the cases say what works.
            _ => {
                let plain = match self.get(EP, EP).await {
                    Ok(f) => shapes::status(&f, 426)
                        .and_then(|()| shapes::content_type(&f, TEXT))
                        .and_then(|()| shapes::exact_body(&f, fanout::PLAIN_GET.as_bytes())),
                    Err(e) => Err(e),
                };
                self.record(EP, fanout::PLAIN, plain);
                for (check, outcome) in fanout::cases(&url).await {
                    self.record(EP, check, outcome);
                }
            }
        }
    }

    async fn not_found(&mut self) {
        let (status, body) = match self.get(NOT_FOUND, NOT_FOUND_PATH).await {
            Ok(f) => (
                shapes::status(&f, 404),
                shapes::content_type(&f, TEXT).and_then(|()| shapes::exact_body(&f, b"Not Found")),
            ),
            Err(e) => (Err(e.clone()), Err(e)),
        };
        self.record(NOT_FOUND, "unknown path -> 404", status);
        self.record(NOT_FOUND, "text/plain body Not Found", body);
    }
}

/// `/io?ms=20000` must be clamped to 10000 and really wait that long; run
/// in the background while the other checks proceed.
pub(crate) async fn check_io_upper_clamp(probe: &Probe, name: &str, base: &str) -> CheckResult {
    let outcome = match probe.get(base, "/io?ms=20000").await {
        Ok(f) => shapes::slept(&f, 10_000),
        Err(e) => Err(e),
    };
    let (passed, detail) = match outcome {
        Ok(()) => (true, String::new()),
        Err(d) => (false, d),
    };
    CheckResult {
        target: name.to_string(),
        endpoint: "/io".into(),
        check: IO_UPPER_CLAMP.into(),
        passed,
        verifiable: true,
        detail,
        queries: None,
    }
}

/// Compares the kept bodies across targets (only with two or more).
pub(crate) fn cross_target(samples: &BTreeMap<String, Samples>) -> Vec<CheckResult> {
    if samples.len() < 2 {
        return Vec::new();
    }
    let mut out = Vec::new();
    for path in SAME_BODY_PATHS {
        let mut seen: Vec<(&str, &Bytes)> = Vec::new();
        let mut missing = Vec::new();
        for (target, s) in samples {
            match s.bodies.get(path) {
                Some(b) => seen.push((target, b)),
                None => missing.push(target.as_str()),
            }
        }
        let outcome = if !missing.is_empty() {
            Err(format!("no answer from {}", missing.join(", ")))
        } else {
            differing(&seen)
        };
        let (passed, detail) = match outcome {
            Ok(()) => (true, String::new()),
            Err(d) => (false, d),
        };
        out.push(CheckResult {
            target: CROSS_TARGET.into(),
            endpoint: CROSS_TARGET.into(),
            check: format!("same {path} body on every target"),
            passed,
            verifiable: true,
            detail,
            queries: None,
        });
    }
    out
}

fn differing(seen: &[(&str, &Bytes)]) -> Result<(), String> {
    let Some(&(first, reference)) = seen.first() else {
        return Ok(());
    };
    let odd: Vec<String> = seen
        .iter()
        .filter(|(_, b)| *b != reference)
        .map(|(t, b)| format!("{t}: {}", preview(b)))
        .collect();
    if odd.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{first}: {} differs from {}",
            preview(reference),
            odd.join("; ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_digest_follows_the_definition() {
        // Reference values from targets/API.md.
        let one = "ba45903efa0c5068c1f083f1dcf8cc587aa3ea37afd292ce7c60384648f26928";
        assert_eq!(cpu_digest(1), one);
        assert_eq!(cpu_digest(0), one);
        assert_eq!(
            cpu_digest(1000),
            "78179f3472b13f3021445915990d594982e3e889edcd70c80d3fa2b93f297ffe"
        );
        let two = format!("{:x}", Sha256::digest(Sha256::digest(b"bakeoff")));
        assert_eq!(cpu_digest(2), two);
    }

    #[test]
    fn same_bodies_name_the_odd_target() {
        let a = Bytes::from_static(b"x");
        let b = Bytes::from_static(b"y");
        assert!(differing(&[("n", &a), ("m", &a)]).is_ok());
        let err = differing(&[("n", &a), ("m", &a), ("d", &b)]).unwrap_err();
        assert!(err.contains("d: \"y\"") && !err.contains("m:"), "{err}");
    }
}
