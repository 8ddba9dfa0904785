//! Support shared by the integration tests: the one test server, /proc
//! inspection, synthetic results, reading generated reports, and the gate
//! that keeps heavy areas from running at the same time.

pub mod fixtures;
pub mod procs;
pub mod report;
pub mod server;

use std::sync::{Condvar, Mutex, PoisonError};

/// Which heavy area is running tests, and how many.
struct Gate {
    area: Option<String>,
    inside: usize,
}

static GATE: Mutex<Gate> = Mutex::new(Gate {
    area: None,
    inside: 0,
});
static GATE_OPEN: Condvar = Condvar::new();

/// Held by a test of a heavy area for its whole run; see [`area`].
#[must_use = "the gate is held only while the guard lives"]
pub struct AreaGuard;

/// Waits until no test of another heavy area is running, then lets this
/// one in: tests of one area run in parallel with each other (and with the
/// light areas), never beside those of another heavy area. The areas that
/// drive load, time signals or start real servers (apps, check, engine,
/// environment, faults, lifecycle, run) were written for a machine shared
/// only with their own area's tests, as when each was its own binary; on
/// two cores, an engine measurement beside a real-target run misses its
/// bounds. Call with `module_path!()`; the area is the module under the
/// crate root (`tests::lifecycle::database` → `lifecycle`).
pub fn area(module_path: &str) -> AreaGuard {
    enter(module_path.split("::").nth(1).unwrap_or(module_path))
}

fn enter(area: &str) -> AreaGuard {
    let mut gate = GATE.lock().unwrap_or_else(PoisonError::into_inner);
    while gate.area.as_deref().is_some_and(|a| a != area) {
        gate = GATE_OPEN.wait(gate).unwrap_or_else(PoisonError::into_inner);
    }
    gate.area = Some(area.to_string());
    gate.inside += 1;
    AreaGuard
}

/// Like [`area`], but an area of its own: the test runs beside no other
/// test of any heavy area, its own included. For measurements whose bound
/// is a few milliseconds of p99 per second (the surge tests), which a
/// second load test on two cores moves past the bound. The area is the
/// test's name (libtest names each test's thread after it).
pub fn alone() -> AreaGuard {
    let name = std::thread::current()
        .name()
        .map_or_else(|| "alone".to_string(), |n| format!("alone {n}"));
    enter(&name)
}

impl Drop for AreaGuard {
    fn drop(&mut self) {
        let mut gate = GATE.lock().unwrap_or_else(PoisonError::into_inner);
        gate.inside -= 1;
        if gate.inside == 0 {
            gate.area = None;
            GATE_OPEN.notify_all();
        }
    }
}
