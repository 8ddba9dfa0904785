//! Counting the queries a target sends, from PostgreSQL's own statistics
//! (`pg_stat_statements`, which the private cluster preloads and
//! docker-compose.yml enables): the one definition of what is counted
//! ([`COUNTS_SQL`]), the counters ([`QueryCounts`]) and how they are read
//! ([`QueryCounter`], a psql command line: the private cluster's psql, or
//! psql inside the compose database service).
//!
//! What counts: top-level statements of the targets' database role in the
//! targets' database whose text names the `world` or `fortune` table,
//! split into reads (statements starting with `SELECT`) and writes (the
//! rest: `UPDATE`, ...), each with its calls and its rows (returned or
//! affected). Connection set-up (`SET`, version and type look-ups),
//! transaction control and the reading query itself name neither table
//! and are left out. `pg_stat_statements` stores a statement's counts as
//! it ends, before the client gets its `ReadyForQuery`, so a snapshot
//! taken after a response arrived includes the queries behind it.
//! `bakeoff check` and a run's steps take the difference of two snapshots
//! ([`QueryCounts::since`]); a run reads them through a psql kept open for
//! the step ([`CounterSession`]), before its first request and after its
//! last, when nothing else queries.

use std::path::Path;
use std::time::Duration;

use super::TargetError;

/// The counters, as one line `reads,read_rows,writes,written_rows`: see
/// the module doc for what counts. Reading them as the targets' role
/// shows that role's statements with their text.
pub const COUNTS_SQL: &str = "SELECT \
    coalesce(sum(calls) FILTER (WHERE query ~* '^\\s*select'), 0), \
    coalesce(sum(rows) FILTER (WHERE query ~* '^\\s*select'), 0), \
    coalesce(sum(calls) FILTER (WHERE query !~* '^\\s*select'), 0), \
    coalesce(sum(rows) FILTER (WHERE query !~* '^\\s*select'), 0) \
    FROM pg_stat_statements \
    WHERE userid = (SELECT oid FROM pg_roles WHERE rolname = current_user) \
    AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
    AND query ~* '\\m(world|fortune)\\M' AND query !~* 'pg_stat_statements'";

/// Statements and rows on `world` and `fortune` so far (module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueryCounts {
    /// `SELECT` statements.
    pub reads: u64,
    /// Rows they returned.
    pub read_rows: u64,
    /// Other statements (`UPDATE`, ...).
    pub writes: u64,
    /// Rows they affected.
    pub written_rows: u64,
}

impl QueryCounts {
    /// What happened between `earlier` and `self` (a counter that went
    /// backwards, after `pg_stat_statements_reset()`, counts from 0).
    pub fn since(&self, earlier: &QueryCounts) -> QueryCounts {
        QueryCounts {
            reads: self.reads.saturating_sub(earlier.reads),
            read_rows: self.read_rows.saturating_sub(earlier.read_rows),
            writes: self.writes.saturating_sub(earlier.writes),
            written_rows: self.written_rows.saturating_sub(earlier.written_rows),
        }
    }

    /// Every statement, reads and writes.
    pub fn queries(&self) -> u64 {
        self.reads + self.writes
    }

    /// Every row, returned or affected.
    pub fn rows(&self) -> u64 {
        self.read_rows + self.written_rows
    }

    /// Parses psql's unaligned, tuples-only output of [`COUNTS_SQL`]
    /// (fields separated by `,`, or psql's default `|`).
    pub fn parse(stdout: &str) -> Result<QueryCounts, String> {
        let line = stdout.lines().map(str::trim).find(|l| !l.is_empty());
        let fields: Option<Vec<u64>> = line.map(|l| {
            l.split([',', '|'])
                .map(|f| f.trim().parse().ok())
                .collect::<Option<Vec<u64>>>()
                .unwrap_or_default()
        });
        match fields.as_deref() {
            Some(&[reads, read_rows, writes, written_rows]) => Ok(QueryCounts {
                reads,
                read_rows,
                writes,
                written_rows,
            }),
            _ => Err(format!(
                "unexpected output of the query counters: {:?}",
                stdout.trim()
            )),
        }
    }
}

/// How to read the counters of one database: a psql command line that
/// prints [`COUNTS_SQL`]'s line. Owns its arguments, so a runner can read
/// it from a task of its own while a step runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryCounter {
    program: String,
    args: Vec<String>,
    /// Given on psql's standard input instead of `-c` (compose's psql
    /// inside the container reads its script there).
    stdin: bool,
}

/// psql's options for one unaligned, headerless result line.
const PSQL_FLAGS: [&str; 5] = [
    "--no-psqlrc",
    "--tuples-only",
    "--no-align",
    "--field-separator=,",
    "--set=ON_ERROR_STOP=1",
];

impl QueryCounter {
    /// `psql` connecting with `url` (the targets' own role and database).
    pub fn psql(psql: &Path, url: &str) -> QueryCounter {
        let mut args: Vec<String> = PSQL_FLAGS.map(String::from).to_vec();
        args.extend(["--command".into(), COUNTS_SQL.into(), url.into()]);
        QueryCounter {
            program: psql.display().to_string(),
            args,
            stdin: false,
        }
    }

    /// A command that runs psql and reads its SQL from standard input
    /// (e.g. compose's `docker compose exec -T postgres ... psql`).
    pub fn with_stdin(command: &[String]) -> Option<QueryCounter> {
        let (program, args) = command.split_first()?;
        Some(QueryCounter {
            program: program.clone(),
            args: args.to_vec(),
            stdin: true,
        })
    }

    /// Reads the counters now. Fails when psql does, e.g. when the
    /// database has no `pg_stat_statements`.
    pub async fn read(&self) -> Result<QueryCounts, TargetError> {
        use tokio::io::AsyncWriteExt as _;
        let fail = |message: String| TargetError::QueryStats { message };
        let mut cmd = tokio::process::Command::new(&self.program);
        cmd.args(&self.args)
            .env("PGCONNECT_TIMEOUT", "10")
            .stdin(if self.stdin {
                std::process::Stdio::piped()
            } else {
                std::process::Stdio::null()
            })
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .map_err(|e| fail(format!("cannot run {}: {e}", self.program)))?;
        if let Some(mut input) = child.stdin.take() {
            let script = format!("{COUNTS_SQL};\n");
            input
                .write_all(script.as_bytes())
                .await
                .map_err(|e| fail(format!("cannot write to {}: {e}", self.program)))?;
        }
        let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
            .await
            .map_err(|_| fail(format!("{} took more than 30 s", self.program)))?
            .map_err(|e| fail(format!("cannot run {}: {e}", self.program)))?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            return Err(fail(stderr.trim().to_string()));
        }
        QueryCounts::parse(&String::from_utf8_lossy(&out.stdout)).map_err(fail)
    }
}

/// A psql kept running for one step: logged in before the step's load, so
/// the reading after it costs a round trip on an open connection rather
/// than a new process and login on a server CPU the next step may already
/// be loading.
#[derive(Debug)]
pub struct CounterSession {
    child: tokio::process::Child,
    input: tokio::process::ChildStdin,
    output: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
    program: String,
}

impl QueryCounter {
    /// Starts psql reading statements from its standard input (the
    /// counter's own command, without `--command`), for
    /// [`CounterSession::read`].
    pub fn session(&self) -> Result<CounterSession, TargetError> {
        use tokio::io::AsyncBufReadExt as _;
        let fail = |message: String| TargetError::QueryStats { message };
        let args: Vec<&String> = match self.args.iter().position(|a| a == "--command") {
            // Leave out `--command SQL`: the session sends it per reading.
            Some(i) => self.args[..i].iter().chain(&self.args[i + 2..]).collect(),
            None => self.args.iter().collect(),
        };
        let mut child = tokio::process::Command::new(&self.program)
            .args(args)
            .env("PGCONNECT_TIMEOUT", "10")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| fail(format!("cannot run {}: {e}", self.program)))?;
        let (Some(input), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(fail(format!("{} has no stdin or stdout", self.program)));
        };
        Ok(CounterSession {
            child,
            input,
            output: tokio::io::BufReader::new(stdout).lines(),
            program: self.program.clone(),
        })
    }
}

impl CounterSession {
    /// Reads the counters now, on the session's connection.
    pub async fn read(&mut self) -> Result<QueryCounts, TargetError> {
        use tokio::io::AsyncWriteExt as _;
        let fail = |message: String| TargetError::QueryStats { message };
        let script = format!("{COUNTS_SQL};\n");
        self.input
            .write_all(script.as_bytes())
            .await
            .map_err(|e| fail(format!("cannot write to {}: {e}", self.program)))?;
        self.input
            .flush()
            .await
            .map_err(|e| fail(format!("cannot write to {}: {e}", self.program)))?;
        let read = async {
            loop {
                match self.output.next_line().await {
                    Ok(Some(line)) if line.trim().is_empty() => continue,
                    Ok(Some(line)) => return QueryCounts::parse(&line).map_err(fail),
                    Ok(None) => {
                        return Err(fail(format!(
                            "{} ended (is pg_stat_statements installed?)",
                            self.program
                        )));
                    }
                    Err(e) => return Err(fail(format!("reading {}: {e}", self.program))),
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(30), read)
            .await
            .map_err(|_| fail(format!("{} took more than 30 s", self.program)))?
    }

    /// Ends psql at once, without a last reading.
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
    }

    /// Ends psql (closing its input ends it; it is killed if it lingers).
    pub async fn close(mut self) {
        drop(self.input);
        if tokio::time::timeout(Duration::from_secs(2), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_parse_and_subtract() {
        let a = QueryCounts::parse("3,3,0,0\n").unwrap();
        let b = QueryCounts::parse(" 26,41,2,20 \n\n").unwrap();
        let d = b.since(&a);
        assert_eq!(
            d,
            QueryCounts {
                reads: 23,
                read_rows: 38,
                writes: 2,
                written_rows: 20
            }
        );
        assert_eq!((d.queries(), d.rows()), (25, 58));
        assert_eq!(a.since(&b), QueryCounts::default());
        assert_eq!(QueryCounts::parse("1|2|0|0").unwrap().rows(), 2);
        assert!(QueryCounts::parse("1,2,3\n").is_err());
        assert!(QueryCounts::parse("").is_err());
        assert!(QueryCounts::parse("a,b,c,d").is_err());
    }

    #[test]
    fn the_counting_query_leaves_itself_out() {
        // It names both tables in its filter, so it must exclude itself.
        assert!(COUNTS_SQL.contains("(world|fortune)"));
        assert!(COUNTS_SQL.contains("!~* 'pg_stat_statements'"));
    }
}
