//! A test server in a child process, for a server whose process dies: the
//! test binary re-invoked on one of its own tests, which becomes the
//! server when [`CHILD_EXIT_AFTER_ENV`] is set (see [`child_mode`]).

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::{Behaviour, Builder, TestServer};

/// Set in a child process: serve, and exit on request N + 1; `never` for
/// a healthy child.
pub const CHILD_EXIT_AFTER_ENV: &str = "BAKEOFF_FAULT_CHILD_EXIT_AFTER";
/// The line a child prints once it listens, followed by its address.
const LISTENING: &str = "BAKEOFF_FAULT_CHILD_LISTENING=";

/// In a child process started by [`ChildServer`] (or by bakeoff from a
/// targets.toml), the server it is to be: healthy, or answering N
/// requests and exiting the process on the next.
pub fn child_mode() -> Option<Builder> {
    let value = std::env::var(CHILD_EXIT_AFTER_ENV).ok()?;
    Some(match value.as_str() {
        "never" => TestServer::builder(),
        n => TestServer::builder()
            .healthy_first(n.parse().expect("a number of requests or \"never\""))
            .fallback(Behaviour::ExitProcess),
    })
}

/// The child process's server: binds `$HOST:$PORT` (127.0.0.1:0 by
/// default), prints its address and serves until the process ends.
pub fn run_child(server: Builder) -> ! {
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let port = std::env::var("PORT").unwrap_or_else(|_| "0".into());
    let addr = std::net::ToSocketAddrs::to_socket_addrs(&format!("{host}:{port}"))
        .unwrap()
        .next()
        .unwrap();
    let server = server.bind(addr).start();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{LISTENING}{}", server.addr);
    let _ = out.flush();
    drop(out);
    loop {
        std::thread::park();
    }
}

/// A server in a child process (this test binary, re-invoked on the test
/// `test_name`, which must call [`child_mode`] / [`run_child`] first).
/// Killed when dropped if it is still running.
pub struct ChildServer {
    child: Child,
    pub addr: SocketAddr,
}

impl ChildServer {
    /// Starts a child that answers `exit_after` requests and exits on the next.
    pub fn spawn(test_name: &str, exit_after: u64) -> ChildServer {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([test_name, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_EXIT_AFTER_ENV, exit_after.to_string())
            .env("HOST", "127.0.0.1")
            .env("PORT", "0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        // Reads the address, then drains stdout until the child ends so
        // it never writes into a closed pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // libtest may have written "test NAME ... " on the same line.
                if let Some((_, addr)) = line.split_once(LISTENING) {
                    let _ = tx.send(addr.trim().parse::<SocketAddr>().unwrap());
                }
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(addr) => addr,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the child server did not report its address: {e}");
            }
        };
        ChildServer { child, addr }
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Waits up to `limit` for the child to exit.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // Our own child, by its pid.
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}
