//! The one integration-test binary (as ripgrep's `tests/tests.rs`): one
//! module per area, all sharing the support tree in `util/`.
//!
//! Layout: an area is `tests/<area>.rs`, or `tests/<area>/mod.rs` with its
//! submodules beside it when it grows; support code shared by areas lives
//! in `tests/util/` and nowhere else; data in `tests/fixtures/`, insta
//! snapshots in `tests/snapshots/` (named `tests__<area>__<name>.snap`).
//! Run one area with `cargo test --test tests -- <area>::`.

mod util;

mod apps;
mod badinput;
mod check;
mod client;
mod compare;
mod compose;
mod deploy;
mod engine;
mod environment;
mod fanout;
mod faults;
mod fit;
mod junit;
mod lifecycle;
mod report;
mod run;
mod shard;
mod suite;
mod tls;
mod trend;
mod verdicts;
