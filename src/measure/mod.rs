//! Per-worker recorders (HDR histograms, timeline, error tallies) and their merge.
