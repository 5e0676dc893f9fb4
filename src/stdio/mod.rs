//! MCP over stdio: one client, the one that launched the binary. The
//! client's key comes from the environment (or the sandbox's demo key),
//! `lines` carries JSON-RPC on stdin and stdout, and `owed` bounds the
//! answers between them.

mod lines;
mod owed;

use lines::LineTransport;

use rmcp::ServiceExt;

use crate::api::secret::ApiKey;
use crate::cli::ServeConfig;
use crate::process::shutdown_signal;
use crate::setup;
use crate::tools::egress::Egress;

/// Serves MCP on stdin/stdout until stdin closes or a signal arrives.
pub async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    let connection = setup::connect(&config).await?;
    let client = &connection.client;
    match client.api_key().map(ApiKey::kind) {
        None => tracing::warn!(
            "no API key: set CSTAR_API_KEY, or run with --sandbox; tools will say how"
        ),
        Some(None) => {
            tracing::warn!("the API key is not in cStar's format; tools will say how to fix it")
        }
        Some(Some(kind)) => {
            tracing::info!(key = kind.prefix, base_url = %client.base_url(), "serving cStar tools")
        }
    }
    let server = connection.server(&config)?;
    // Listen for signals before the handshake, so an early SIGTERM is clean too.
    let mut shutdown = std::pin::pin!(shutdown_signal());
    let transport = stdio_transport();
    let session = transport.session();
    let running = tokio::select! {
        served = Egress(server).serve(transport) => match served {
            Ok(running) => {
                session.start();
                running
            }
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
    // A create that was sent runs to its outcome, even past the session.
    client.settle_creates().await;
    Ok(())
}

/// stdin and stdout as a JSON-RPC line transport (non-blocking pipes where
/// the platform allows, so a signal stops the server at once).
fn stdio_transport()
-> LineTransport<rmcp::transport::io::StdioReader, rmcp::transport::io::StdioWriter> {
    let (reader, writer) = rmcp::transport::io::stdio_pipes();
    LineTransport::new(reader, writer)
}
