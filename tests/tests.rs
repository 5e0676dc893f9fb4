//! The one integration-test binary: client contract against the sandbox,
//! fault handling, the MCP tools in process, and the real binary over stdio.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod suite;
