//! Measurement: per-worker-thread recorders (HDR histograms, per-second
//! timeline, status and error tallies) that are merged once at the end of a
//! step, and the conversion of the merged recorder into the figures stored
//! in `results.json`. Memory is bounded by histogram sizes, never by the
//! number of requests. This module does not send requests (`engine` does).

mod cpu;
mod errors;
pub mod fanout;
pub mod hgrm;
pub mod recorder;
mod saturation;
mod surge;
mod timeline;

pub use cpu::process_cpu_time;
pub use errors::ErrorKind;
pub use recorder::{Measurement, Recorder, Sample, StepMeta, WindowEnd, error_rate};
pub use saturation::{BUSY_THRESHOLD, GeneratorUsage, WAKE_LAG_FLOOR, WAKE_LAG_SHARE, saturation};
pub use surge::{
    RECOVERY_ERROR_SHARE, RECOVERY_FACTOR, RECOVERY_HOLD, RECOVERY_SLACK_US, SurgePhases,
};
pub use timeline::Timeline;
