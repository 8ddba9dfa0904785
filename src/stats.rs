//! Statistics over repeated measurements: medians, bootstrap intervals, knees.
