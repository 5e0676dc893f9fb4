//! `cstar-mcp doctor`: checks a setup end to end and says what to fix.
//!
//! It checks the key's format and type, asks cStar who the key belongs to,
//! reports the rate-limit headroom, lists the tools a client will see and the
//! size of `tools/list`. It prints a report (it does not speak MCP) and fails
//! with the first problem's reason. What cStar wrote (the team's name and
//! slug, its error messages) is shown as the egress shows text: cleaned of
//! hidden characters and escapes, on one line, bounded.

use std::fmt::Write as _;
use std::sync::Arc;

use crate::api::{ApiError, Client};
use crate::cli::ServeConfig;
use crate::process::write_stdout;
use crate::setup;
use crate::time::iso8601;
use crate::tools::CstarServer;
use crate::tools::egress;
use crate::tools::errors::{Context, describe};
use crate::tools::exposure::ToolFilter;

/// Runs `doctor`: prints the report and fails when the setup is unhealthy.
pub async fn run(config: ServeConfig) -> anyhow::Result<()> {
    let connection = setup::connect(&config).await?;
    let report = examine(connection.client.clone(), &config.filter).await;
    write_stdout(&report.text)?;
    anyhow::ensure!(report.healthy, "the setup is not healthy");
    Ok(())
}

/// The outcome of a doctor run: the report, and whether everything passed.
#[derive(Debug)]
pub struct Report {
    pub text: String,
    pub healthy: bool,
}

/// Runs every check against `client` (already configured, sandbox or not),
/// with the tools `filter` exposes.
pub async fn examine(client: Arc<Client>, filter: &ToolFilter) -> Report {
    let mut text = String::new();
    let mut healthy = true;
    let mut line = |ok: bool, what: &str, detail: String| {
        let _ = writeln!(
            text,
            "[{}] {what}: {detail}",
            if ok { " ok " } else { "FAIL" }
        );
        ok
    };
    line(true, "base URL", client.base_url().to_owned());
    let key_ok = match client.api_key() {
        None => line(
            false,
            "API key",
            "none configured. Set CSTAR_API_KEY in the server's environment, or use --sandbox."
                .to_owned(),
        ),
        Some(key) => match key.kind() {
            None => line(
                false,
                "API key",
                format!(
                    "'{key}' is not in cStar's format: sk_live_, sk_test_, pk_live_ or pk_test_ followed by 32 characters."
                ),
            ),
            Some(kind) => line(
                true,
                "API key",
                format!(
                    "{} ({}, {}{})",
                    kind.prefix,
                    kind.key_type.as_str(),
                    kind.environment.as_str(),
                    if kind.key_type == crate::api::secret::KeyType::Publishable {
                        "; read-only: create and trigger will be refused"
                    } else {
                        ""
                    }
                ),
            ),
        },
    };
    healthy &= key_ok;
    if key_ok {
        match client.whoami().await {
            Ok(team) => {
                let who = &team.whoami;
                line(
                    true,
                    "whoami",
                    format!(
                        "team {} ({}, {}), {} key, {} environment",
                        shown(who.team_name.as_deref()),
                        shown(who.team_slug.as_deref()),
                        shown(Some(&who.team_id)),
                        shown(who.key_type.as_deref()),
                        shown(who.environment.as_deref())
                    ),
                );
                match team.rate_limit {
                    Some(limit) => {
                        let low = limit.remaining * 10 < limit.limit;
                        line(
                            !low,
                            "rate limit",
                            format!(
                                "{} of {} requests left in this {}s window{}{}",
                                limit.remaining,
                                limit.limit,
                                limit.window_seconds.unwrap_or(3600),
                                limit
                                    .reset
                                    .map(|r| format!(", resets {}", iso8601(r)))
                                    .unwrap_or_default(),
                                if low { "; under 10% left" } else { "" }
                            ),
                        );
                        healthy &= !low;
                    }
                    None => {
                        line(
                            true,
                            "rate limit",
                            "cStar sent no X-RateLimit headers".to_owned(),
                        );
                    }
                }
            }
            Err(error) => {
                healthy = false;
                line(false, "whoami", explain(&error, &client));
            }
        }
    }
    let tools = match CstarServer::with_filter(client.clone(), filter) {
        Ok(server) => server.listed_tools(),
        Err(reason) => {
            healthy = false;
            line(false, "tools", reason);
            Vec::new()
        }
    };
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    line(
        !names.is_empty(),
        "tools exposed",
        format!("{} ({})", names.len(), names.join(", ")),
    );
    let bytes = serde_json::to_string(&serde_json::json!({ "tools": tools }))
        .map(|s| s.len())
        .unwrap_or(0);
    line(
        true,
        "tools/list size",
        format!("{bytes} bytes, about {} tokens", bytes / 4),
    );
    let _ = writeln!(
        text,
        "{}",
        if healthy {
            "healthy"
        } else {
            "not healthy: fix the FAIL lines above"
        }
    );
    Report { text, healthy }
}

/// The most characters of one value from cStar in the report.
const SHOWN_CHARS: usize = 200;

/// The most characters of an explained failure.
const EXPLAINED_CHARS: usize = 1_000;

/// A value from cStar as the report shows it; `?` when absent.
fn shown(value: Option<&str>) -> String {
    value.map_or_else(|| "?".to_owned(), |text| egress::text(text, SHOWN_CHARS))
}

fn explain(error: &ApiError, client: &Client) -> String {
    let explained = describe(
        error,
        Context {
            base_url: client.base_url(),
            ..Context::default()
        },
    );
    egress::text(&explained.message, EXPLAINED_CHARS)
}
