//! `cstar-mcp doctor`: checks a setup end to end and says what to fix.
//!
//! It checks the key's format and type, asks cStar who the key belongs to,
//! reports the rate-limit headroom, lists the tools a client will see and the
//! size of `tools/list`. It prints a report (it does not speak MCP) and fails
//! with the first problem's reason.

use std::fmt::Write as _;
use std::sync::Arc;

use crate::api::{ApiError, Client};
use crate::cli::ServeConfig;
use crate::process::write_stdout;
use crate::setup;
use crate::time::iso8601;
use crate::tools::errors::{Context, describe};
use crate::tools::exposure::ToolFilter;
use crate::tools::{CstarServer, egress};

/// The most characters of one line's detail.
const DETAIL_CHARS: usize = 2_000;

/// Runs `doctor`: prints the report and fails when the setup is unhealthy.
pub async fn run(config: ServeConfig) -> anyhow::Result<()> {
    let connection = setup::connect(&config).await?;
    let mut report = examine(connection.client.clone(), &config.filter).await;
    if config.redact_pii {
        // Before the verdict, the last line.
        let verdict = report.text.trim_end().rfind('\n').map_or(0, |end| end + 1);
        report.text.insert_str(
            verdict,
            "[ ok ] PII redaction: on (--redact-pii): emails, phone numbers, card numbers, IBANs, IP addresses and customer names become pseudonyms\n",
        );
    }
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
        // Details quote cStar (the team's name, its error messages): on
        // one line, without hidden text or escapes, as the terminal shows.
        let _ = writeln!(
            text,
            "[{}] {what}: {}",
            if ok { " ok " } else { "FAIL" },
            egress::text(&detail, DETAIL_CHARS, None)
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
                        who.team_name.as_deref().unwrap_or("?"),
                        who.team_slug.as_deref().unwrap_or("?"),
                        who.team_id,
                        who.key_type.as_deref().unwrap_or("?"),
                        who.environment.as_deref().unwrap_or("?")
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

fn explain(error: &ApiError, client: &Client) -> String {
    describe(
        error,
        Context {
            base_url: client.base_url(),
            ..Context::default()
        },
    )
    .message
}
