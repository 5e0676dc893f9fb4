//! cstar-mcp: an MCP server for cStar (cstar.help), the headless
//! customer-support platform.
//!
//! `api` is a typed cStar REST client, `sandbox` an emulator of cStar's API,
//! `events` cStar's webhook event catalogue, `limits` the input lengths both
//! hold values to, `loopback` which URLs are on this machine, and `time` the
//! two timestamp conversions they share.

pub mod api;
pub mod cli;
pub mod doctor;
pub mod events;
pub mod http;
pub mod limits;
pub mod loopback;
pub mod metrics;
pub mod pii;
pub mod process;
pub mod sandbox;
pub mod setup;
pub mod stdio;
pub mod time;
pub mod tools;
