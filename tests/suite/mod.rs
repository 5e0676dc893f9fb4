//! Test modules and their shared harness.

mod contract;
mod faults;
mod harness;
mod resilience;
mod schema_check;
mod stdio;
mod tools;
