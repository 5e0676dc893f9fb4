//! A typed client for cStar's REST API.
//!
//! This module knows HTTP and cStar's wire format and nothing of MCP: it
//! never imports `rmcp`. The tools in `crate::tools` call it and word its
//! errors for the model.

mod client;
pub mod envelope;
pub mod error;
pub mod flights;
pub mod ids;
pub mod lenient;
pub mod models;
pub mod progress;
pub mod retry;
pub mod secret;
pub mod teams;
pub mod unsettled;

pub use client::{
    API_VERSION, Client, ClientConfig, CreateFailure, Created, DEFAULT_BASE_URL, Team,
};
pub use error::{ApiError, StatusError};
