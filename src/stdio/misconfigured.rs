//! The server a client gets when the configuration is wrong: instead of
//! exiting (which Claude Code shows only as "Failed to connect", without
//! stderr), it completes the handshake and says what is wrong and how to
//! fix it wherever the client looks. The instructions start with it, the
//! one tool is named for it, and every tool call, resource read and
//! prompt answers with it as an error.

use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, ErrorCode, ErrorData, GetPromptRequestParams,
    GetPromptResponse, Implementation, ListToolsResult, PaginatedRequestParams,
    ReadResourceRequestParams, ReadResourceResponse, ServerCapabilities, ServerConfig, Tool,
    ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, ServerHandler};

use crate::api::secret::hide_keys;
use crate::pii::Table;
use crate::tools::egress::Redaction;
use crate::tools::errors::ToolError;

/// The one tool a misconfigured server lists, so that the problem shows up
/// among the server's tools in the client and in a tool search.
pub const PROBLEM_TOOL: &str = "cstar_setup_problem";

/// What is wrong with the configuration, and what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupProblem {
    problem: String,
    fix: &'static str,
}

const COMMAND_LINE_FIX: &str = "correct the cstar server's `args` (or `env`) in the MCP client's \
     configuration; `cstar-mcp --help` lists every flag and variable.";

const SETTINGS_FIX: &str = "correct the cstar server's `args` or `env` in the MCP client's \
     configuration; `cstar-mcp doctor` with the same settings checks them.";

impl SetupProblem {
    /// From the command line's refusal (clap's message): its error, tip
    /// and note lines, up to the usage or clap's pointer to `--help` (the
    /// fix says that, for a person who reads it in a client).
    pub fn command_line(refusal: &str) -> Self {
        let lines: Vec<&str> = refusal
            .lines()
            .map(str::trim)
            .take_while(|line| {
                !line.starts_with("Usage:") && !line.starts_with("For more information")
            })
            .filter(|line| !line.is_empty())
            .map(|line| line.strip_prefix("error: ").unwrap_or(line))
            .collect();
        SetupProblem {
            problem: hide_keys(&lines.join(" "), &[]),
            fix: COMMAND_LINE_FIX,
        }
    }

    /// From a failure to set up what the settings describe (an unknown
    /// tool name, the sandbox, the HTTP client); `key` is hidden from it.
    pub fn settings(error: &anyhow::Error, key: Option<&str>) -> Self {
        SetupProblem {
            problem: hide_keys(&format!("{error:#}"), &key.into_iter().collect::<Vec<_>>()),
            fix: SETTINGS_FIX,
        }
    }

    /// The whole story, for every answer: the problem, then `fix_hint`.
    pub fn explanation(&self) -> String {
        format!(
            "cstar-mcp (cStar support tickets, customers and articles) is misconfigured, so none \
             of its tools work: {}. {}",
            self.problem.trim_end_matches('.'),
            self.fix_hint()
        )
    }

    /// What to change, and how to restart.
    fn fix_hint(&self) -> String {
        format!(
            "To fix it, {} Then restart the server from the client (in Claude Code: /mcp).",
            self.fix
        )
    }
}

/// The MCP server for a configuration that cannot serve cStar.
#[derive(Debug, Clone)]
pub struct Misconfigured {
    problem: Arc<SetupProblem>,
}

impl Misconfigured {
    pub fn new(problem: SetupProblem) -> Self {
        Misconfigured {
            problem: Arc::new(problem),
        }
    }

    fn tool(&self) -> Tool {
        let schema = serde_json::Map::from_iter([
            ("type".to_owned(), "object".into()),
            ("properties".to_owned(), serde_json::Map::new().into()),
        ]);
        Tool::new(
            PROBLEM_TOOL,
            format!(
                "Why cstar-mcp's cStar tools (tickets, customers, articles) are unavailable: {}. \
                 Call it for the fix to tell the user.",
                self.problem.problem.trim_end_matches('.')
            ),
            schema,
        )
        .annotate(
            ToolAnnotations::new()
                .read_only(true)
                .destructive(false)
                .idempotent(true)
                .open_world(false),
        )
    }

    fn error(&self) -> ErrorData {
        ErrorData::new(ErrorCode::INTERNAL_ERROR, self.problem.explanation(), None)
    }
}

// Every method implemented here is forwarded by `egress::Egress`.
/// Nothing it answers holds cStar's data, so nothing is redacted.
impl Redaction for Misconfigured {
    fn pii_table(&self, _request: &RequestContext<RoleServer>) -> Option<Arc<Table>> {
        None
    }
}

impl ServerHandler for Misconfigured {
    /// Every tool, listed or not, answers with the problem as a tool error
    /// of the usual shape, which the model reads.
    async fn call_tool(
        &self,
        _request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let error = ToolError::misconfigured(self.problem.explanation(), self.problem.fix_hint());
        Ok(error.into_result().into())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(vec![self.tool()]))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        (name == PROBLEM_TOOL).then(|| self.tool())
    }

    async fn read_resource(
        &self,
        _request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        Err(self.error())
    }

    async fn get_prompt(
        &self,
        _request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        Err(self.error())
    }

    /// The same capabilities as a working server, so that each of them
    /// answers with the problem rather than "method not found"; the
    /// resource and prompt lists are empty.
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .enable_prompts()
                .build(),
        )
        .with_server_info(
            Implementation::new(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
                .with_title("cStar"),
        )
        .with_instructions(self.problem.explanation())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_keeps_its_error_and_tip_and_drops_the_usage() {
        let refusal = "error: unexpected argument '--read-onyl' found\n\n  tip: a similar \
                       argument exists: '--read-only'\n\nUsage: cstar-mcp [OPTIONS]\n       cstar-mcp <COMMAND>\n\nFor more \
                       information, try '--help'.\n";
        let problem = SetupProblem::command_line(refusal);
        let text = problem.explanation();
        assert!(
            text.contains(
                "unexpected argument '--read-onyl' found tip: a similar argument exists: '--read-only'"
            ),
            "{text}"
        );
        assert!(
            !text.contains("Usage") && !text.contains("<COMMAND>") && !text.contains("error:"),
            "{text}"
        );
        assert!(text.contains("cstar-mcp --help"), "{text}");
    }

    #[test]
    fn a_settings_problem_never_shows_the_key() {
        let key = "sk_test_a1B2c3D4e5F6g7H8i9J0k-L2m3N4o5P6";
        let error = anyhow::anyhow!("unknown tool name '{key}'; also 'my-private-key-value'");
        let text = SetupProblem::settings(&error, Some("my-private-key-value")).explanation();
        assert!(
            !text.contains("a1B2c3") && !text.contains("my-private"),
            "{text}"
        );
        assert!(text.contains("unknown tool name"), "{text}");
    }

    #[test]
    fn the_explanation_says_what_the_server_is_for_within_codexs_first_250_characters() {
        let text =
            SetupProblem::command_line("error: unexpected argument '--x' found").explanation();
        let head: String = text.chars().take(250).collect();
        assert!(
            head.contains("cStar") && head.contains("misconfigured") && head.contains("'--x'"),
            "{head}"
        );
    }
}
