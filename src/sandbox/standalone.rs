//! `cstar-mcp sandbox`: the sandbox on its own, for trying the API with
//! curl or pointing an integration at it. It does not speak MCP, so its
//! banner (address, team, demo keys, forwarding) goes to stdout; it never
//! shows the hostile data's names, which would reach the terminal raw.

use std::fmt::Write as _;

use anyhow::Context as _;

use super::{DEMO_KEYS, Forward, SeedData, TEAM_ID, TEAM_NAME, TEAM_SLUG, start_with};
use crate::process::{shutdown_signal, write_stdout};

/// Serves `data` on `127.0.0.1:port` until SIGINT or SIGTERM. The first
/// line printed is `listening on <url>`.
pub async fn run_standalone(
    port: u16,
    forward_to: &[String],
    data: SeedData,
) -> anyhow::Result<()> {
    let running = start_with(port, forward_to, data)
        .await
        .with_context(|| format!("could not listen on 127.0.0.1:{port}"))?;
    let mut banner = format!("listening on {}\n", running.base_url());
    let _ = match data {
        SeedData::Demo => writeln!(banner, "team: {TEAM_NAME} ({TEAM_SLUG}, {TEAM_ID})"),
        SeedData::Hostile => writeln!(
            banner,
            "team: {TEAM_ID}, with the hostile data: adversarial text in every field (POST /_sandbox/reset {{\"data\":\"demo\"}} switches to the demo data)"
        ),
    };
    banner.push_str("demo keys:\n");
    for key in DEMO_KEYS {
        let _ = writeln!(banner, "  {}  {}", key.key, key.label);
    }
    for url in forward_to {
        banner.push_str(&Forward::new(url).announcement());
    }
    banner.push_str("control API: /_sandbox/faults, /_sandbox/rate-limit, /_sandbox/reset, /_sandbox/requests, /_sandbox/deliveries, /_sandbox/webhook-schedule\n");
    write_stdout(&banner)?;
    tokio::select! {
        () = running.wait() => {}
        () = shutdown_signal() => {}
    }
    Ok(())
}
