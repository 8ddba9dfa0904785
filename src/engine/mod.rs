//! The request engine: ONE worker loop driven by a closed (concurrency) or
//! open (rate) schedule, on hyper's connection-level HTTP/1.1 client.

pub mod mix;

pub use mix::{Mix, MixEntry, SplitMix64};
