//! Exactly-once creates on every path: whatever fault follows a lost
//! answer, over stdio or HTTP, the retry the error invites replays the
//! original ticket instead of making a second one; a create that was sent
//! runs to its outcome when its caller cancels or disconnects, and a
//! retry meanwhile joins it; the key in a result finishes the job from
//! another process.

use std::time::Duration;

use rmcp::ServiceExt;
use rmcp::transport::TokioChildProcess;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};

use super::harness::*;

const TICKETS: &str = "/api/v1/teams/*/tickets";

/// Holds the next ticket create 1.5 s in the sandbox, long enough to
/// cancel, disconnect or stop its caller while it is in flight.
async fn delay_the_next_create(sandbox: &cstar_mcp::sandbox::RunningSandbox) {
    fault(
        sandbox,
        json!({ "method": "POST", "path": TICKETS, "fault": "delay", "ms": 1500, "times": 1 }),
    )
    .await;
}

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

/// The POSTs the sandbox received, with their idempotency keys.
async fn create_keys(sandbox: &cstar_mcp::sandbox::RunningSandbox) -> Vec<Value> {
    requests(sandbox)
        .await
        .into_iter()
        .filter(|r| r["method"] == "POST" && r["path"].as_str().unwrap_or("").ends_with("/tickets"))
        .map(|r| r["idempotencyKey"].clone())
        .collect()
}

/// The binary over stdio, driven line by line, after the handshake.
struct Stdio {
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
}

impl Stdio {
    async fn start(sandbox: &cstar_mcp::sandbox::RunningSandbox) -> Stdio {
        let mut child = binary_on(sandbox, &[])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut session = Stdio {
            stdin: child.stdin.take().unwrap(),
            stdout: BufReader::new(child.stdout.take().unwrap()).lines(),
            child,
        };
        session
            .send(
                json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                "protocolVersion": "2025-11-25", "capabilities": {},
                "clientInfo": { "name": "test", "version": "1" } } }),
            )
            .await;
        session.answer(0).await;
        session
            .send(json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }))
            .await;
        session
    }

    async fn send(&mut self, message: Value) {
        self.stdin
            .write_all(format!("{message}\n").as_bytes())
            .await
            .unwrap();
        self.stdin.flush().await.unwrap();
    }

    async fn create(&mut self, id: i64, arguments: &Value, progress: bool) {
        let mut params = json!({ "name": "cstar_create_ticket", "arguments": arguments });
        if progress {
            params["_meta"] = json!({ "progressToken": format!("p{id}") });
        }
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params }))
            .await;
    }

    async fn cancel(&mut self, id: i64) {
        self.send(
            json!({ "jsonrpc": "2.0", "method": "notifications/cancelled",
            "params": { "requestId": id, "reason": "the user gave up" } }),
        )
        .await;
    }

    /// The answer to request `id`, skipping notifications and other ids.
    async fn answer(&mut self, id: i64) -> Value {
        loop {
            let line = tokio::time::timeout(Duration::from_secs(20), self.stdout.next_line())
                .await
                .unwrap_or_else(|_| panic!("no answer for {id}"))
                .unwrap()
                .expect("stdout open");
            let message: Value = serde_json::from_str(&line).unwrap();
            if message["id"] == id {
                return message;
            }
        }
    }
}

#[tokio::test]
async fn a_cancelled_create_runs_to_its_outcome_and_a_retry_makes_no_second_ticket() {
    let sandbox = start_sandbox().await;
    let mut stdio = Stdio::start(&sandbox).await;
    // (progress token, retry while the first is still in flight)
    let cases = [(false, true), (true, true), (false, false), (true, false)];
    for (i, (progress, retry_in_flight)) in cases.into_iter().enumerate() {
        let title = format!("Cancelled create {i}");
        let arguments = json!({ "title": title, "tags": ["cancel"] });
        delay_the_next_create(&sandbox).await;
        let first = 100 + 10 * i as i64;
        stdio.create(first, &arguments, progress).await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        stdio.cancel(first).await;
        if !retry_in_flight {
            // Past the delay: the cancelled create has landed unheard.
            tokio::time::sleep(Duration::from_millis(2000)).await;
        }
        stdio.create(first + 1, &arguments, progress).await;
        let answer = stdio.answer(first + 1).await;
        let retried = &answer["result"]["structuredContent"];
        assert!(retried["ticket"]["id"].is_string(), "case {i}: {answer}");
        let stored = tickets_titled(&sandbox, &title).await;
        assert_eq!(stored.len(), 1, "case {i}: {stored:#?}");
        assert_eq!(stored[0]["id"], retried["ticket"]["id"], "case {i}");
    }
    let keys = create_keys(&sandbox).await;
    assert!(!keys.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_whose_http_caller_disconnects_still_makes_one_ticket() {
    let sandbox = start_sandbox().await;
    let (_server, url) = http_server(&sandbox.base_url(), &[]).await;
    let retrying = http_client(&url, SECRET_TEST).await;
    ok(&call(&retrying, "cstar_get_status", json!({})).await);
    for (i, retry_in_flight) in [true, false].into_iter().enumerate() {
        let title = format!("Disconnected create {i}");
        let arguments = json!({ "title": title });
        delay_the_next_create(&sandbox).await;
        let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": { "name": "cstar_create_ticket", "arguments": arguments } });
        // The client gives up and closes its connection mid-create.
        let gave_up = reqwest::Client::new()
            .post(&url)
            .timeout(Duration::from_millis(400))
            .header("authorization", format!("Bearer {SECRET_TEST}"))
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-11-25")
            .body(body.to_string())
            .send()
            .await;
        assert!(
            gave_up.is_err(),
            "case {i}: the call outlived the client's timeout"
        );
        if !retry_in_flight {
            tokio::time::sleep(Duration::from_millis(2000)).await;
        }
        let retried = ok(&call(&retrying, "cstar_create_ticket", arguments).await);
        let stored = tickets_titled(&sandbox, &title).await;
        assert_eq!(stored.len(), 1, "case {i}: {stored:#?}");
        assert_eq!(stored[0]["id"], retried["ticket"]["id"], "case {i}");
    }
}

/// The binary as an rmcp client's child process.
async fn binary_client(sandbox: &cstar_mcp::sandbox::RunningSandbox) -> McpClient {
    let mut command = binary_on(sandbox, &[]);
    command.stderr(std::process::Stdio::null());
    ().serve(TokioChildProcess::new(command).unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn the_key_from_an_unknown_outcome_finishes_the_create_after_a_restart() {
    let sandbox = start_sandbox().await;
    let first_process = binary_client(&sandbox).await;
    fault(
        &sandbox,
        json!({ "method": "POST", "path": TICKETS, "fault": "commit_then_drop" }),
    )
    .await;
    fault(
        &sandbox,
        json!({ "method": "POST", "path": TICKETS, "fault": "status", "status": 503, "retryAfter": 0, "times": 10 }),
    )
    .await;
    let arguments = json!({ "title": "Across a restart", "priority": "high" });
    let failed = call(&first_process, "cstar_create_ticket", arguments.clone()).await;
    let message = error_text(&failed);
    let key = error_body(&failed)["idempotencyKey"]
        .as_str()
        .unwrap_or_else(|| panic!("no idempotencyKey in {failed:?}"))
        .to_owned();
    assert!(
        message.contains("may already exist")
            && message.contains(&format!("idempotencyKey \"{key}\"")),
        "{message}"
    );
    first_process.cancel().await.unwrap();
    clear_faults(&sandbox).await;

    let second_process = binary_client(&sandbox).await;
    let mut retry = arguments.clone();
    retry["idempotencyKey"] = json!(key);
    let finished = ok(&call(&second_process, "cstar_create_ticket", retry).await);
    assert_eq!(finished["idempotencyKey"], json!(key));
    let stored = tickets_titled(&sandbox, "Across a restart").await;
    assert_eq!(stored.len(), 1, "{stored:#?}");
    assert_eq!(stored[0]["id"], finished["ticket"]["id"]);
    // Without the key, a new process has no memory: the text never
    // promised otherwise, and the key is what it told the model to use.
    second_process.cancel().await.unwrap();
}

#[tokio::test]
async fn identical_creates_at_once_share_one_request_and_one_ticket() {
    let sandbox = start_sandbox().await;
    let client = mcp_for(&sandbox, SECRET_TEST).await;
    ok(&call(&client, "cstar_get_status", json!({})).await);
    fault(
        &sandbox,
        json!({ "method": "POST", "path": TICKETS, "fault": "delay", "ms": 500, "times": 1 }),
    )
    .await;
    let arguments = json!({ "title": "Twice at once", "tags": ["twin"] });
    let (a, b, c) = tokio::join!(
        call(&client, "cstar_create_ticket", arguments.clone()),
        call(&client, "cstar_create_ticket", arguments.clone()),
        call(&client, "cstar_create_ticket", arguments.clone()),
    );
    let (a, b, c) = (ok(&a), ok(&b), ok(&c));
    assert_eq!(a["ticket"]["id"], b["ticket"]["id"]);
    assert_eq!(a["ticket"]["id"], c["ticket"]["id"]);
    assert_eq!(a["idempotencyKey"], b["idempotencyKey"]);
    assert_eq!(create_keys(&sandbox).await.len(), 1, "one request was sent");
    assert_eq!(tickets_titled(&sandbox, "Twice at once").await.len(), 1);
    // Once settled and heard, the next identical create is a new ticket.
    let later = ok(&call(&client, "cstar_create_ticket", arguments).await);
    assert_ne!(later["ticket"]["id"], a["ticket"]["id"]);
    assert_ne!(later["idempotencyKey"], a["idempotencyKey"]);
}

#[tokio::test]
async fn a_create_refused_before_sending_never_says_the_ticket_may_exist() {
    let sandbox = start_sandbox().await;
    let client = mcp_for(&sandbox, SECRET_TEST).await;
    // Team discovery fails: nothing was sent, so nothing can exist.
    fault(
        &sandbox,
        json!({ "path": "/api/v1/auth/whoami", "fault": "status", "status": 503, "retryAfter": 0, "times": 10 }),
    )
    .await;
    let failed = call(
        &client,
        "cstar_create_ticket",
        json!({ "title": "Never sent" }),
    )
    .await;
    assert!(
        error_text(&failed).contains("503"),
        "{}",
        error_text(&failed)
    );
    says_nothing_was_sent(&client, &failed).await;
    assert!(create_keys(&sandbox).await.is_empty());
}

/// A create that failed before anything reached cStar neither warns that
/// the ticket may exist nor names a key, and a trigger failing the same
/// way does not say the event may have been delivered.
async fn says_nothing_was_sent(client: &McpClient, failed: &rmcp::model::CallToolResult) {
    let message = error_text(failed);
    assert!(
        !message.contains("may already exist") && !message.contains("idempotencyKey"),
        "{message}"
    );
    assert_eq!(error_body(failed)["idempotencyKey"], Value::Null);
    let triggered = call(
        client,
        "cstar_trigger_webhook",
        json!({ "event": "ticket.created" }),
    )
    .await;
    let message = error_text(&triggered);
    assert!(!message.contains("may have been delivered"), "{message}");
}

#[tokio::test]
async fn a_create_cstar_never_received_because_every_connection_was_refused_says_nothing_may_exist()
{
    // A port nothing listens on: every attempt is refused before a byte is sent.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let mut config = fast_config(&base_url, Some(SECRET_TEST));
    config.team_id = Some("5b0c6c1e-2f4a-4d8e-9a51-3c2f1e7d9b40".to_owned());
    let client = mcp(config).await;
    let failed = call(
        &client,
        "cstar_create_ticket",
        json!({ "title": "Never reached" }),
    )
    .await;
    let message = error_text(&failed);
    assert!(message.contains("Could not reach cStar"), "{message}");
    assert_eq!(error_body(&failed)["retryable"], true);
    says_nothing_was_sent(&client, &failed).await;
}

#[tokio::test]
async fn a_create_cut_off_by_sigterm_answers_with_its_key_and_a_new_process_finishes_it() {
    let sandbox = start_sandbox().await;
    for (i, progress) in [false, true].into_iter().enumerate() {
        let mut stdio = Stdio::start(&sandbox).await;
        let title = format!("Stopped mid-create {i}");
        let arguments = json!({ "title": title });
        delay_the_next_create(&sandbox).await;
        stdio.create(1, &arguments, progress).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        std::process::Command::new("kill")
            .args(["-TERM", &stdio.child.id().unwrap().to_string()])
            .status()
            .unwrap();
        // Whatever the answer, it must let the model finish the job
        // without a second ticket: the ticket, or the key it was sent with.
        let answer = stdio.answer(1).await;
        let result = &answer["result"];
        let key = match result["structuredContent"]["idempotencyKey"].as_str() {
            Some(key) => key.to_owned(),
            None => {
                let text = result["content"][0]["text"].as_str().unwrap_or_default();
                let key = result["_meta"][cstar_mcp::tools::errors::ERROR_META]["idempotencyKey"]
                    .as_str()
                    .unwrap_or_else(|| panic!("case {i}: no idempotencyKey in {answer}"))
                    .to_owned();
                assert!(
                    text.contains("may already exist") && text.contains(&key),
                    "case {i}: {text}"
                );
                key
            }
        };
        exits_cleanly(&mut stdio.child, "stdio after SIGTERM mid-create").await;
        let next_process = binary_client(&sandbox).await;
        let mut retry = arguments.clone();
        retry["idempotencyKey"] = json!(key);
        let finished = ok(&call(&next_process, "cstar_create_ticket", retry).await);
        let stored = tickets_titled(&sandbox, &title).await;
        assert_eq!(stored.len(), 1, "case {i}: {stored:#?}");
        assert_eq!(stored[0]["id"], finished["ticket"]["id"], "case {i}");
        next_process.cancel().await.unwrap();
    }
}
