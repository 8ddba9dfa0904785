//! `bakeoff fanout` against the in-process broadcast server
//! (`util::server::broadcast`): exact delivery counts, latency that grows
//! with a slowed server, a subscriber dropped mid-step, refused
//! connections, and bad input refused with exit 2.

use std::process::Command;
use std::time::Duration;

use crate::util::server::broadcast::{BroadcastServer, Faults};
use crate::util::server::refused_addr;

fn bakeoff(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .args(args)
        .output()
        .unwrap()
}

/// `bakeoff fanout URL ARGS... --quiet --format json`, which must exit 0.
fn fanout_json(url: &str, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["fanout", url];
    all.extend_from_slice(args);
    all.extend(["--quiet", "--format", "json"]);
    let out = bakeoff(&all);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "fanout failed: {stderr}");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{stderr}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn count(v: &serde_json::Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("no count {key} in {v}"))
}

fn p99(v: &serde_json::Value) -> u64 {
    v["latency_us"]["p99"]
        .as_u64()
        .unwrap_or_else(|| panic!("no delivery p99 in {v}"))
}

#[test]
fn every_subscriber_gets_every_message() {
    let _area = crate::util::area(module_path!());
    let server = BroadcastServer::start(Faults::default());
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("r.json");
    let results_arg = results.to_str().unwrap();
    let v = fanout_json(
        &server.url(),
        &[
            "--subscribers",
            "200",
            "--rate",
            "50",
            "-d",
            "3s",
            "--output",
            results_arg,
        ],
    );
    let published = count(&v, "published");
    // 50 msg/s for 3 s on the open model's schedule: tickets 0..150.
    assert_eq!(published, 150, "{v}");
    assert_eq!(
        server.received(),
        published,
        "server saw what was published"
    );
    assert_eq!(count(&v, "connected"), 200, "{v}");
    assert_eq!(server.connections(), 200, "every subscriber upgraded once");
    assert_eq!(count(&v, "expected"), published * 200, "{v}");
    assert_eq!(count(&v, "delivered"), published * 200, "{v}");
    assert_eq!(count(&v, "lost"), 0, "{v}");
    assert_eq!(count(&v, "duplicated"), 0, "{v}");
    assert_eq!(v["errors_by_kind"], serde_json::json!({}), "{v}");
    for k in ["min", "p50", "p90", "p99", "p999", "max"] {
        assert!(
            v["latency_us"][k].as_u64().is_some_and(|us| us > 0),
            "{k}: {v}"
        );
    }
    // --output: one fan-out step in the results schema, which `report` reads.
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    let step = &file["steps"][0];
    assert_eq!(step["model"], "fanout", "{step}");
    assert_eq!(step["level"], 200, "{step}");
    assert_eq!(step["summary"]["fanout"]["delivered"], published * 200);
    assert_eq!(step["summary"]["latency_us"], v["latency_us"]);
    let rep = dir.path().join("rep");
    let out = bakeoff(&["report", results_arg, "--out", rep.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = std::fs::read_to_string(rep.join("report.md")).unwrap();
    assert!(md.contains("deliveries per second"), "{md}");
}

#[test]
fn delivery_latency_grows_when_the_server_is_slowed() {
    let _area = crate::util::area(module_path!());
    let args = ["--subscribers", "20", "--rate", "20", "-d", "2s"];
    let fast = BroadcastServer::start(Faults::default());
    let quick = fanout_json(&fast.url(), &args);
    drop(fast);
    let slow = BroadcastServer::start(Faults {
        delay: Duration::from_millis(20),
        ..Faults::default()
    });
    let slowed = fanout_json(&slow.url(), &args);
    for v in [&quick, &slowed] {
        assert_eq!(count(v, "lost"), 0, "{v}");
        assert_eq!(count(v, "delivered"), count(v, "published") * 20, "{v}");
    }
    // Every message waits 20 ms in the slowed server before it goes out,
    // and latency counts from the intended send time: p99 ≥ 20 ms.
    assert!(p99(&slowed) >= 20_000, "slowed p99 {}", p99(&slowed));
    assert!(
        p99(&slowed) > p99(&quick),
        "slowed p99 {} vs {}",
        p99(&slowed),
        p99(&quick)
    );
}

#[test]
fn a_subscriber_dropped_mid_step_is_counted_and_its_deliveries_lost() {
    let _area = crate::util::area(module_path!());
    let server = BroadcastServer::start(Faults {
        drop_one_after: Some(10),
        ..Faults::default()
    });
    let v = fanout_json(
        &server.url(),
        &["--subscribers", "10", "--rate", "20", "-d", "2s"],
    );
    assert_eq!(server.dropped(), 1);
    assert_eq!(v["errors_by_kind"]["dropped"], 1, "{v}");
    let (expected, delivered, lost) = (
        count(&v, "expected"),
        count(&v, "delivered"),
        count(&v, "lost"),
    );
    assert_eq!(delivered + lost, expected, "{v}");
    // The dropped subscriber got the first 10 of the 40 messages, the
    // other 9 all of them; its other 30 deliveries are lost.
    assert_eq!(count(&v, "published"), 40, "{v}");
    assert_eq!(count(&v, "connected"), 10, "{v}");
    assert_eq!(expected, 40 * 10, "{v}");
    assert_eq!(delivered, 9 * 40 + 10, "{v}");
    assert_eq!(lost, 30, "{v}");
    assert_eq!(count(&v, "duplicated"), 0, "{v}");
}

#[test]
fn refused_connections_are_counted_and_nothing_has_a_latency() {
    let addr = refused_addr();
    let url = format!("ws://{addr}/ws/fanout");
    let v = fanout_json(&url, &["--subscribers", "3", "-d", "1s"]);
    assert_eq!(v["errors_by_kind"]["connect"], 3, "{v}");
    assert_eq!(count(&v, "connected"), 0, "{v}");
    assert_eq!(count(&v, "published"), 0, "{v}");
    assert_eq!(count(&v, "delivered"), 0, "{v}");
    assert!(v["latency_us"].is_null(), "no delivery, no latency: {v}");
}

#[test]
fn bad_fanout_input_exits_2_naming_the_flag_or_value() {
    let cases: [(&[&str], &str); 6] = [
        (&["http://127.0.0.1:1/ws/fanout"], "ws://"),
        (&["ws://example.com/ws/fanout"], "example.com"),
        (
            &["ws://127.0.0.1:1/ws/fanout", "--subscribers", "0"],
            "--subscribers",
        ),
        (&["ws://127.0.0.1:1/ws/fanout", "--rate", "-3"], "--rate"),
        (
            &[
                "ws://127.0.0.1:1/ws/fanout",
                "--subscribers",
                "2",
                "--publishers",
                "3",
            ],
            "--publishers",
        ),
        (&["ws://127.0.0.1:1/ws/fanout", "-d", "0s"], "--duration"),
    ];
    for (args, named) in cases {
        let mut all = vec!["fanout"];
        all.extend_from_slice(args);
        let out = bakeoff(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(named),
            "{args:?} should name {named}: {stderr}"
        );
    }
}

#[test]
fn a_fanout_suite_runs_through_the_runner_into_results_and_reports() {
    let _area = crate::util::area(module_path!());
    let server = BroadcastServer::start(Faults::default());
    let tmp = tempfile::tempdir().unwrap();
    let suite = tmp.path().join("fanout.toml");
    std::fs::write(
        &suite,
        "name = \"fanout\"\ntargets = [\"node\"]\n[defaults]\nwarmup = \"0s\"\nduration = \"1s\"\n\
         [[scenario]]\nname = \"ws\"\nmodel = \"fanout\"\nsubscribers = [5, 10]\nrate = 10\n\
         path = \"/ws/fanout\"\n",
    )
    .unwrap();
    let out = tmp.path().join("run");
    let run = Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .arg("run")
        .arg(&suite)
        .args(["--targets", "external", "--url"])
        .arg(format!("node=http://{}", server.addr))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = std::fs::read_to_string(out.join("results.json")).unwrap();
    let results: serde_json::Value = serde_json::from_str(&text).unwrap();
    let steps = results["steps"].as_array().unwrap();
    let levels: Vec<u64> = steps.iter().map(|s| count(s, "level")).collect();
    assert_eq!(levels, [5, 10]);
    for s in steps {
        assert_eq!(s["model"], "fanout", "{s}");
        let f = &s["summary"]["fanout"];
        let level = count(s, "level");
        assert_eq!(count(f, "published"), 10, "{f}");
        assert_eq!(count(f, "connected"), level, "{f}");
        assert_eq!(count(f, "delivered"), 10 * level, "{f}");
        assert_eq!(count(f, "lost"), 0, "{f}");
        // The summary's population is the deliveries.
        assert_eq!(count(&s["summary"], "requests"), 10 * level);
        assert!(s["summary"]["latency_us"]["p99"].as_u64().is_some());
    }
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("ws"),
        "the report lists the fan-out scenario"
    );
}

/// Peak resident memory (KiB) of a finished child, from wait4's rusage.
fn run_measuring_peak_rss(args: &[&str]) -> (std::process::Output, i64) {
    use std::os::unix::process::ExitStatusExt;
    let child = Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut stdout = child.stdout.unwrap();
    let mut stderr = child.stderr.unwrap();
    // Read both pipes on threads so the child never blocks on a full one.
    let out = std::thread::spawn(move || {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut b).unwrap();
        b
    });
    let err = std::thread::spawn(move || {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut stderr, &mut b).unwrap();
        b
    });
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our child, not yet reaped; the pointers are to locals.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4");
    let output = std::process::Output {
        status: std::process::ExitStatus::from_raw(status),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    };
    (output, usage.ru_maxrss)
}

/// Raises this process's soft open-file limit to its hard limit: the
/// in-test server holds one socket per subscriber.
fn raise_open_files(needed: u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write the struct we own.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        if limit.rlim_cur < needed {
            limit.rlim_cur = limit.rlim_max.min(needed.max(limit.rlim_cur));
            assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
        }
    }
    assert!(
        limit.rlim_cur >= needed,
        "this test needs {needed} open files; the hard limit is {}",
        limit.rlim_max
    );
}

#[test]
fn five_thousand_subscribers_fit_in_bounded_memory() {
    let _area = crate::util::area(module_path!());
    raise_open_files(5000 + 512);
    let server = BroadcastServer::start(Faults::default());
    let url = server.url();
    let (out, peak_kib) = run_measuring_peak_rss(&[
        "fanout",
        &url,
        "--subscribers",
        "5000",
        "--connect-rate",
        "2500",
        "--rate",
        "2",
        "-d",
        "2s",
        "--quiet",
        "--format",
        "json",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(count(&v, "connected"), 5000, "{v}");
    assert_eq!(count(&v, "delivered"), count(&v, "published") * 5000, "{v}");
    assert_eq!(count(&v, "lost"), 0, "{v}");
    // A few KiB per subscriber (4 KiB read buffer, task, counters) plus
    // the recorders' histograms; 128 KiB per subscriber (tungstenite's
    // default buffers) would be 640 MB.
    assert!(
        peak_kib < 200 * 1024,
        "peak RSS {} MiB at 5000 subscribers",
        peak_kib / 1024
    );
}

/// A TCP server on loopback that answers every connection with `reply`
/// (None: accepts and says nothing) and keeps it open; it stops accepting
/// after `connections`, its thread ending when the test's listener drops.
fn raw_server(reply: Option<&'static [u8]>, connections: usize) -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().take(connections) {
            let Ok(mut stream) = stream else { continue };
            if let Some(bytes) = reply {
                let _ = std::io::Write::write_all(&mut stream, bytes);
            }
            held.push(stream);
        }
        // Hold the connections until the client gives up on them.
        std::thread::sleep(Duration::from_secs(5));
    });
    addr
}

#[test]
fn a_server_that_will_not_upgrade_fails_the_handshake_and_a_silent_one_times_out() {
    // django-sync's answer to a WebSocket upgrade: WSGI cannot hold one.
    let refuses = raw_server(
        Some(b"HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
        2,
    );
    let v = fanout_json(
        &format!("ws://{refuses}/ws/fanout"),
        &["--subscribers", "2", "-d", "1s", "--timeout", "1s"],
    );
    assert_eq!(v["errors_by_kind"]["handshake"], 2, "{v}");
    assert_eq!(count(&v, "connected"), 0, "{v}");
    assert!(v["latency_us"].is_null(), "{v}");

    let silent = raw_server(None, 2);
    let v = fanout_json(
        &format!("ws://{silent}/ws/fanout"),
        &["--subscribers", "2", "-d", "1s", "--timeout", "1s"],
    );
    assert_eq!(v["errors_by_kind"]["timeout"], 2, "{v}");
    assert_eq!(count(&v, "published"), 0, "{v}");
}
