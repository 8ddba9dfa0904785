//! HTTPS and HTTP/2 against a real server: Debian's nginx-light on
//! loopback, with a CA and a server certificate made by the `openssl` CLI
//! at test time. nginx's access log is the independent count: what `load`
//! reports must be exactly what nginx logged, over the protocol asked for.
//! `.ci/run` installs both tools; a machine without them fails here with
//! the tool's name rather than skipping.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A private nginx with three listeners: TLS with HTTP/1.1 only, TLS
/// offering h2 by ALPN, and cleartext h2 (prior knowledge).
struct Nginx {
    dir: tempfile::TempDir,
    child: Child,
    tls_h1: u16,
    tls_h2: u16,
    h2c: u16,
}

impl Nginx {
    fn start() -> Nginx {
        let dir = tempfile::tempdir().unwrap();
        make_certificates(dir.path());
        let [tls_h1, tls_h2, h2c] = [free_port(), free_port(), free_port()];
        let d = dir.path().display();
        let conf = format!(
            "worker_processes 1;\n\
             pid {d}/nginx.pid;\n\
             error_log {d}/error.log warn;\n\
             daemon off;\n\
             events {{ worker_connections 512; }}\n\
             http {{\n\
               log_format proto '$server_port $server_protocol $status';\n\
               access_log {d}/access.log proto;\n\
               client_body_temp_path {d}/tmp-body;\n\
               proxy_temp_path {d}/tmp-proxy;\n\
               fastcgi_temp_path {d}/tmp-fastcgi;\n\
               uwsgi_temp_path {d}/tmp-uwsgi;\n\
               scgi_temp_path {d}/tmp-scgi;\n\
               keepalive_requests 100000;\n\
               ssl_certificate {d}/server.crt;\n\
               ssl_certificate_key {d}/server.key;\n\
               server {{ listen 127.0.0.1:{tls_h1} ssl; location / {{ return 200 \"ok\\n\"; }} }}\n\
               server {{ listen 127.0.0.1:{tls_h2} ssl http2; location / {{ return 200 \"ok\\n\"; }} }}\n\
               server {{ listen 127.0.0.1:{h2c} http2; location / {{ return 200 \"ok\\n\"; }} }}\n\
             }}\n"
        );
        let conf_path = dir.path().join("nginx.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let child = Command::new(nginx_binary())
            .arg("-p")
            .arg(dir.path())
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .arg("-c")
            .arg(&conf_path)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting nginx (apt install nginx-light)");
        let nginx = Nginx {
            dir,
            child,
            tls_h1,
            tls_h2,
            h2c,
        };
        nginx.wait_listening();
        nginx
    }

    fn wait_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        for port in [self.tls_h1, self.tls_h2, self.h2c] {
            while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                let log = std::fs::read_to_string(self.dir.path().join("error.log"));
                assert!(
                    Instant::now() < deadline,
                    "nginx did not listen on {port} within 10 s: {log:?}"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    /// The access log's lines for one listener: "PROTOCOL STATUS".
    fn logged(&self, port: u16) -> Vec<String> {
        let log = std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default();
        let prefix = format!("{port} ");
        log.lines()
            .filter_map(|l| l.strip_prefix(&prefix))
            .map(String::from)
            .collect()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // Our own child, by PID: its workers leave with the master.
        let _ = Command::new("kill")
            .arg("-QUIT")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn nginx_binary() -> PathBuf {
    for p in ["/usr/sbin/nginx", "/usr/bin/nginx"] {
        if Path::new(p).exists() {
            return p.into();
        }
    }
    panic!("nginx is not installed (apt install nginx-light; .ci/run installs it)");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A CA and a server certificate for IP 127.0.0.1 signed by it (P-256).
fn make_certificates(dir: &Path) {
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let steps: [Vec<&str>; 3] = [
        [
            &["req", "-x509"][..],
            &ec,
            &["-keyout", "ca.key", "-out", "ca.crt"],
        ]
        .concat()
        .into_iter()
        .chain(["-days", "2", "-subj", "/CN=bakeoff test CA"])
        .collect(),
        [
            &["req"][..],
            &ec,
            &["-keyout", "server.key", "-out", "server.csr"],
        ]
        .concat()
        .into_iter()
        .chain(["-subj", "/CN=127.0.0.1"])
        .collect(),
        vec![
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    ];
    for args in steps {
        let out = Command::new("openssl")
            .args(&args)
            .current_dir(dir)
            .output()
            .expect("running openssl (apt install openssl; .ci/run installs it)");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// `bakeoff load URL ARGS... --quiet --warmup 0 --output F`: exit code,
/// stderr and the results (when written).
fn load(url: &str, args: &[&str]) -> (i32, String, Option<serde_json::Value>) {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("r.json");
    let out = Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .args(["load", url])
        .args(args)
        .args(["--quiet", "--warmup", "0", "--output"])
        .arg(&results)
        .output()
        .unwrap();
    let json = std::fs::read(&results)
        .ok()
        .map(|b| serde_json::from_slice(&b).unwrap());
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        json,
    )
}

/// Every logged line is `want` (the first few others shown if not).
fn assert_all(logged: &[String], want: &str) {
    let other: Vec<_> = logged.iter().filter(|l| *l != want).take(3).collect();
    assert!(
        other.is_empty(),
        "{} of {} lines are not {want:?}, e.g. {other:?}",
        logged.iter().filter(|l| *l != want).count(),
        logged.len()
    );
}

/// The one step's summary.
fn summary(results: &serde_json::Value) -> &serde_json::Value {
    &results["steps"][0]["summary"]
}

#[test]
fn https_with_insecure_counts_what_nginx_logged() {
    let _gate = crate::util::area(module_path!());
    let nginx = Nginx::start();
    let url = format!("https://127.0.0.1:{}/", nginx.tls_h1);
    let (code, stderr, results) = load(&url, &["--insecure", "-c", "4", "-d", "2s"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("--insecure"),
        "the warning is loud: {stderr}"
    );
    let results = results.unwrap();
    let s = summary(&results);
    let logged = nginx.logged(nginx.tls_h1);
    assert!(s["requests"].as_u64().unwrap() > 100, "{s}");
    assert_eq!(s["requests"].as_u64().unwrap(), logged.len() as u64, "{s}");
    assert_all(&logged, "HTTP/1.1 200");
    assert_eq!(s["errors"].as_u64(), Some(0), "{s}");
    let t = &s["transport"];
    assert_eq!(t["scheme"], "https", "{t}");
    assert_eq!(t["http_version"], "HTTP/1.1", "{t}");
    assert_eq!(t["insecure"], true, "{t}");
    // Four connections, each set up once: TCP and TLS handshakes apart from
    // the requests' latency.
    let connect = &s["connect_us"];
    assert_eq!(connect["count"].as_u64(), Some(4), "{connect}");
    assert!(connect["p50"].as_u64().unwrap() > 0, "{connect}");
}

#[test]
fn an_untrusted_certificate_is_refused_and_cacert_trusts_it() {
    let _gate = crate::util::area(module_path!());
    let nginx = Nginx::start();
    let url = format!("https://127.0.0.1:{}/", nginx.tls_h1);
    let (code, stderr, results) = load(&url, &["-c", "2", "-d", "1s"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(&url), "names the URL: {stderr}");
    assert!(
        stderr.contains("not trusted") && stderr.contains("--cacert"),
        "names the certificate problem and the way out: {stderr}"
    );
    assert!(results.is_none(), "nothing was measured");
    assert!(nginx.logged(nginx.tls_h1).is_empty());

    let cacert = nginx.ca();
    let (code, stderr, results) = load(
        &url,
        &["--cacert", cacert.to_str().unwrap(), "-c", "2", "-d", "1s"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("NOT verified"), "{stderr}");
    let results = results.unwrap();
    let s = summary(&results);
    assert_eq!(s["transport"]["insecure"], false, "{s}");
    assert_eq!(
        s["requests"].as_u64().unwrap(),
        nginx.logged(nginx.tls_h1).len() as u64,
        "{s}"
    );

    // A --cacert that is not a certificate: exit 2 naming the file.
    let junk = nginx.dir.path().join("nginx.conf");
    let (code, stderr, _) = load(&url, &["--cacert", junk.to_str().unwrap(), "-d", "1s"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("nginx.conf"), "{stderr}");
}

#[test]
fn http2_over_alpn_and_prior_knowledge_is_what_nginx_logged() {
    let _gate = crate::util::area(module_path!());
    let nginx = Nginx::start();
    let cacert = nginx.ca();
    let tls = format!("https://127.0.0.1:{}/", nginx.tls_h2);
    let (code, stderr, results) = load(
        &tls,
        &[
            "--http2",
            "--cacert",
            cacert.to_str().unwrap(),
            "-c",
            "2",
            "-d",
            "2s",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let results = results.unwrap();
    let s = summary(&results);
    let logged = nginx.logged(nginx.tls_h2);
    assert!(!logged.is_empty());
    assert_all(&logged, "HTTP/2.0 200");
    assert_eq!(s["requests"].as_u64().unwrap(), logged.len() as u64, "{s}");
    assert_eq!(s["transport"]["http_version"], "HTTP/2", "{s}");

    // Cleartext h2c by prior knowledge, 4 streams on each of 2 connections.
    let h2c = format!("http://127.0.0.1:{}/", nginx.h2c);
    let (code, stderr, results) = load(&h2c, &["--http2", "--streams", "4", "-c", "2", "-d", "2s"]);
    assert_eq!(code, 0, "{stderr}");
    let results = results.unwrap();
    let s = summary(&results);
    let logged = nginx.logged(nginx.h2c);
    assert_all(&logged, "HTTP/2.0 200");
    assert_eq!(s["requests"].as_u64().unwrap(), logged.len() as u64, "{s}");
    assert_eq!(s["errors"].as_u64(), Some(0), "{s}");
    assert_eq!(s["transport"]["streams"].as_u64(), Some(4), "{s}");
    assert_eq!(
        s["connect_us"]["count"].as_u64(),
        Some(2),
        "two connections carry the eight streams: {s}"
    );

    // --streams without --http2 is refused before any request.
    let (code, stderr, _) = load(&h2c, &["--streams", "4", "-d", "1s"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--streams 4 needs --http2"), "{stderr}");
}
