//! Direct reads of the targets' PostgreSQL, used to verify that
//! `/updates` persisted what it returned (the contract has no read-by-id
//! endpoint) and to read the query counters around a batch. Runs `psql` from the PostgreSQL 15 bin directory (or PATH)
//! rather than linking a database driver into the harness.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Where `psql` is looked for first; PATH is the fallback.
const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

#[derive(Debug, thiserror::Error)]
pub(crate) enum DbError {
    #[error("cannot run {psql}: {source}")]
    Spawn {
        psql: String,
        source: std::io::Error,
    },
    #[error("psql failed ({status}): {stderr}")]
    Failed { status: String, stderr: String },
    #[error("unexpected psql output line {line:?}")]
    Output { line: String },
}

/// A database URL plus the `psql` to query it with.
#[derive(Debug, Clone)]
pub(crate) struct Database {
    url: String,
    psql: PathBuf,
}

impl Database {
    pub fn new(url: &str) -> Self {
        let bundled = PathBuf::from(PG_BIN).join("psql");
        let psql = if bundled.is_file() {
            bundled
        } else {
            PathBuf::from("psql")
        };
        Database {
            url: url.to_string(),
            psql,
        }
    }

    /// How to read this database's query counters
    /// (`crate::targets::querystats`), with the same psql and URL.
    pub fn query_counter(&self) -> crate::targets::QueryCounter {
        crate::targets::QueryCounter::psql(&self.psql, &self.url)
    }

    /// `randomnumber` of each of `ids` in table `world` (of every row
    /// when `ids` is None), keyed by id. Ids missing from the table are
    /// missing from the map.
    pub async fn world_numbers(&self, ids: Option<&[i64]>) -> Result<BTreeMap<i64, i64>, DbError> {
        let sql = match ids {
            None => "SELECT id, randomnumber FROM world".to_string(),
            Some([]) => return Ok(BTreeMap::new()),
            Some(ids) => {
                // Ids are integers we parsed ourselves, so formatting them
                // into the statement cannot inject anything.
                let list: Vec<String> = ids.iter().map(i64::to_string).collect();
                format!(
                    "SELECT id, randomnumber FROM world WHERE id IN ({})",
                    list.join(",")
                )
            }
        };
        let out = tokio::process::Command::new(&self.psql)
            .arg("--no-psqlrc")
            .arg("--tuples-only")
            .arg("--no-align")
            .arg("--field-separator=,")
            .arg("--set=ON_ERROR_STOP=1")
            .arg("--command")
            .arg(&sql)
            .arg(&self.url)
            .env("PGCONNECT_TIMEOUT", "10")
            .kill_on_drop(true)
            .output()
            .await
            .map_err(|source| DbError::Spawn {
                psql: self.psql.display().to_string(),
                source,
            })?;
        if !out.status.success() {
            return Err(DbError::Failed {
                status: out.status.to_string(),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        parse_pairs(&String::from_utf8_lossy(&out.stdout))
    }
}

/// Parses psql's unaligned `id,number` lines.
fn parse_pairs(stdout: &str) -> Result<BTreeMap<i64, i64>, DbError> {
    let mut map = BTreeMap::new();
    for line in stdout.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let parsed = line
            .split_once(',')
            .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)));
        match parsed {
            Some((id, n)) => {
                map.insert(id, n);
            }
            None => {
                return Err(DbError::Output {
                    line: line.to_string(),
                });
            }
        }
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_unaligned_output() {
        let map = parse_pairs("17,4021\n9999,1\n\n").unwrap();
        assert_eq!(map.get(&17), Some(&4021));
        assert_eq!(map.get(&9999), Some(&1));
        assert!(parse_pairs("17|4021\n").is_err());
    }
}
