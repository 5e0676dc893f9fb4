//! The real binary over stdio: handshakes of every protocol era, a clean
//! stdout, a quiet stderr about the key, and clean exits.

use std::process::Stdio;
use std::time::Duration;

use rmcp::ServiceExt;
use rmcp::transport::TokioChildProcess;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

use super::harness::*;

const BINARY: &str = env!("CARGO_BIN_EXE_cstar-mcp");

fn command(args: &[&str]) -> Command {
    let mut command = Command::new(BINARY);
    command
        .args(args)
        .env_remove("CSTAR_API_KEY")
        .env_remove("CSTAR_SECRET_KEY")
        .env_remove("CSTAR_TEAM_ID")
        .env_remove("CSTAR_BASE_URL")
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// Sends `lines`, closes stdin, and returns stdout lines, stderr and the exit code.
async fn session(mut child: Child, lines: &[Value]) -> (Vec<String>, String, Option<i32>) {
    let mut stdin = child.stdin.take().unwrap();
    for line in lines {
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
    }
    stdin.flush().await.unwrap();
    // Give in-flight calls time to answer before closing stdin.
    tokio::time::sleep(Duration::from_millis(600)).await;
    drop(stdin);
    let output = tokio::time::timeout(Duration::from_secs(10), child.wait_with_output())
        .await
        .expect("the server exits after stdin closes")
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    (
        stdout.lines().map(str::to_owned).collect(),
        stderr,
        output.status.code(),
    )
}

fn by_id(lines: &[String], id: i64) -> Value {
    lines
        .iter()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|message| message["id"] == id)
        .unwrap_or_else(|| panic!("no answer for id {id} in {lines:#?}"))
}

fn initialize(version: &str) -> Value {
    json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": { "protocolVersion": version, "capabilities": {}, "clientInfo": { "name": "test", "version": "1" } } })
}

fn request(id: i64, method: &str, params: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })
}

#[tokio::test]
async fn handshake_list_and_call_for_initialize_era_clients() {
    for version in ["2024-11-05", "2025-06-18", "2025-11-25"] {
        let child = command(&["--sandbox", "--log-level", "trace"])
            .spawn()
            .unwrap();
        let (lines, stderr, code) = session(
            child,
            &[
                initialize(version),
                json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }),
                request(2, "tools/list", json!({})),
                request(
                    3,
                    "tools/call",
                    json!({ "name": "cstar_list_tickets", "arguments": { "pageSize": 1 } }),
                ),
            ],
        )
        .await;
        let init = by_id(&lines, 1);
        assert_eq!(init["result"]["protocolVersion"], version);
        assert_eq!(init["result"]["serverInfo"]["name"], "cstar-mcp");
        assert_eq!(
            init["result"]["serverInfo"]["version"],
            env!("CARGO_PKG_VERSION")
        );
        assert!(
            init["result"]["instructions"]
                .as_str()
                .unwrap()
                .contains("cstar_get_status")
        );
        assert_eq!(
            by_id(&lines, 2)["result"]["tools"]
                .as_array()
                .unwrap()
                .len(),
            9
        );
        assert_eq!(
            by_id(&lines, 3)["result"]["structuredContent"]["pagination"]["total"],
            200
        );
        for line in &lines {
            let message: Value =
                serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON on stdout: {line}"));
            assert_eq!(message["jsonrpc"], "2.0", "{line}");
        }
        assert!(
            !stderr.contains("sandboxDemoSecretTestKey"),
            "the key leaked into logs"
        );
        assert!(
            stderr.contains("TRACE") || stderr.contains("DEBUG"),
            "trace logging reached stderr"
        );
        assert_eq!(code, Some(0), "{stderr}");
    }
}

#[tokio::test]
async fn clients_without_initialize_are_served() {
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": { "name": "test", "version": "1" }
    });
    let child = command(&["--sandbox"]).spawn().unwrap();
    let (lines, stderr, code) = session(
        child,
        &[
            request(1, "server/discover", json!({ "_meta": meta })),
            request(2, "tools/list", json!({ "_meta": meta })),
            request(
                3,
                "tools/call",
                json!({ "name": "cstar_get_status", "arguments": {}, "_meta": meta }),
            ),
        ],
    )
    .await;
    let versions = by_id(&lines, 1)["result"]["supportedVersions"].clone();
    assert!(
        versions.as_array().unwrap().contains(&json!("2026-07-28")),
        "{versions}"
    );
    assert_eq!(
        by_id(&lines, 2)["result"]["tools"]
            .as_array()
            .unwrap()
            .len(),
        9
    );
    assert_eq!(
        by_id(&lines, 3)["result"]["structuredContent"]["team"]["name"],
        "Acme Support"
    );
    assert_eq!(code, Some(0), "{stderr}");
}

#[tokio::test]
async fn garbage_and_unknown_methods_do_not_stop_the_server() {
    let child = command(&["--sandbox"]).spawn().unwrap();
    let (lines, stderr, code) = session(
        child,
        &[
            initialize("2025-06-18"),
            json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }),
            json!("this is not a request"),
            json!({ "jsonrpc": "2.0", "id": 2, "method": "no/such/method", "params": {} }),
            json!({ "jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": { "name": "cstar_list_tickets", "arguments": { "page": "two" } } }),
            request(4, "tools/call", json!({ "name": "cstar_list_events", "arguments": {} })),
        ],
    )
    .await;
    assert!(by_id(&lines, 2)["error"]["code"].is_number());
    assert_eq!(by_id(&lines, 3)["result"]["isError"], true);
    assert_eq!(by_id(&lines, 4)["result"]["structuredContent"]["count"], 35);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(code, Some(0));
}

#[tokio::test]
async fn stdin_closed_before_initialize_is_a_clean_exit() {
    let child = command(&[]).spawn().unwrap();
    let (lines, stderr, code) = session(child, &[]).await;
    assert!(lines.is_empty());
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
    assert_eq!(code, Some(0));
}

#[tokio::test]
async fn sigterm_is_a_clean_exit() {
    let mut child = command(&["--sandbox"]).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(format!("{}\n", initialize("2025-06-18")).as_bytes())
        .await
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(5), stdout.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(first.contains("\"id\":1"));
    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(0));
}

#[tokio::test]
async fn an_rmcp_client_uses_the_binary_with_a_key_from_the_environment() {
    let sandbox = start_sandbox().await;
    let mut command = Command::new(BINARY);
    command
        .env("CSTAR_API_KEY", SECRET_TEST)
        .env("CSTAR_BASE_URL", sandbox.base_url())
        .env_remove("RUST_LOG")
        .stderr(Stdio::null());
    let client = ().serve(TokioChildProcess::new(command).unwrap()).await.unwrap();
    assert_eq!(client.list_all_tools().await.unwrap().len(), 9);
    let result = call(
        &client,
        "cstar_get_customer",
        json!({ "customerId": "cus_0000" }),
    )
    .await;
    assert!(error_text(&result).contains("was not found"));
    let result = call(&client, "cstar_list_customers", json!({ "pageSize": 3 })).await;
    assert_eq!(ok(&result)["customers"].as_array().unwrap().len(), 3);
    client.cancel().await.unwrap();
}

#[test]
fn help_lists_every_flag_and_variable() {
    let output = std::process::Command::new(BINARY)
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    for needle in [
        "--api-key",
        "CSTAR_API_KEY",
        "CSTAR_SECRET_KEY",
        "--team-id",
        "CSTAR_TEAM_ID",
        "--base-url",
        "CSTAR_BASE_URL",
        "--timeout",
        "--log-level",
        "RUST_LOG",
        "--sandbox",
        "sandbox [--port N]",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}");
    }
    let output = std::process::Command::new(BINARY)
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(output.stdout).unwrap().trim(),
        format!("cstar-mcp {}", env!("CARGO_PKG_VERSION"))
    );
    let output = std::process::Command::new(BINARY)
        .arg("--bogus")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8(output.stderr)
            .unwrap()
            .contains("unknown argument")
    );
}

#[tokio::test]
async fn the_standalone_sandbox_prints_its_address_first() {
    let mut child = command(&["sandbox", "--port", "0"]).spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(5), stdout.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let url = first
        .strip_prefix("listening on ")
        .expect(&first)
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"));
    let mut banner = String::new();
    for _ in 0..6 {
        banner.push_str(&stdout.next_line().await.unwrap().unwrap());
    }
    assert!(banner.contains(SECRET_TEST) && banner.contains(PUBLISHABLE_TEST));
    let whoami: Value = reqwest::Client::new()
        .get(format!("{url}/api/v1/auth/whoami"))
        .bearer_auth(SECRET_TEST)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(whoami["data"]["teamName"], "Acme Support");
    child.kill().await.unwrap();
}
