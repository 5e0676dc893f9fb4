//! Progress on slow calls: a client that sent a progress token hears why a
//! call waits (a retry after a 503, a slow upstream), so it does not give
//! up on a call that is alive; one that did not hears nothing.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cstar_mcp::api::Client;
use cstar_mcp::tools::CstarServer;
use rmcp::model::{
    CallToolRequestParams, NumberOrString, ProgressNotificationParam, ProgressToken,
    RequestParamsMeta,
};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::json;

use super::harness::*;

/// A client that keeps every progress notification.
#[derive(Clone, Default)]
struct Listener {
    heard: Arc<Mutex<Vec<ProgressNotificationParam>>>,
}

impl ClientHandler for Listener {
    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.heard.lock().unwrap().push(params);
    }
}

async fn listening_client(
    sandbox: &cstar_mcp::sandbox::RunningSandbox,
) -> (RunningService<RoleClient, Listener>, Listener) {
    let mut config = fast_config(&sandbox.base_url(), Some(SECRET_TEST));
    config.retry.max_retry_after = Duration::from_secs(5);
    config.timeout = Duration::from_secs(10);
    let server = CstarServer::new(Arc::new(Client::new(config).unwrap()));
    let (server_side, client_side) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(running) = cstar_mcp::tools::egress::Egress(server)
            .serve(server_side)
            .await
        {
            let _ = running.waiting().await;
        }
    });
    let listener = Listener::default();
    let client = listener.clone().serve(client_side).await.unwrap();
    (client, listener)
}

fn with_token(tool: &str, token: Option<i64>) -> CallToolRequestParams {
    let mut params = CallToolRequestParams::new(tool.to_owned())
        .with_arguments(json!({}).as_object().cloned().unwrap());
    if let Some(token) = token {
        params.set_progress_token(ProgressToken(NumberOrString::Number(token)));
    }
    params
}

#[tokio::test]
async fn retries_and_slow_answers_are_reported_as_progress() {
    let sandbox = start_sandbox().await;
    let (client, listener) = listening_client(&sandbox).await;
    ok(&client
        .call_tool(with_token("cstar_get_status", None))
        .await
        .unwrap());
    fault(
        &sandbox,
        json!({ "path": "*/tickets", "fault": "status", "status": 503, "retryAfter": 1 }),
    )
    .await;
    ok(&client
        .call_tool(with_token("cstar_list_tickets", Some(7)))
        .await
        .unwrap());
    tokio::time::sleep(Duration::from_millis(100)).await;
    let heard: Vec<Option<String>> = listener
        .heard
        .lock()
        .unwrap()
        .iter()
        .map(|p| p.message.clone())
        .collect();
    assert_eq!(
        heard,
        [Some(
            "cStar returned 503, retrying in 1 s (attempt 2 of 3)".to_owned()
        )]
    );
    fault(
        &sandbox,
        json!({ "path": "*/customers", "fault": "delay", "ms": 5600 }),
    )
    .await;
    ok(&client
        .call_tool(with_token("cstar_list_customers", Some(8)))
        .await
        .unwrap());
    tokio::time::sleep(Duration::from_millis(100)).await;
    let heard = listener.heard.lock().unwrap().clone();
    assert_eq!(heard.len(), 2, "{heard:?}");
    assert!(
        heard[1]
            .message
            .as_deref()
            .unwrap()
            .starts_with("Still waiting for cStar (5 s")
    );
    assert_ne!(
        heard[0].progress_token, heard[1].progress_token,
        "each call has its own token"
    );
}

#[tokio::test]
async fn without_a_progress_token_nothing_is_sent() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let sandbox = start_sandbox().await;
    let server = CstarServer::new(Arc::new(
        Client::new(fast_config(&sandbox.base_url(), Some(SECRET_TEST))).unwrap(),
    ));
    let (server_side, client_side) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(running) = cstar_mcp::tools::egress::Egress(server)
            .serve(server_side)
            .await
        {
            let _ = running.waiting().await;
        }
    });
    fault(
        &sandbox,
        json!({ "path": "*/tickets", "fault": "status", "status": 503, "retryAfter": 1 }),
    )
    .await;
    let (read, mut write) = tokio::io::split(client_side);
    let lines = [
        json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": { "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": { "name": "raw", "version": "1" } } }),
        json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }),
        json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": { "name": "cstar_list_tickets", "arguments": {} } }),
    ];
    for line in lines {
        write
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
    }
    let mut read = BufReader::new(read).lines();
    let mut seen = Vec::new();
    loop {
        let line = tokio::time::timeout(Duration::from_secs(10), read.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let message: serde_json::Value = serde_json::from_str(&line).unwrap();
        if message["id"] == 2 {
            assert_eq!(message["result"]["isError"], false);
            break;
        }
        seen.push(message);
    }
    assert!(
        seen.iter().all(|m| m["method"] != "notifications/progress"),
        "{seen:?}"
    );
    assert_eq!(
        count_requests(&sandbox, "GET", "/tickets").await,
        2,
        "it did retry"
    );
}
