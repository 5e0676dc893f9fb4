//! Running the binary's commands: the MCP server over stdio (optionally on
//! an in-process sandbox) and the standalone sandbox.

use std::sync::Arc;

use anyhow::Context as _;
use rmcp::ServiceExt;

use crate::api::secret::ApiKey;
use crate::api::{Client, ClientConfig};
use crate::cli::ServeConfig;
use crate::sandbox;
use crate::tools::CstarServer;

/// Serves MCP on stdin/stdout until stdin closes or a signal arrives.
pub async fn serve_stdio(config: ServeConfig) -> anyhow::Result<()> {
    if config.http.is_some() {
        return crate::http::serve_http(config).await;
    }
    let filter = config.filter.clone();
    // Keep the sandbox alive for as long as the server runs.
    let (_sandbox, client_config) = client_config(config).await?;
    match client_config.api_key.as_ref().map(ApiKey::kind) {
        None => tracing::warn!(
            "no API key: set CSTAR_API_KEY, or run with --sandbox; tools will say how"
        ),
        Some(None) => {
            tracing::warn!("the API key is not in cStar's format; tools will say how to fix it")
        }
        Some(Some(kind)) => {
            tracing::info!(key = kind.prefix, base_url = %client_config.base_url, "serving cStar tools")
        }
    }
    let client = Arc::new(Client::new(client_config)?);
    let server = CstarServer::with_filter(client, &filter).map_err(anyhow::Error::msg)?;
    // Listen for signals before the handshake, so an early SIGTERM is clean too.
    let mut shutdown = std::pin::pin!(shutdown_signal());
    let running = tokio::select! {
        served = server.serve(stdio_transport()) => match served {
            Ok(running) => running,
            Err(error) => {
                // stdin closed before the handshake finished: a normal way to stop.
                tracing::info!(%error, "the client left before initializing");
                return Ok(());
            }
        },
        () = &mut shutdown => {
            tracing::info!("signal received before the handshake, stopping");
            return Ok(());
        }
    };
    tokio::select! {
        result = running.waiting() => {
            if let Err(error) = result {
                tracing::info!(%error, "MCP session ended");
            }
        }
        () = &mut shutdown => tracing::info!("signal received, stopping"),
    }
    Ok(())
}

/// stdin and stdout as a JSON-RPC line transport (non-blocking pipes where
/// the platform allows, so a signal stops the server at once).
fn stdio_transport()
-> crate::stdio::LineTransport<rmcp::transport::io::StdioReader, rmcp::transport::io::StdioWriter> {
    let (reader, writer) = rmcp::transport::io::stdio_pipes();
    crate::stdio::LineTransport::new(reader, writer)
}

/// The client settings, starting an in-process sandbox for `--sandbox`.
pub(crate) async fn client_config(
    config: ServeConfig,
) -> anyhow::Result<(Option<sandbox::RunningSandbox>, ClientConfig)> {
    let mut client_config = ClientConfig::new(config.base_url, config.api_key);
    client_config.team_id = config.team_id;
    client_config.timeout = config.timeout;
    if !config.sandbox {
        return Ok((None, client_config));
    }
    let running = sandbox::start_forwarding(0, &config.forward_to)
        .await
        .context("could not start the sandbox")?;
    tracing::info!(url = %running.base_url(), "sandbox started with demo data");
    // stdout carries MCP here: the forwarding lines go to stderr.
    let mut lines = String::new();
    for url in &config.forward_to {
        lines.push_str(&forwarding_line(url));
    }
    if !lines.is_empty() {
        use std::io::Write;
        let _ = std::io::stderr().write_all(lines.as_bytes());
    }
    client_config.base_url = running.base_url();
    client_config.api_key = Some(ApiKey::new(sandbox::DEMO_SECRET_TEST_KEY));
    Ok((Some(running), client_config))
}

/// Runs `doctor`: prints the report and fails when the setup is unhealthy.
pub async fn run_doctor(config: ServeConfig) -> anyhow::Result<()> {
    let filter = config.filter.clone();
    let (_sandbox, client_config) = client_config(config).await?;
    let client = Arc::new(Client::new(client_config)?);
    let report = crate::doctor::examine(client, &filter).await;
    write_stdout(&report.text)?;
    anyhow::ensure!(report.healthy, "the setup is not healthy");
    Ok(())
}

/// Runs the sandbox standalone. Its own output goes to stdout: this
/// command does not speak MCP.
pub async fn run_sandbox(port: u16, forward_to: &[String]) -> anyhow::Result<()> {
    let running = sandbox::start_forwarding(port, forward_to)
        .await
        .with_context(|| format!("could not listen on 127.0.0.1:{port}"))?;
    let mut banner = format!("listening on {}\n", running.base_url());
    banner.push_str(&format!(
        "team: {} ({}, {})\ndemo keys:\n",
        sandbox::TEAM_NAME,
        sandbox::TEAM_SLUG,
        sandbox::TEAM_ID
    ));
    for key in sandbox::DEMO_KEYS {
        banner.push_str(&format!("  {}  {}\n", key.key, key.label));
    }
    for url in forward_to {
        banner.push_str(&forwarding_line(url));
    }
    banner.push_str("control API: /_sandbox/faults, /_sandbox/rate-limit, /_sandbox/reset, /_sandbox/requests, /_sandbox/deliveries, /_sandbox/webhook-schedule\n");
    write_stdout(&banner)?;
    tokio::select! {
        () = running.wait() => {}
        () = shutdown_signal() => {}
    }
    Ok(())
}

/// What the sandbox prints for each `--forward-to` endpoint.
fn forwarding_line(url: &str) -> String {
    let forward = sandbox::Forward::new(url);
    format!(
        "forwarding webhooks to {} (signing secret {})\n",
        forward.url, forward.secret
    )
}

pub(crate) fn write_stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is
/// called, not when it is first polled.
#[cfg(unix)]
pub(crate) fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let terminate = signal(SignalKind::terminate()).ok();
    let interrupt = signal(SignalKind::interrupt()).ok();
    async move {
        match (terminate, interrupt) {
            (Some(mut terminate), Some(mut interrupt)) => {
                tokio::select! {
                    _ = terminate.recv() => {}
                    _ = interrupt.recv() => {}
                }
            }
            _ => std::future::pending().await,
        }
    }
}

/// Resolves on Ctrl-C.
#[cfg(not(unix))]
pub(crate) fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
