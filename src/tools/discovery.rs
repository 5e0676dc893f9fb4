//! How a client's model finds the tools before it has loaded any.
//!
//! Claude Code (2.1.328) defers MCP tools: the model first sees only their
//! names and the server instructions, then searches with `ToolSearch`. That
//! search scores each query word against the tool's name (12-16 points),
//! its `_meta["anthropic/searchHint"]` (4 points a whole word) and its
//! description (2 points a whole word), so the hint carries the words users
//! ask with that the name and description do not. The model never sees the
//! hint, so it costs no context. Codex (0.169) ranks by BM25 over names and
//! descriptions; the descriptions carry the main words for it.
//!
//! No tool is marked `anthropic/alwaysLoad`: measured with the harness, the
//! ToolSearch round trip costs less than sending every schema with every
//! model request (README, "Tool search").

use rmcp::model::Tool;

/// Claude Code's `_meta` key for extra ToolSearch keywords.
const SEARCH_HINT: &str = "anthropic/searchHint";

/// Words users ask with, per tool, beyond its name and description.
const HINTS: [(&str, &str); 9] = [
    (
        "cstar_list_tickets",
        "open pending closed urgent assigned agent inbox customer",
    ),
    (
        "cstar_get_ticket",
        "conversation thread message messages latest last reply internal notes",
    ),
    (
        "cstar_create_ticket",
        "new raise support request issue case",
    ),
    (
        "cstar_list_customers",
        "find search lookup email angry happy frustrated",
    ),
    ("cstar_get_customer", "email phone contact details profile"),
    (
        "cstar_list_articles",
        "knowledge base kb help center faq docs guide public internal content",
    ),
    (
        "cstar_trigger_webhook",
        "test send signature verify receiver endpoint",
    ),
    (
        "cstar_get_status",
        "check api key auth team account connection health rate limit quota remaining signing secret",
    ),
    (
        "cstar_list_events",
        "webhook event types catalogue subscribe",
    ),
];

/// Adds each tool's search keywords to its `_meta`.
pub fn add_search_hints(tool: &mut Tool) {
    let Some((_, hint)) = HINTS.iter().find(|(name, _)| *name == tool.name) else {
        return;
    };
    let mut meta = tool.meta.take().unwrap_or_default();
    meta.0.insert(SEARCH_HINT.to_owned(), (*hint).into());
    tool.meta = Some(meta);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::CstarServer;

    #[test]
    fn every_tool_has_a_search_hint() {
        let router = CstarServer::tool_router();
        for tool in router.list_all() {
            let hint = tool.meta.as_ref().and_then(|meta| meta.0.get(SEARCH_HINT));
            assert!(
                hint.and_then(|h| h.as_str()).is_some_and(|h| !h.is_empty()),
                "{} has no search hint",
                tool.name
            );
        }
        assert_eq!(router.list_all().len(), HINTS.len());
    }
}
