//! What an agent may do (read-only mode, tool filters, publishable keys),
//! and the shared streamable-HTTP server with a key per request.

use std::time::Duration;

use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};

use super::harness::*;
use super::stdio::{by_id, initialize, request, session};

/// The tool names listed, and the answer to a call of `cstar_create_ticket`.
async fn listed_and_create(args: &[&str], env: &[(&str, &str)]) -> (Vec<String>, Value, Value) {
    let child = binary(args, env).spawn().unwrap();
    let (lines, stderr, code) = session(
        child,
        &[
            initialize("2025-06-18"),
            json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }),
            request(2, "tools/list", json!({})),
            request(
                3,
                "tools/call",
                json!({ "name": "cstar_create_ticket", "arguments": { "title": "filtered?" } }),
            ),
            request(
                4,
                "tools/call",
                json!({ "name": "cstar_get_status", "arguments": {} }),
            ),
        ],
    )
    .await;
    assert_eq!(code, Some(0), "{stderr}");
    let names = by_id(&lines, 2)["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect();
    (names, by_id(&lines, 3), by_id(&lines, 4))
}

/// (arguments, environment, the tools expected in `tools/list`)
type FilterCase = (
    Vec<&'static str>,
    Vec<(&'static str, &'static str)>,
    Vec<&'static str>,
);

#[tokio::test]
async fn read_only_and_tool_filters_decide_what_is_listed_and_callable() {
    let reads = [
        "cstar_get_customer",
        "cstar_get_status",
        "cstar_get_ticket",
        "cstar_list_articles",
        "cstar_list_customers",
        "cstar_list_events",
        "cstar_list_tickets",
    ];
    let cases: Vec<FilterCase> = vec![
        (vec!["--sandbox", "--read-only"], vec![], reads.to_vec()),
        (
            vec!["--sandbox"],
            vec![("CSTAR_READ_ONLY", "1")],
            reads.to_vec(),
        ),
        (
            vec!["--sandbox", "--tools", "cstar_list_events,cstar_get_status"],
            vec![],
            vec!["cstar_get_status", "cstar_list_events"],
        ),
        (
            vec![
                "--sandbox",
                "--tools",
                "cstar_list_events,cstar_create_ticket",
                "--exclude-tools",
                "cstar_list_events",
            ],
            vec![],
            vec!["cstar_create_ticket"],
        ),
        (
            vec![
                "--sandbox",
                "--read-only",
                "--tools",
                "cstar_create_ticket,cstar_list_events",
            ],
            vec![],
            vec!["cstar_list_events"],
        ),
        (
            vec!["--sandbox"],
            vec![("CSTAR_EXCLUDE_TOOLS", "cstar_trigger_webhook")],
            {
                let mut all = reads.to_vec();
                all.push("cstar_create_ticket");
                all.sort();
                all
            },
        ),
    ];
    for (args, env, expected) in cases {
        let (names, create, status) = listed_and_create(&args, &env).await;
        assert_eq!(names, expected, "{args:?} {env:?}");
        if names.iter().any(|n| n == "cstar_create_ticket") {
            assert_eq!(create["result"]["isError"], false, "{args:?}");
        } else {
            assert!(
                create["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("'cstar_create_ticket' is not available"),
                "{args:?}: {create}"
            );
        }
        if names.iter().any(|n| n == "cstar_get_status") {
            let access = &status["result"]["structuredContent"]["access"];
            let hidden = access["hiddenTools"].as_array().map_or(0, Vec::len);
            assert_eq!(hidden, 9 - names.len(), "{args:?}");
            let read_only =
                args.contains(&"--read-only") || !env.iter().all(|(k, _)| *k != "CSTAR_READ_ONLY");
            assert_eq!(access["readOnly"], read_only, "{args:?}");
        }
    }
}

#[tokio::test]
async fn a_publishable_key_hides_the_writes_and_status_says_why() {
    let sandbox = start_sandbox().await;
    let url = sandbox.base_url();
    let (names, create, status) = listed_and_create(
        &[],
        &[
            ("CSTAR_API_KEY", PUBLISHABLE_TEST),
            ("CSTAR_BASE_URL", url.as_str()),
        ],
    )
    .await;
    assert_eq!(names.len(), 7);
    assert!(create["error"].is_object());
    let access = &status["result"]["structuredContent"]["access"];
    assert_eq!(access["readOnly"], true);
    assert!(
        access["reason"].as_str().unwrap().contains("publishable"),
        "{access}"
    );
}

#[tokio::test]
async fn an_unknown_tool_name_fails_the_server_listing_the_valid_ones() {
    let output = binary(
        &["--sandbox", "--exclude-tools", "cstar_delete_ticket"],
        &[],
    )
    .output()
    .await
    .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("'cstar_delete_ticket'") && stderr.contains("cstar_list_tickets"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_http_each_request_uses_its_own_key_and_never_sees_another_team() {
    let sandbox = start_sandbox().await;
    let (_server, url) = http_server(&sandbox.base_url(), &[]).await;
    let acme = http_client(&url, SECRET_TEST).await;
    let globex = http_client(&url, GLOBEX_TEST).await;
    assert_eq!(acme.list_all_tools().await.unwrap().len(), 9);
    let mut tasks = tokio::task::JoinSet::new();
    for round in 0..20 {
        for (client, team) in [
            (acme.clone(), "Acme Support"),
            (globex.clone(), "Globex Help"),
        ] {
            tasks.spawn(async move {
                let tool = if round % 2 == 0 {
                    "cstar_get_status"
                } else {
                    "cstar_list_tickets"
                };
                let params =
                    CallToolRequestParams::new(tool).with_arguments(serde_json::Map::new());
                let result = client.call_tool(params).await.unwrap();
                let content = result.structured_content.unwrap();
                if tool == "cstar_get_status" {
                    assert_eq!(content["team"]["name"], team);
                }
                (team, tool, content)
            });
        }
    }
    let mut first_ticket: std::collections::HashMap<&str, Value> = Default::default();
    while let Some(joined) = tasks.join_next().await {
        let (team, tool, content) = joined.unwrap();
        if tool == "cstar_list_tickets" {
            let id = content["tickets"][0]["id"].clone();
            let seen = first_ticket.entry(team).or_insert_with(|| id.clone());
            assert_eq!(*seen, id, "{team} always sees its own tickets");
        }
    }
    assert_ne!(first_ticket["Acme Support"], first_ticket["Globex Help"]);
    assert!(
        !requests(&sandbox)
            .await
            .iter()
            .any(|r| r.to_string().contains("sandboxDemo"))
    );
}

#[tokio::test]
async fn over_http_bad_keys_get_a_readable_401_and_foreign_hosts_a_403() {
    let sandbox = start_sandbox().await;
    let (_server, url) = http_server(&sandbox.base_url(), &[]).await;
    let http = reqwest::Client::new();
    let init = json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize",
                       "params": { "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": { "name": "t", "version": "1" } } });
    let post = |key: Option<&str>| {
        let mut builder = http
            .post(&url)
            .header("accept", "application/json, text/event-stream")
            .json(&init);
        if let Some(key) = key {
            builder = builder.bearer_auth(key);
        }
        builder.send()
    };
    for (key, code) in [
        (None, "missing_api_key"),
        (Some("hunter2"), "invalid_key_format"),
        (Some(UNKNOWN_KEY), "invalid_api_key"),
    ] {
        let response = post(key).await.unwrap();
        assert_eq!(response.status().as_u16(), 401, "{key:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], code, "{body}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains("key"),
            "{body}"
        );
        assert!(
            !body.to_string().contains("a1B2c3D4"),
            "the key is not echoed"
        );
    }
    assert_eq!(
        post(Some(SECRET_TEST)).await.unwrap().status().as_u16(),
        200
    );
    let foreign = http
        .post(&url)
        .header("host", "evil.example.com")
        .bearer_auth(SECRET_TEST)
        .json(&init)
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status().as_u16(), 403);
    let huge = http
        .post(&url)
        .bearer_auth(SECRET_TEST)
        .body(vec![b' '; 2 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status().as_u16(), 413);
    let health: Value = reqwest::get(url.replace("/mcp", "/healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
}

#[tokio::test]
async fn over_http_sigterm_lets_calls_in_flight_finish() {
    let sandbox = start_sandbox().await;
    let (mut server, url) = http_server(&sandbox.base_url(), &[]).await;
    let client = http_client(&url, SECRET_TEST).await;
    fault(
        &sandbox,
        json!({ "path": "*/tickets", "fault": "delay", "ms": 700 }),
    )
    .await;
    let call = tokio::spawn(async move {
        let params =
            CallToolRequestParams::new("cstar_list_tickets").with_arguments(serde_json::Map::new());
        client.call_tool(params).await
    });
    tokio::time::sleep(Duration::from_millis(250)).await;
    let pid = server.id().unwrap().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let result = call.await.unwrap().expect("the call in flight is answered");
    assert_ne!(result.is_error, Some(true));
    exits_cleanly(&mut server, "the server").await;
}
