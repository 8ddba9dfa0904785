//! Baseline vs current → per-step deltas and regressions.
