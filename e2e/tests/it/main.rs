//! End-to-end tests: the real binaries started as separate processes.

mod fuzz;
mod gateway_forwarding;
mod partner_story;
mod readme_commands;
mod story;
mod suite_lifecycle;
mod support;
mod tracing_across_processes;
