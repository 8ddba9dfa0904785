//! The rules every response must follow, whatever the endpoint: `Server`,
//! `Date`, `Content-Type` and a correct `Content-Length`; keep-alive (no
//! `Connection: close`, HTTP/1.1); no compression although every request
//! offers `Accept-Encoding: gzip`. Responses are tallied per endpoint and
//! each rule becomes one check per endpoint, naming the requests that broke
//! it.

use std::collections::BTreeMap;

use super::CheckResult;
use super::probe::Fetched;

/// The header rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Rule {
    Server,
    Date,
    ContentType,
    ContentLength,
    KeepAlive,
    Http11,
    NoEncoding,
}

/// The header rules, in report order.
const RULES: [Rule; 7] = [
    Rule::Server,
    Rule::Date,
    Rule::ContentType,
    Rule::ContentLength,
    Rule::KeepAlive,
    Rule::Http11,
    Rule::NoEncoding,
];

impl Rule {
    /// The check name in reports.
    fn name(self) -> &'static str {
        match self {
            Rule::Server => "Server header",
            Rule::Date => "Date header",
            Rule::ContentType => "Content-Type header",
            Rule::ContentLength => "Content-Length matches body",
            Rule::KeepAlive => "keep-alive (no Connection: close)",
            Rule::Http11 => "HTTP/1.1",
            Rule::NoEncoding => "no Content-Encoding despite Accept-Encoding: gzip",
        }
    }
}

/// Per endpoint, per rule: requests seen and the ones that broke it.
#[derive(Debug, Default)]
pub(crate) struct HeaderTally {
    seen: BTreeMap<String, usize>,
    broken: BTreeMap<(String, Rule), Vec<String>>,
}

impl HeaderTally {
    /// Applies every rule to one response of `endpoint` (requested as
    /// `path`).
    pub fn observe(&mut self, endpoint: &str, path: &str, f: &Fetched) {
        *self.seen.entry(endpoint.to_string()).or_default() += 1;
        for rule in RULES {
            if let Err(why) = apply(rule, f) {
                self.broken
                    .entry((endpoint.to_string(), rule))
                    .or_default()
                    .push(format!("GET {path}: {why}"));
            }
        }
    }

    /// One result per endpoint seen and rule.
    pub fn results(&self, target: &str) -> Vec<CheckResult> {
        let mut out = Vec::new();
        for endpoint in self.seen.keys() {
            for rule in RULES {
                let broken = self.broken.get(&(endpoint.clone(), rule));
                let detail = broken.map(|b| summarize(b)).unwrap_or_default();
                out.push(CheckResult {
                    target: target.to_string(),
                    endpoint: endpoint.clone(),
                    check: rule.name().to_string(),
                    passed: broken.is_none(),
                    verifiable: true,
                    detail,
                    queries: None,
                });
            }
        }
        out
    }
}

/// The first few offending requests, and how many more.
fn summarize(broken: &[String]) -> String {
    const SHOWN: usize = 3;
    let mut s = broken
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if broken.len() > SHOWN {
        s.push_str(&format!(" (and {} more)", broken.len() - SHOWN));
    }
    s
}

fn apply(rule: Rule, f: &Fetched) -> Result<(), String> {
    let present = |name: &str| {
        if f.headers.get(name).is_some_and(|v| !v.is_empty()) {
            Ok(())
        } else {
            Err(format!("no {name} header"))
        }
    };
    match rule {
        Rule::Server => present("Server"),
        Rule::Date => {
            present("Date")?;
            // IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
            let date = f.header("date");
            if date.len() == 29 && date.ends_with(" GMT") {
                Ok(())
            } else {
                Err(format!("Date {date:?} is not an IMF-fixdate"))
            }
        }
        Rule::ContentType => present("Content-Type"),
        Rule::ContentLength => {
            present("Content-Length")?;
            let cl = f.header("content-length");
            match cl.trim().parse::<usize>() {
                Ok(n) if n == f.body.len() => Ok(()),
                _ => Err(format!(
                    "Content-Length {cl:?} but the body has {} bytes",
                    f.body.len()
                )),
            }
        }
        Rule::KeepAlive => {
            let conn = f.header("connection");
            if conn
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("close"))
            {
                Err(format!("Connection: {conn}"))
            } else {
                Ok(())
            }
        }
        Rule::Http11 => {
            if f.version == reqwest::Version::HTTP_11 {
                Ok(())
            } else {
                Err(format!("answered with {:?}", f.version))
            }
        }
        Rule::NoEncoding => match f.headers.get("content-encoding") {
            None => Ok(()),
            Some(v) => Err(format!("Content-Encoding: {}", v.to_str().unwrap_or("?"))),
        },
    }
}
