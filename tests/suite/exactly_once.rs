//! Exactly-once creates on every path: whatever fault follows a lost
//! answer, over stdio or HTTP, the retry the error invites replays the
//! original ticket instead of making a second one.

use serde_json::{Value, json};

use super::harness::*;

const TICKETS: &str = "/api/v1/teams/*/tickets";

/// Tickets whose title is exactly `title`.
async fn tickets_titled(sandbox: &cstar_mcp::sandbox::RunningSandbox, title: &str) -> Vec<Value> {
    let client = mcp_for(sandbox, SECRET_TEST).await;
    let found = ok(&call(
        &client,
        "cstar_list_tickets",
        json!({ "search": title, "pageSize": 100 }),
    )
    .await);
    found["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["title"] == title)
        .cloned()
        .collect()
}

async fn clear_faults(sandbox: &cstar_mcp::sandbox::RunningSandbox) {
    let response = reqwest::Client::new()
        .delete(format!("{}/_sandbox/faults", sandbox.base_url()))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
}

#[tokio::test]
async fn every_fault_after_a_lost_answer_still_makes_one_ticket() {
    let sandbox = start_sandbox().await;
    let client = mcp_for(&sandbox, SECRET_TEST).await;
    let after_the_drop = [
        json!({ "fault": "status", "status": 500 }),
        json!({ "fault": "status", "status": 503, "retryAfter": 0 }),
        json!({ "fault": "status", "status": 429, "retryAfter": 120 }),
        json!({ "fault": "malformed_json" }),
        json!({ "fault": "html502" }),
        json!({ "fault": "truncated_body" }),
        json!({ "fault": "reset" }),
        json!({ "fault": "delay", "ms": 1500 }),
    ];
    for (i, then) in after_the_drop.into_iter().enumerate() {
        let title = format!("Exactly once {i}");
        fault(
            &sandbox,
            json!({ "method": "POST", "path": TICKETS, "fault": "commit_then_drop" }),
        )
        .await;
        let mut rule = then.clone();
        rule["method"] = json!("POST");
        rule["path"] = json!(TICKETS);
        rule["times"] = json!(10);
        fault(&sandbox, rule).await;
        let arguments = json!({ "title": title, "priority": "high", "tags": ["once"] });
        let failed = call(&client, "cstar_create_ticket", arguments.clone()).await;
        let message = error_text(&failed);
        assert!(
            message.contains("may already exist") && message.contains("same arguments"),
            "{then}: {message}"
        );
        clear_faults(&sandbox).await;
        let retried = ok(&call(&client, "cstar_create_ticket", arguments).await);
        let stored = tickets_titled(&sandbox, &title).await;
        assert_eq!(stored.len(), 1, "{then}: {stored:#?}");
        assert_eq!(stored[0]["id"], retried["ticket"]["id"], "{then}");
    }
}

#[tokio::test]
async fn a_refused_create_is_settled_and_a_later_one_is_new() {
    let sandbox = start_sandbox().await;
    let client = mcp_for(&sandbox, SECRET_TEST).await;
    fault(
        &sandbox,
        json!({ "method": "POST", "path": TICKETS, "fault": "status", "status": 400 }),
    )
    .await;
    let arguments = json!({ "title": "Refused once" });
    let failed = call(&client, "cstar_create_ticket", arguments.clone()).await;
    assert!(!error_text(&failed).contains("may already exist"));
    ok(&call(&client, "cstar_create_ticket", arguments.clone()).await);
    ok(&call(&client, "cstar_create_ticket", arguments).await);
    let keys: Vec<Value> = requests(&sandbox)
        .await
        .into_iter()
        .filter(|r| r["method"] == "POST")
        .map(|r| r["idempotencyKey"].clone())
        .collect();
    assert_eq!(keys.len(), 3);
    assert!(keys[0] != keys[1] && keys[1] != keys[2], "{keys:?}");
    assert_eq!(tickets_titled(&sandbox, "Refused once").await.len(), 2);
}

#[tokio::test]
async fn own_idempotency_keys_replay_and_refuse_other_arguments() {
    let sandbox = start_sandbox().await;
    let client = mcp_for(&sandbox, SECRET_TEST).await;
    let first = ok(&call(
        &client,
        "cstar_create_ticket",
        json!({ "title": "Own key", "idempotencyKey": "agent-key-1" }),
    )
    .await);
    let again = ok(&call(
        &client,
        "cstar_create_ticket",
        json!({ "title": "Own key", "idempotencyKey": "agent-key-1" }),
    )
    .await);
    assert_eq!(first["ticket"]["id"], again["ticket"]["id"]);
    let other = ok(&call(
        &client,
        "cstar_create_ticket",
        json!({ "title": "Own key", "idempotencyKey": "agent-key-2" }),
    )
    .await);
    assert_ne!(first["ticket"]["id"], other["ticket"]["id"]);
    assert_eq!(tickets_titled(&sandbox, "Own key").await.len(), 2);
    let reused = call(
        &client,
        "cstar_create_ticket",
        json!({ "title": "Something else", "idempotencyKey": "agent-key-1" }),
    )
    .await;
    let message = error_text(&reused);
    assert!(
        message.contains("already used with different arguments") && message.contains("409"),
        "{message}"
    );
    let bad = call(
        &client,
        "cstar_create_ticket",
        json!({ "title": "x", "idempotencyKey": "no spaces please" }),
    )
    .await;
    assert!(error_text(&bad).contains("idempotencyKey"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_http_a_retry_in_a_new_request_replays_and_keys_never_mix() {
    let sandbox = start_sandbox().await;
    let (_server, url) = http_server(&sandbox.base_url(), &[]).await;
    let acme = http_client(&url, SECRET_TEST).await;
    let live = http_client(&url, SECRET_LIVE).await;
    ok(&call(&acme, "cstar_get_status", json!({})).await);
    ok(&call(&live, "cstar_get_status", json!({})).await);
    for (client, key) in [(&acme, "test"), (&live, "live")] {
        fault(
            &sandbox,
            json!({ "method": "POST", "path": TICKETS, "fault": "commit_then_drop" }),
        )
        .await;
        fault(
            &sandbox,
            json!({ "method": "POST", "path": TICKETS, "fault": "status", "status": 500, "times": 5 }),
        )
        .await;
        let arguments = json!({ "title": "Shared server, one ticket" });
        let failed = call(client, "cstar_create_ticket", arguments.clone()).await;
        assert!(error_text(&failed).contains("may already exist"), "{key}");
        clear_faults(&sandbox).await;
        ok(&call(client, "cstar_create_ticket", arguments).await);
    }
    let mut keys: Vec<Value> = requests(&sandbox)
        .await
        .into_iter()
        .filter(|r| r["method"] == "POST")
        .map(|r| r["idempotencyKey"].clone())
        .collect();
    assert!(keys.len() >= 6, "{keys:?}");
    keys.dedup();
    assert_eq!(
        keys.len(),
        2,
        "each caller kept one key across requests, and the two never shared it"
    );
    // The test and live keys see different data sets: one ticket in each.
    assert_eq!(
        tickets_titled(&sandbox, "Shared server, one ticket")
            .await
            .len(),
        1
    );
}
