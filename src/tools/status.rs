//! The status tool: which team and key the server is using, and how much
//! of the rate limit is left.

use super::result::Json;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::CstarServer;
use super::args::Parameters;
use super::errors::ToolError;
use crate::api::API_VERSION;
use crate::api::secret::ApiKey;
use crate::time::iso8601;

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetStatusParams {}

/// The team behind the key.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TeamInfo {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
}

/// The key in use; never the key itself.
#[derive(Debug, Serialize, JsonSchema)]
pub struct KeyInfo {
    // secret (read and write) or publishable (read-only).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub key_type: Option<String>,
    // live or test data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    // The key's public prefix, e.g. sk_test_.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

/// The rate-limit budget, from cStar's X-RateLimit headers.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RateLimitInfo {
    pub limit: u64,
    pub remaining: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reset_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_seconds: Option<u64>,
}

/// What this server lets the agent do.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessInfo {
    // True when only read-only tools can be used.
    pub read_only: bool,
    // Why the server is read-only, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    // Tools hidden by the configuration (--read-only, --tools, --exclude-tools) or the key; absent when none is.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hidden_tools: Vec<String>,
}

/// Connection status.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub team: TeamInfo,
    pub key: KeyInfo,
    // What is left of the rate limit, when cStar reported it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimitInfo>,
    pub access: AccessInfo,
    pub base_url: String,
    // The cStar API version requested (CStar-Version).
    pub api_version: String,
    // Only against a sandbox that forwards webhook events: where to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<SandboxStatus>,
    // "on" when personal data is replaced by pseudonyms (--redact-pii);
    // absent, and out of the schema, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(skip)]
    pub pii_redaction: Option<&'static str>,
}

/// What the sandbox does with webhook events.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SandboxStatus {
    // Local endpoints that receive every event, signed.
    pub forwarding: Vec<ForwardingInfo>,
}

/// A local webhook endpoint and the secret its deliveries are signed with.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ForwardingInfo {
    pub url: String,
    // Verify X-Signature with this (HMAC-SHA256 over "{t}.{raw body}").
    pub signing_secret: String,
}

#[tool_router(router = status_tools, vis = "pub(super)")]
impl CstarServer {
    /// Check the cStar connection: team, key type (never the key), rate limit left, what the key may do; sandbox webhook signing secrets.
    #[tool(
        name = "cstar_get_status",
        title = "Get connection status",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn get_status(
        &self,
        Parameters(_params): Parameters<GetStatusParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<Status>, ToolError> {
        let client = self.client_for(&context);
        let team = self
            .call(&context, self.context(None, None), client.whoami())
            .await?;
        let key_kind = client.api_key().and_then(|key| key.kind());
        Ok(Json(Status {
            team: TeamInfo {
                id: team.whoami.team_id,
                name: team.whoami.team_name,
                slug: team.whoami.team_slug,
            },
            key: KeyInfo {
                key_type: team
                    .whoami
                    .key_type
                    .or_else(|| key_kind.map(|k| k.key_type.as_str().to_owned())),
                environment: team
                    .whoami
                    .environment
                    .or_else(|| key_kind.map(|k| k.environment.as_str().to_owned())),
                prefix: key_kind.map(|k| k.prefix.to_owned()),
            },
            rate_limit: team.rate_limit.map(|limit| RateLimitInfo {
                limit: limit.limit,
                remaining: limit.remaining,
                reset_at: limit.reset.map(iso8601),
                window_seconds: limit.window_seconds,
            }),
            access: self.access_info(client.api_key()),
            base_url: client.base_url().to_owned(),
            api_version: API_VERSION.to_owned(),
            sandbox: team
                .whoami
                .sandbox
                .filter(|sandbox| !sandbox.forwarding.is_empty())
                .map(|sandbox| SandboxStatus {
                    forwarding: sandbox
                        .forwarding
                        .into_iter()
                        .map(|forward| ForwardingInfo {
                            url: forward.url,
                            signing_secret: forward.signing_secret,
                        })
                        .collect(),
                }),
            pii_redaction: self.pii.as_ref().map(|_| "on"),
        }))
    }
}

impl CstarServer {
    /// What a request made with `key` may do: the same decision that
    /// filters its `tools/list`.
    fn access_info(&self, key: Option<&ApiKey>) -> AccessInfo {
        let exposure = self.exposure_for(key);
        AccessInfo {
            read_only: exposure.read_only_reason.is_some(),
            reason: exposure.read_only_reason.clone(),
            hidden_tools: exposure.hidden.clone(),
        }
    }
}
