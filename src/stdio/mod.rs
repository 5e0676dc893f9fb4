//! MCP over stdio: one client, the one that launched the binary. The
//! client's key comes from the environment (or the sandbox's demo key),
//! `lines` carries JSON-RPC on stdin and stdout, and `owed` bounds the
//! answers between them. A configuration that cannot serve cStar is still
//! served, as `misconfigured`, when a client is on the other end;
//! `terminal` tells a client from a person.

mod lines;
mod misconfigured;
mod owed;
pub mod terminal;

use lines::LineTransport;
pub use misconfigured::{Misconfigured, PROBLEM_TOOL, SetupProblem};

use rmcp::{ServerHandler, ServiceExt};

use crate::api::secret::ApiKey;
use crate::cli::ServeConfig;
use crate::process::shutdown_signal;
use crate::setup::{self, Connection};
use crate::tools::CstarServer;
use crate::tools::egress::{Egress, Redaction};

/// Serves MCP on stdin/stdout until stdin closes or a signal arrives.
/// When the settings cannot serve cStar and a client is on stdin, it
/// serves that client the problem (`Misconfigured`) and then fails with it.
pub async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    let stdin_is_terminal = terminal::stdin_is_terminal();
    let (connection, server) = match start(&config).await {
        Ok(started) => started,
        Err(error) if terminal::serve_the_problem(stdin_is_terminal) => {
            tracing::error!("{error:#}; telling the client");
            let key = config.api_key.as_ref().map(ApiKey::expose);
            serve_session(Misconfigured::new(SetupProblem::settings(&error, key))).await;
            return Err(error);
        }
        Err(error) => return Err(error),
    };
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
    if let Some(greeting) = terminal::greeting(stdin_is_terminal) {
        eprint!("{greeting}");
    }
    serve_session(server).await;
    // A create that was sent runs to its outcome, even past the session.
    client.settle_creates().await;
    Ok(())
}

/// Serves a client the problem with its command line, until stdin closes.
pub async fn serve_problem(problem: SetupProblem) {
    serve_session(Misconfigured::new(problem)).await;
}

/// The client and the server the settings describe.
async fn start(config: &ServeConfig) -> anyhow::Result<(Connection, CstarServer)> {
    let connection = setup::connect(config).await?;
    let server = connection.server(config)?;
    Ok((connection, server))
}

/// One MCP session with `server` behind the egress, from the handshake
/// until stdin closes or a signal arrives.
async fn serve_session(server: impl ServerHandler + Redaction) {
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
                return;
            }
        },
        () = &mut shutdown => {
            tracing::info!("signal received before the handshake, stopping");
            return;
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
}

/// stdin and stdout as a JSON-RPC line transport (non-blocking pipes where
/// the platform allows, so a signal stops the server at once).
fn stdio_transport()
-> LineTransport<rmcp::transport::io::StdioReader, rmcp::transport::io::StdioWriter> {
    let (reader, writer) = rmcp::transport::io::stdio_pipes();
    LineTransport::new(reader, writer)
}
