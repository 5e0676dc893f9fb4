//! Every kind of tool error, walked through the MCP client: its one text
//! block alone is enough for a model (Claude Code and Codex show only the
//! text of an error), and the facts in its `_meta` body say the same
//! thing (the same hint, request id, retry-after seconds and key).

use rmcp::model::CallToolResult;
use serde_json::{Value, json};

use super::harness::*;

const TICKETS: &str = "/api/v1/teams/*/tickets";

/// Asserts that each fact in the error's `_meta` body is in its text.
fn text_carries_the_facts(what: &str, result: &CallToolResult) -> Value {
    let text = error_text(result);
    assert_eq!(result.content.len(), 1, "{what}: one text block");
    let body = error_body(result);
    assert!(body.is_object(), "{what}: a _meta body");
    let hint = body["hint"].as_str().unwrap_or_default();
    assert!(
        !hint.is_empty() && text.contains(hint),
        "{what}: hint {hint:?} not in {text:?}"
    );
    if let Some(id) = body["requestId"].as_str() {
        assert!(text.contains(id), "{what}: request id {id} not in {text:?}");
    }
    if let Some(status) = body["status"].as_u64() {
        assert!(
            text.contains(&status.to_string()),
            "{what}: status {status} not in {text:?}"
        );
    }
    if let Some(seconds) = body["retryAfterSeconds"].as_u64() {
        assert!(
            text.contains(&format!("in {seconds} second")),
            "{what}: retryAfterSeconds {seconds} not in {text:?}"
        );
    }
    if let Some(key) = body["idempotencyKey"].as_str() {
        assert!(
            text.contains(key),
            "{what}: idempotencyKey {key} not in {text:?}"
        );
    }
    body
}

#[tokio::test]
async fn every_upstream_failure_says_in_its_text_what_its_meta_says() {
    let sandbox = start_sandbox().await;
    let client = mcp_for(&sandbox, SECRET_TEST).await;
    ok(&call(&client, "cstar_list_tickets", json!({ "pageSize": 1 })).await);
    let faults = [
        json!({ "fault": "status", "status": 400, "code": "parameter_invalid" }),
        json!({ "fault": "status", "status": 401 }),
        json!({ "fault": "status", "status": 403 }),
        json!({ "fault": "status", "status": 404 }),
        json!({ "fault": "status", "status": 409 }),
        json!({ "fault": "status", "status": 422 }),
        json!({ "fault": "status", "status": 429, "retryAfter": 7, "times": 3 }),
        json!({ "fault": "status", "status": 500, "times": 3 }),
        json!({ "fault": "status", "status": 503, "retryAfter": 9, "times": 3 }),
        json!({ "fault": "status", "status": 503, "retryAfter": 2, "times": 3 }),
        json!({ "fault": "html502", "times": 3 }),
        json!({ "fault": "malformed_json", "times": 3 }),
        json!({ "fault": "truncated_body", "times": 3 }),
        json!({ "fault": "reset", "times": 3 }),
    ];
    for mut rule in faults {
        rule["path"] = json!(TICKETS);
        fault(&sandbox, rule.clone()).await;
        let result = call(&client, "cstar_list_tickets", json!({})).await;
        text_carries_the_facts(&rule.to_string(), &result);
        clear_faults(&sandbox).await;
    }
}

#[tokio::test]
async fn a_create_with_an_unknown_outcome_names_its_key_in_the_text() {
    let sandbox = start_sandbox().await;
    let client = mcp_for(&sandbox, SECRET_TEST).await;
    ok(&call(&client, "cstar_list_tickets", json!({ "pageSize": 1 })).await);
    fault(
        &sandbox,
        json!({ "method": "POST", "path": TICKETS, "fault": "reset", "times": 3 }),
    )
    .await;
    let result = call(&client, "cstar_create_ticket", json!({ "title": "Lost" })).await;
    let body = text_carries_the_facts("create, reset", &result);
    assert!(body["idempotencyKey"].is_string(), "{body}");
}

#[tokio::test]
async fn local_failures_say_in_their_text_what_their_meta_says() {
    let sandbox = start_sandbox().await;
    let client = mcp_for(&sandbox, PUBLISHABLE_TEST).await;
    let cases = [
        ("cstar_list_tickets", json!({ "status": "bogus" })),
        ("cstar_list_tickets", json!({ "priority": "whatever" })),
        ("cstar_list_tickets", json!({ "pageSize": 500 })),
        ("cstar_list_tickets", json!({ "page": "x" })),
        ("cstar_list_tickets", json!({ "nope": 1 })),
        ("cstar_get_ticket", json!({})),
        ("cstar_get_ticket", json!({ "ticketId": "tkt_missing" })),
    ];
    for (tool, arguments) in cases {
        let result = call(&client, tool, arguments.clone()).await;
        text_carries_the_facts(&format!("{tool} {arguments}"), &result);
    }
}

/// The JSON-RPC error of a call to a tool the client may not call.
async fn refusal(client: &McpClient, tool: &str) -> String {
    let arguments = json!({ "title": "x" }).as_object().cloned().unwrap();
    let request =
        rmcp::model::CallToolRequestParams::new(tool.to_owned()).with_arguments(arguments);
    match client.call_tool(request).await {
        Err(rmcp::ServiceError::McpError(error)) => error.message.into_owned(),
        other => panic!("{tool}: expected a JSON-RPC error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_call_to_a_tool_it_cannot_use_tells_the_model_why_and_what_exists() {
    let sandbox = start_sandbox().await;
    let publishable = mcp_for(&sandbox, PUBLISHABLE_TEST).await;
    let message = refusal(&publishable, "cstar_create_ticket").await;
    assert!(
        message.contains("cstar_create_ticket")
            && message.contains("publishable")
            && message.contains("secret key"),
        "{message}"
    );
    let message = refusal(&publishable, "cstar_list_ticket").await;
    assert!(
        message.contains("'cstar_list_ticket'") && message.contains("cstar_list_tickets"),
        "{message}"
    );
    assert!(
        !message.contains("cstar_create_ticket"),
        "hidden tools stay unnamed: {message}"
    );
}

#[tokio::test]
async fn over_http_errors_have_the_same_shape_and_facts() {
    let sandbox = start_sandbox().await;
    let (_server, url) = http_server(&sandbox.base_url(), &[]).await;
    let client = http_client(&url, SECRET_TEST).await;
    ok(&call(&client, "cstar_list_tickets", json!({ "pageSize": 1 })).await);
    // A Retry-After longer than the server waits is reported at once.
    for status in [401, 429, 503] {
        fault(
            &sandbox,
            json!({ "path": TICKETS, "fault": "status", "status": status, "retryAfter": 600, "times": 9 }),
        )
        .await;
        let result = call(&client, "cstar_list_tickets", json!({})).await;
        let body = text_carries_the_facts(&format!("HTTP {status}"), &result);
        if status == 401 {
            assert!(
                error_text(&result).contains("Authorization header"),
                "{body}"
            );
        }
        clear_faults(&sandbox).await;
    }
    let publishable = http_client(&url, PUBLISHABLE_TEST).await;
    let message = refusal(&publishable, "cstar_create_ticket").await;
    assert!(message.contains("secret key"), "{message}");
}
