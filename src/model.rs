//! The one load-model vocabulary: [`Model`], closed or open, the tag every
//! layer uses (suite plans, the engine's schedules, results, thresholds,
//! analysis, `compare`). What a level means follows from it: connections
//! (closed), offered requests/s (open) or subscribers (fan-out), always a
//! `u64` from the suite to
//! the results. The per-model data (a closed scenario's concurrency list,
//! an open one's rates and pool) lives with whoever needs it
//! (`suite::LoadModel`, `engine::Schedule`), each able to say its model.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Model {
    /// Fixed number of connections, each sends when the previous completes.
    Closed,
    /// Fixed request rate on a schedule; latency from the intended send time.
    Open,
    /// WebSocket fan-out: a number of subscribers, publishers at a fixed
    /// message rate; delivery latency from the intended send time.
    Fanout,
}

impl Model {
    pub fn as_str(self) -> &'static str {
        match self {
            Model::Closed => "closed",
            Model::Open => "open",
            Model::Fanout => "fanout",
        }
    }
    /// Name of the level's unit, for tables and axes.
    pub fn level_label(self) -> &'static str {
        match self {
            Model::Closed => "connections",
            Model::Open => "offered req/s",
            Model::Fanout => "subscribers",
        }
    }
}
