//! Queries counted: for every database endpoint (ORM and `/raw/` twin),
//! `bakeoff check` reads the database's query counters
//! (`crate::targets::querystats`) before and after a fixed batch of
//! requests and compares the queries and rows per request with what
//! targets/API.md allows (TechEmpower's rules: one query per world read,
//! no cache, no N+1; `/updates` may batch its writes). A target that sends
//! fewer queries than it reads rows caches; one that sends more runs N+1.

use serde::Serialize;

use super::fortunes::TECHEMPOWER_FORTUNES;
use crate::targets::QueryCounts;

/// Requests per endpoint in one counted batch.
pub(crate) const BATCH: u64 = 10;

/// Rows `/queries` and `/updates` are asked for in the batch.
pub(crate) const ROWS: u64 = 20;

/// What one request of an endpoint may send (targets/API.md, "Queries
/// per request").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Allowed {
    /// `SELECT`s: exactly this many.
    pub reads: u64,
    /// Rows they return: exactly this many.
    pub read_rows: u64,
    /// Writes: at least `writes_min`, at most `writes_max`.
    pub writes_min: u64,
    pub writes_max: u64,
    /// Rows the writes change: exactly this many.
    pub written_rows: u64,
}

impl Allowed {
    const fn reads(reads: u64, rows: u64) -> Allowed {
        Allowed {
            reads,
            read_rows: rows,
            writes_min: 0,
            writes_max: 0,
            written_rows: 0,
        }
    }

    /// "1 read, 1 row", "20 reads + 1–20 writes, 40 rows".
    pub fn describe(&self) -> String {
        let plural =
            |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let mut s = plural(self.reads, "read", "reads");
        if self.writes_max > 0 {
            if self.writes_min == self.writes_max {
                s.push_str(&format!(
                    " + {}",
                    plural(self.writes_min, "write", "writes")
                ));
            } else {
                s.push_str(&format!(
                    " + {}–{} writes",
                    self.writes_min, self.writes_max
                ));
            }
        }
        let rows = self.read_rows + self.written_rows;
        format!("{s}, {}", plural(rows, "row", "rows"))
    }
}

/// The database endpoints in contract order, each with the request sent
/// in the batch and what it may cost; the `/raw/` twins share the rules.
pub(crate) fn endpoints() -> Vec<(&'static str, String, Allowed)> {
    let fortunes = TECHEMPOWER_FORTUNES.len() as u64;
    let mut out = Vec::new();
    for (ep, raw) in [
        ("/db", "/raw/db"),
        ("/queries", "/raw/queries"),
        ("/fortunes", "/raw/fortunes"),
        ("/updates", "/raw/updates"),
    ] {
        let (query, allowed) = match ep {
            "/db" => (String::new(), Allowed::reads(1, 1)),
            "/queries" => (format!("?queries={ROWS}"), Allowed::reads(ROWS, ROWS)),
            "/fortunes" => (String::new(), Allowed::reads(1, fortunes)),
            _ => (
                format!("?queries={ROWS}"),
                Allowed {
                    reads: ROWS,
                    read_rows: ROWS,
                    writes_min: 1,
                    writes_max: ROWS,
                    written_rows: ROWS,
                },
            ),
        };
        out.push((ep, query.clone(), allowed));
        out.push((raw, query, allowed));
    }
    out
}

/// What one endpoint's batch cost, per request: the figures `check`
/// prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueryFigures {
    /// The request sent, e.g. "/queries?queries=20".
    pub request: String,
    /// Requests in the batch (all answered 200).
    pub requests: u64,
    /// Statements on `world` / `fortune` per request, reads and writes.
    pub queries_per_request: f64,
    /// Rows returned or affected per request.
    pub rows_per_request: f64,
    pub reads: u64,
    pub read_rows: u64,
    pub writes: u64,
    pub written_rows: u64,
    /// What the contract allows per request.
    pub allowed: Allowed,
}

impl QueryFigures {
    pub fn new(request: String, requests: u64, counts: QueryCounts, allowed: Allowed) -> Self {
        let per = |n: u64| n as f64 / requests.max(1) as f64;
        QueryFigures {
            request,
            requests,
            queries_per_request: per(counts.queries()),
            rows_per_request: per(counts.rows()),
            reads: counts.reads,
            read_rows: counts.read_rows,
            writes: counts.writes,
            written_rows: counts.written_rows,
            allowed,
        }
    }

    /// Ok when the batch sent exactly what the contract allows; else why
    /// not, naming caching or N+1.
    pub fn judge(&self) -> Result<(), String> {
        let a = &self.allowed;
        let n = self.requests;
        let mut wrong = Vec::new();
        let mut exact = |what: &str, got: u64, per: u64| {
            if got != per * n {
                wrong.push(format!(
                    "{what} {} per request, expected {per}",
                    per_request(got, n)
                ));
            }
        };
        exact("reads", self.reads, a.reads);
        exact("rows read", self.read_rows, a.read_rows);
        exact("rows written", self.written_rows, a.written_rows);
        if self.writes < a.writes_min * n || self.writes > a.writes_max * n {
            wrong.push(format!(
                "writes {} per request, expected {}",
                per_request(self.writes, n),
                if a.writes_min == a.writes_max {
                    a.writes_min.to_string()
                } else {
                    format!("{} to {}", a.writes_min, a.writes_max)
                }
            ));
        }
        if wrong.is_empty() {
            return Ok(());
        }
        let reads_expected = a.reads * n;
        let why = if self.reads < reads_expected || self.writes < a.writes_min * n {
            " (fewer queries than rows served: a cache or batched reads)"
        } else if self.reads > reads_expected || self.writes > a.writes_max * n {
            " (more queries than the rows need: N+1)"
        } else {
            ""
        };
        Err(format!(
            "{} over {n} × {}{why}",
            wrong.join("; "),
            self.request
        ))
    }
}

/// `total / n` with up to two decimals ("1", "0.1", "13").
pub(crate) fn per_request(total: u64, n: u64) -> String {
    let v = total as f64 / n.max(1) as f64;
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(ep: &str, counts: QueryCounts) -> QueryFigures {
        let (_, query, allowed) = endpoints().into_iter().find(|(e, _, _)| *e == ep).unwrap();
        QueryFigures::new(format!("{ep}{query}"), BATCH, counts, allowed)
    }

    fn counts(reads: u64, read_rows: u64, writes: u64, written_rows: u64) -> QueryCounts {
        QueryCounts {
            reads,
            read_rows,
            writes,
            written_rows,
        }
    }

    #[test]
    fn exact_counts_pass_and_writes_may_batch() {
        assert_eq!(figures("/db", counts(10, 10, 0, 0)).judge(), Ok(()));
        assert_eq!(
            figures("/raw/fortunes", counts(10, 120, 0, 0)).judge(),
            Ok(())
        );
        let batched = figures("/updates", counts(200, 200, 10, 200));
        assert_eq!(batched.judge(), Ok(()));
        assert_eq!(batched.queries_per_request, 21.0);
        assert_eq!(batched.rows_per_request, 40.0);
        assert_eq!(
            figures("/updates", counts(200, 200, 200, 200)).judge(),
            Ok(())
        );
    }

    #[test]
    fn a_cache_and_n_plus_one_are_named() {
        // The whole table loaded once, then served from memory.
        let cached = figures("/db", counts(1, 10_000, 0, 0)).judge().unwrap_err();
        assert!(
            cached.contains("reads 0.1 per request, expected 1"),
            "{cached}"
        );
        assert!(cached.contains("a cache"), "{cached}");
        assert!(cached.contains("10 × /db"), "{cached}");
        // The ids first, then one query per fortune.
        let n1 = figures("/fortunes", counts(130, 132, 0, 0))
            .judge()
            .unwrap_err();
        assert!(n1.contains("reads 13 per request, expected 1"), "{n1}");
        assert!(n1.contains("N+1"), "{n1}");
        let unbatched = figures("/updates", counts(200, 200, 400, 200))
            .judge()
            .unwrap_err();
        assert!(
            unbatched.contains("writes 40 per request, expected 1 to 20"),
            "{unbatched}"
        );
        let no_write = figures("/updates", counts(200, 200, 0, 0))
            .judge()
            .unwrap_err();
        assert!(
            no_write.contains("rows written 0 per request"),
            "{no_write}"
        );
    }

    #[test]
    fn rules_read_as_sentences() {
        let e = endpoints();
        assert_eq!(e.len(), 8);
        assert_eq!(e[0].2.describe(), "1 read, 1 row");
        assert_eq!(e[4].2.describe(), "1 read, 12 rows");
        assert_eq!(e[6].2.describe(), "20 reads + 1–20 writes, 40 rows");
        assert_eq!(per_request(1, 10), "0.1");
        assert_eq!(per_request(130, 10), "13");
        assert_eq!(per_request(205, 10), "20.5");
    }
}
