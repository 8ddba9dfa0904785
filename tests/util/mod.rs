//! Support shared by the integration tests: test servers, /proc
//! inspection, synthetic results, reading generated reports.

pub mod contract_app;
pub mod engine_server;
pub mod fault_server;
pub mod fixtures;
pub mod procs;
pub mod report;
