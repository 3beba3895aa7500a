//! `mtm-load`, the project's load generator: starts a fresh suite (and optionally Cerbos),
//! verifies the answer of every target, then drives each target with many requests in flight
//! over mutual TLS in interleaved rounds, and reports throughput, latency and each server
//! process's CPU per call against the no-op RPC of the same server.

pub mod cerbos;
pub mod cpu;
pub mod driver;
pub mod fixture;
pub mod report;
pub mod rounds;
pub mod run;
pub mod targets;
