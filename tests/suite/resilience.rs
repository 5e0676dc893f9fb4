//! The tools under every upstream fault, exactly-once creation under lost
//! answers, and rate limits, all through an in-process MCP client.

use std::time::{Duration, Instant};

use cstar_mcp::sandbox;
use serde_json::{Value, json};

use super::harness::*;

/// The eight tools that call cStar, with arguments that succeed.
fn network_tools() -> Vec<(&'static str, Value)> {
    vec![
        ("cstar_list_tickets", json!({ "pageSize": 2 })),
        ("cstar_get_ticket", json!({ "ticketId": "TICKET" })),
        ("cstar_create_ticket", json!({ "title": "Matrix" })),
        ("cstar_list_customers", json!({ "pageSize": 2 })),
        ("cstar_get_customer", json!({ "customerId": "CUSTOMER" })),
        ("cstar_list_articles", json!({ "pageSize": 2 })),
        (
            "cstar_trigger_webhook",
            json!({ "event": "ticket.created" }),
        ),
        ("cstar_get_status", json!({})),
    ]
}

/// (column name, fault rule or None for "sandbox stopped", words the error must contain)
fn faults() -> Vec<(&'static str, Option<Value>, &'static [&'static str])> {
    let status = |code: u16| json!({ "fault": "status", "status": code });
    vec![
        ("400", Some(status(400)), &["refused the request (400"]),
        ("401", Some(status(401)), &["401", "CSTAR_API_KEY"]),
        ("403", Some(status(403)), &["403"]),
        ("404", Some(status(404)), &["404"]),
        ("409", Some(status(409)), &["409", "Nothing"]),
        (
            "429",
            Some(json!({ "fault": "status", "status": 429, "retryAfter": 120 })),
            &["Retry in 120 seconds"],
        ),
        ("500", Some(status(500)), &["unavailable (500"]),
        (
            "html502",
            Some(json!({ "fault": "html502" })),
            &["unavailable (502", "not JSON"],
        ),
        ("503", Some(status(503)), &["unavailable (503"]),
        (
            "timeout",
            Some(json!({ "fault": "delay", "ms": 1500 })),
            &["did not answer in time"],
        ),
        (
            "bad json",
            Some(json!({ "fault": "malformed_json" })),
            &["could not read"],
        ),
        (
            "truncated",
            Some(json!({ "fault": "truncated_body" })),
            &["Could not reach cStar"],
        ),
        (
            "reset",
            Some(json!({ "fault": "reset" })),
            &["Could not reach cStar"],
        ),
        (
            "stopped",
            None,
            &["Could not reach cStar", "CSTAR_BASE_URL"],
        ),
    ]
}

/// A generous bound on a failing call with the test client settings (3
/// attempts of 0.8 s plus backoff, about 2.5 s), for a loaded 2-core machine.
const CALL_BOUND: Duration = Duration::from_secs(8);

async fn fill_ids(client: &McpClient, arguments: &Value) -> Value {
    let mut text = arguments.to_string();
    if text.contains("TICKET") {
        let tickets = ok(&call(client, "cstar_list_tickets", json!({ "pageSize": 1 })).await);
        text = text.replace("TICKET", tickets["tickets"][0]["id"].as_str().unwrap());
    }
    if text.contains("CUSTOMER") {
        let customers = ok(&call(client, "cstar_list_customers", json!({ "pageSize": 1 })).await);
        text = text.replace(
            "CUSTOMER",
            customers["customers"][0]["id"].as_str().unwrap(),
        );
    }
    serde_json::from_str(&text).unwrap()
}

/// One tool against every fault; returns the row of call times.
async fn matrix_row(tool: &'static str, arguments: Value) -> Vec<String> {
    let mut sandbox = Some(start_sandbox().await);
    let port = sandbox.as_ref().unwrap().addr().port();
    let client = mcp_for(sandbox.as_ref().unwrap(), SECRET_TEST).await;
    let arguments = fill_ids(&client, &arguments).await;
    let mut row = Vec::new();
    for (name, rule, needles) in faults() {
        match &rule {
            Some(rule) => {
                let mut rule = rule.clone();
                rule["times"] = json!(5);
                fault(sandbox.as_ref().unwrap(), rule).await;
            }
            None => {
                drop(sandbox.take());
                // Let the connection tasks see the stop before the next call.
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        let started = Instant::now();
        let result = call(&client, tool, arguments.clone()).await;
        let elapsed = started.elapsed();
        assert_eq!(
            result.is_error,
            Some(true),
            "{tool} x {name}: not an error: {}",
            text_of(&result)
        );
        let text = error_text(&result);
        for needle in needles {
            assert!(
                text.contains(needle),
                "{tool} x {name}: {needle:?} not in {text:?}"
            );
        }
        assert!(elapsed < CALL_BOUND, "{tool} x {name}: took {elapsed:?}");
        if rule.is_none() {
            sandbox = Some(
                sandbox::start(port)
                    .await
                    .expect("restart on the same port"),
            );
        }
        let response = reqwest::Client::new()
            .delete(format!(
                "{}/_sandbox/faults",
                sandbox.as_ref().unwrap().base_url()
            ))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
        let next = call(&client, tool, arguments.clone()).await;
        assert_ne!(
            next.is_error,
            Some(true),
            "{tool} after {name}: {}",
            text_of(&next)
        );
        row.push(format!("{:>5}ms", elapsed.as_millis()));
    }
    row
}

fn text_of(result: &rmcp::model::CallToolResult) -> String {
    text(result)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tool_survives_every_fault_and_serves_the_next_call() {
    let mut tasks = tokio::task::JoinSet::new();
    for (index, (tool, arguments)) in network_tools().into_iter().enumerate() {
        tasks.spawn(async move { (index, tool, matrix_row(tool, arguments).await) });
    }
    let mut rows = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        rows.push(joined.expect("matrix row"));
    }
    rows.sort();
    let columns: Vec<&str> = faults().iter().map(|(name, _, _)| *name).collect();
    let mut table = format!(
        "{:<22}{}\n",
        "fault matrix (time to isError)",
        columns
            .iter()
            .map(|c| format!("{c:>10}"))
            .collect::<String>()
    );
    for (_, tool, row) in &rows {
        table.push_str(&format!(
            "{tool:<22}{}\n",
            row.iter().map(|c| format!("{c:>10}")).collect::<String>()
        ));
    }
    println!(
        "{table}{} cells, each an isError result followed by a normal call",
        rows.len() * columns.len()
    );
}

#[tokio::test]
async fn two_hundred_creates_with_lost_answers_make_two_hundred_tickets() {
    let sandbox = start_sandbox().await;
    let client = mcp_for(&sandbox, SECRET_TEST).await;
    ok(&call(&client, "cstar_get_status", json!({})).await);
    fault(
        &sandbox,
        json!({ "method": "POST", "path": "*/tickets", "times": 10_000, "probability": 0.3, "fault": "commit_then_drop" }),
    )
    .await;
    let mut created = std::collections::HashSet::new();
    let mut tool_errors = 0;
    for index in 0..200 {
        let arguments = json!({ "title": format!("Exactly once #{index}") });
        let mut outcome = call(&client, "cstar_create_ticket", arguments.clone()).await;
        // An agent retries a retryable failure as the error says: the same
        // arguments and the idempotencyKey it names.
        while outcome.is_error == Some(true) {
            tool_errors += 1;
            assert_eq!(
                error_body(&outcome)["retryable"],
                true,
                "{}",
                text(&outcome)
            );
            assert!(
                text(&outcome).contains("same arguments and idempotencyKey"),
                "{}",
                text(&outcome)
            );
            let mut retry = arguments.clone();
            retry["idempotencyKey"] = error_body(&outcome)["idempotencyKey"].clone();
            outcome = call(&client, "cstar_create_ticket", retry).await;
        }
        let id = ok(&outcome)["ticket"]["id"].as_str().unwrap().to_owned();
        assert!(created.insert(id), "a create returned an existing ticket");
    }
    let log = requests(&sandbox).await;
    let posts: Vec<&Value> = log.iter().filter(|r| r["method"] == "POST").collect();
    let dropped = posts
        .iter()
        .filter(|r| r["fault"] == "commit_then_drop")
        .count();
    let keys: std::collections::HashSet<&str> = posts
        .iter()
        .map(|r| r["idempotencyKey"].as_str().unwrap())
        .collect();
    let page = ok(&call(
        &client,
        "cstar_list_tickets",
        json!({ "search": "Exactly once #", "pageSize": 100, "page": 1 }),
    )
    .await);
    assert_eq!(
        page["pagination"]["total"], 200,
        "exactly one ticket per create"
    );
    assert_eq!(
        keys.len(),
        200,
        "one idempotency key per ticket, kept across retries"
    );
    assert_eq!(created.len(), 200);
    println!(
        "exactly-once: 200 creates, {} POSTs, {dropped} answers dropped ({:.0}%), {tool_errors} retryable tool errors retried, 200 tickets, 0 duplicates",
        posts.len(),
        100.0 * dropped as f64 / posts.len() as f64
    );
}

#[tokio::test]
async fn rate_limits_are_waited_out_or_reported_and_never_hammered() {
    let sandbox = start_sandbox().await;
    let client = mcp_for(&sandbox, SECRET_TEST).await;
    let status = ok(&call(&client, "cstar_get_status", json!({})).await);
    assert_eq!(status["rateLimit"]["remaining"], 999);
    let status = ok(&call(&client, "cstar_get_status", json!({})).await);
    assert_eq!(
        status["rateLimit"]["remaining"], 998,
        "the budget is reported live"
    );

    control(
        &sandbox,
        "rate-limit",
        json!({ "limit": 3, "windowSeconds": 3600 }),
    )
    .await;
    let mut refused = 0;
    for _ in 0..6 {
        let result = call(&client, "cstar_list_tickets", json!({})).await;
        if result.is_error == Some(true) {
            refused += 1;
            let text = text(&result);
            assert!(
                text.contains("rate limit") && text.contains("Retry in"),
                "{text}"
            );
            assert!(error_body(&result)["retryAfterSeconds"].as_u64().unwrap() > 3000);
        }
    }
    assert_eq!(refused, 3);
    assert_eq!(
        count_requests(&sandbox, "GET", "/tickets").await,
        6,
        "one request per call past the limit: no hammering"
    );

    control(
        &sandbox,
        "rate-limit",
        json!({ "limit": 1, "windowSeconds": 1 }),
    )
    .await;
    ok(&call(&client, "cstar_list_tickets", json!({})).await);
    let started = Instant::now();
    ok(&call(&client, "cstar_list_tickets", json!({})).await);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "a short Retry-After is waited out"
    );
}

#[tokio::test]
async fn calls_past_the_process_cap_are_refused_retryably_and_serving_goes_on() {
    let cap = cstar_mcp::tools::MAX_CALLS_IN_FLIGHT;
    let sandbox = start_sandbox().await;
    // Upstream answers in 3 s, so every call is in flight at once even on
    // a busy machine; the client waits for it.
    let mut config = fast_config(&sandbox.base_url(), Some(SECRET_TEST));
    config.timeout = Duration::from_secs(20);
    let client = mcp(config).await;
    ok(&call(&client, "cstar_get_status", json!({})).await);
    fault(
        &sandbox,
        json!({ "path": "*/tickets", "fault": "delay", "ms": 3000, "times": 10_000 }),
    )
    .await;
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..cap + 40 {
        let peer = client.peer().clone();
        calls.spawn(async move {
            let arguments = json!({ "pageSize": 1 }).as_object().cloned();
            peer.call_tool(
                rmcp::model::CallToolRequestParams::new("cstar_list_tickets")
                    .with_arguments(arguments.unwrap_or_default()),
            )
            .await
            .unwrap()
        });
    }
    let outcomes = calls.join_all().await;
    let busy: Vec<_> = outcomes
        .iter()
        .filter(|outcome| outcome.is_error == Some(true))
        .collect();
    assert!(
        busy.len() >= 40 && outcomes.len() - busy.len() <= cap,
        "{} refused of {}",
        busy.len(),
        outcomes.len()
    );
    assert!(every(&busy, |refused| {
        let body = error_body(refused);
        body["code"] == "server_busy" && body["retryable"] == true
    }));
    // The places free up as the calls end.
    let served = call(&client, "cstar_list_tickets", json!({ "pageSize": 1 })).await;
    assert_eq!(ok(&served)["tickets"].as_array().map(Vec::len), Some(1));
}
