//! Test modules and their shared harness.

mod access;
mod budget;
mod contract;
mod egress;
mod error_facts;
mod exactly_once;
mod faults;
mod harness;
mod hostile;
mod hostile_data;
mod http_edges;
mod http_limits;
mod jsonrpc;
mod markdown;
mod mentions;
mod npm;
mod pii;
mod pii_forms;
mod progress;
mod resilience;
mod resources;
mod schema_check;
mod startup;
mod stdio;
mod tools;
mod webhooks;
