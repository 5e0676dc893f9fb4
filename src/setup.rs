//! What every command that talks to cStar shares: the client, built from
//! the settings (pointed at an in-process sandbox for `--sandbox`), and the
//! tools it exposes.

use std::sync::Arc;

use anyhow::Context as _;

use crate::api::secret::{ApiKey, hide_keys};
use crate::api::{Client, ClientConfig};
use crate::cli::ServeConfig;
use crate::sandbox::{self, RunningSandbox};
use crate::tools::CstarServer;

/// A configured client, and the sandbox it talks to when there is one.
pub struct Connection {
    pub client: Arc<Client>,
    /// Kept alive for as long as the command runs.
    _sandbox: Option<RunningSandbox>,
}

impl Connection {
    /// The MCP server over this client, with the tools `config` exposes.
    /// With `--redact-pii`, it replaces personal data with pseudonyms.
    /// A refusal quotes the tool names given, which may be a key pasted in
    /// the wrong place: the configured key, and anything shaped like a key,
    /// are hidden from it before anyone logs or prints it.
    pub fn server(&self, config: &ServeConfig) -> anyhow::Result<CstarServer> {
        let server = CstarServer::with_filter(self.client.clone(), &config.filter)
            .map_err(|refusal| {
                let key = config.api_key.as_ref().map(ApiKey::expose);
                anyhow::Error::msg(hide_keys(&refusal, &key.into_iter().collect::<Vec<_>>()))
            })?
            .with_recent_resources(config.recent_resources);
        if !config.redact_pii {
            return Ok(server);
        }
        Ok(server.with_redaction(Arc::new(crate::pii::Pseudonyms::new()?)))
    }
}

/// Builds the client; with `--sandbox`, first starts the sandbox on a free
/// loopback port and uses its demo key.
pub async fn connect(config: &ServeConfig) -> anyhow::Result<Connection> {
    let mut client_config = ClientConfig::new(config.base_url.clone(), config.api_key.clone());
    client_config.team_id = config.team_id.clone();
    client_config.timeout = config.timeout;
    let mut running = None;
    if config.sandbox {
        let sandbox = sandbox::start_with(0, &config.forward_to, config.sandbox_data)
            .await
            .context("could not start the sandbox")?;
        tracing::info!(url = %sandbox.base_url(), data = config.sandbox_data.name(), "sandbox started");
        // stdout may carry MCP: the forwarding lines go to stderr.
        let lines: String = config
            .forward_to
            .iter()
            .map(|url| sandbox::Forward::new(url).announcement())
            .collect();
        if !lines.is_empty() {
            eprint!("{lines}");
        }
        client_config.base_url = sandbox.base_url();
        client_config.api_key = Some(ApiKey::new(sandbox::DEMO_SECRET_TEST_KEY));
        running = Some(sandbox);
    }
    Ok(Connection {
        client: Arc::new(Client::new(client_config)?),
        _sandbox: running,
    })
}
