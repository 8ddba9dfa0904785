//! Finds processes a test's bakeoff left running, through /proc. Shared by
//! the integration tests that check "nothing left behind".

use std::path::Path;
use std::time::{Duration, Instant};

/// Asserts that nothing started for this test is left, allowing `grace`
/// for killed processes to vanish from /proc.
#[allow(dead_code)] // not every test file that includes this module uses it
pub fn assert_none_left(dir: &Path, pid: u32, grace: Duration) {
    let deadline = Instant::now() + grace;
    while !leftovers(dir, pid).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        leftovers(dir, pid),
        Vec::<String>::new(),
        "processes left behind"
    );
}

/// Processes started for this test: any with an open file, or its working
/// directory, under `dir`, or a command line naming it (the state dir of
/// `run` is named after bakeoff's pid).
pub fn leftovers(dir: &Path, pid: u32) -> Vec<String> {
    let me = std::process::id().to_string();
    let state_marker = format!("bakeoff-{pid}-");
    let dir_text = dir.display().to_string();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.chars().all(|c| c.is_ascii_digit()) || name == me {
            continue;
        }
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let holds_file = std::fs::read_dir(entry.path().join("fd"))
            .map(|fds| {
                fds.flatten()
                    .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|t| t.starts_with(dir)))
            })
            .unwrap_or(false);
        let works_there =
            std::fs::read_link(entry.path().join("cwd")).is_ok_and(|c| c.starts_with(dir));
        if holds_file
            || works_there
            || cmdline.contains(&state_marker)
            || cmdline.contains(&dir_text)
        {
            found.push(format!("{name}: {cmdline}"));
        }
    }
    found
}
