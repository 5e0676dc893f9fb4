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

/// Sends `lines`, closes stdin, and returns stdout lines, stderr and the exit code.
pub(super) async fn session(
    mut child: Child,
    lines: &[Value],
) -> (Vec<String>, String, Option<i32>) {
    let mut stdin = child.stdin.take().unwrap();
    write_messages(&mut stdin, lines).await;
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

pub(super) fn by_id(lines: &[String], id: i64) -> Value {
    lines
        .iter()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|message| message["id"] == id)
        .unwrap_or_else(|| panic!("no answer for id {id} in {lines:#?}"))
}

pub(super) fn initialize(version: &str) -> Value {
    json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": { "protocolVersion": version, "capabilities": {}, "clientInfo": { "name": "test", "version": "1" } } })
}

/// The `_meta` a 2026-07-28 client sends with each request instead of an
/// `initialize`.
pub(super) fn meta_2026_07_28() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": { "name": "test", "version": "1" }
    })
}

pub(super) fn request(id: i64, method: &str, params: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })
}

#[tokio::test]
async fn handshake_list_and_call_for_initialize_era_clients() {
    for version in ["2024-11-05", "2025-06-18", "2025-11-25"] {
        let child = binary(&["--sandbox", "--log-level", "trace"], &[])
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
    let meta = meta_2026_07_28();
    let child = binary(&["--sandbox"], &[]).spawn().unwrap();
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
    let child = binary(&["--sandbox"], &[]).spawn().unwrap();
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
async fn every_unreadable_line_gets_a_json_rpc_answer_and_serving_goes_on() {
    let mut child = binary(&["--sandbox"], &[]).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let deep = format!("{}{}", "[".repeat(5_000), "]".repeat(5_000));
    let lines: Vec<Vec<u8>> = vec![
        initialize("2025-06-18").to_string().into_bytes(),
        br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.to_vec(),
        b"this is not json".to_vec(),
        b"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\",\"x\":\"\xff\xfe\"}".to_vec(),
        br#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"cstar_list_tickets","arguments":{"search":"caf\ud83d"}}}"#.to_vec(),
        deep.into_bytes(),
        br#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":"oops"}"#.to_vec(),
        br#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"cstar_list_events","arguments":{}}}"#.to_vec(),
    ];
    for line in &lines {
        stdin.write_all(line).await.unwrap();
        stdin.write_all(b"\n").await.unwrap();
    }
    stdin.flush().await.unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut answers = Vec::new();
    while answers.len() < 7 {
        let line = tokio::time::timeout(Duration::from_secs(10), stdout.next_line())
            .await
            .unwrap_or_else(|_| panic!("only these answers came: {answers:#?}"))
            .unwrap()
            .unwrap();
        answers.push(serde_json::from_str::<Value>(&line).unwrap());
    }
    let with_id = |id: Value| answers.iter().filter(move |a| a["id"] == id);
    let parse_errors: Vec<&Value> = with_id(Value::Null).collect();
    assert_eq!(
        parse_errors.len(),
        2,
        "garbage and deep nesting: {answers:#?}"
    );
    for answer in parse_errors {
        assert_eq!(answer["error"]["code"], -32700);
    }
    let ping = with_id(json!(2)).next().unwrap();
    assert!(
        ping["result"].is_object(),
        "invalid UTF-8 is read leniently: {ping}"
    );
    let search = with_id(json!(3)).next().unwrap();
    assert!(
        search["result"]["structuredContent"]["tickets"].is_array(),
        "{search}"
    );
    assert_eq!(with_id(json!(4)).next().unwrap()["error"]["code"], -32600);
    assert_eq!(
        with_id(json!(5)).next().unwrap()["result"]["structuredContent"]["count"],
        35
    );
    drop(stdin);
    exits_cleanly(&mut child, "after stdin closes").await;
}

#[tokio::test]
async fn stdin_closed_before_initialize_is_a_clean_exit() {
    let child = binary(&[], &[]).spawn().unwrap();
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
    let mut child = binary(&["--sandbox"], &[]).spawn().unwrap();
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
    exits_cleanly(&mut child, "the server").await;
}

#[tokio::test]
async fn an_rmcp_client_uses_the_binary_with_a_key_from_the_environment() {
    let sandbox = start_sandbox().await;
    let mut command = binary_on(&sandbox, &[]);
    command.stderr(Stdio::null());
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
        "sandbox",
        "doctor",
        "--http",
        "--no-recent-resources",
        "CSTAR_NO_RECENT_RESOURCES",
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
            .contains("unexpected argument")
    );
}

#[tokio::test]
async fn the_standalone_sandbox_prints_its_address_first() {
    let mut child = binary(&["sandbox", "--port", "0"], &[]).spawn().unwrap();
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
        .send_json()
        .await;
    assert_eq!(whoami["data"]["teamName"], "Acme Support");
    child.kill().await.unwrap();
}

/// Peak resident memory of a process, from /proc (Linux).
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test]
async fn a_thousand_calls_in_flight_and_a_5_mb_argument_stay_bounded() {
    let mut child = binary(&["--sandbox"], &[]).spawn().unwrap();
    let pid = child.id().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut batch = format!(
        "{}\n{}\n",
        initialize("2025-06-18"),
        json!({ "jsonrpc": "2.0", "method": "notifications/initialized" })
    );
    for id in 2..1002 {
        batch.push_str(&format!(
            "{}\n",
            request(
                id,
                "tools/call",
                json!({ "name": "cstar_list_events", "arguments": {} })
            )
        ));
    }
    let huge = "x".repeat(5 * 1024 * 1024);
    batch.push_str(&format!(
        "{}\n",
        request(
            5000,
            "tools/call",
            json!({ "name": "cstar_list_tickets", "arguments": { "search": huge } })
        )
    ));
    // Written while the answers are read: the server reads no further
    // than it has room for answers.
    let writer = tokio::spawn(async move {
        stdin.write_all(batch.as_bytes()).await.unwrap();
        stdin.flush().await.unwrap();
        stdin
    });
    let mut answered = std::collections::HashSet::new();
    let mut huge_answer = Value::Null;
    tokio::time::timeout(Duration::from_secs(30), async {
        while answered.len() < 1002 {
            let line = stdout.next_line().await.unwrap().unwrap();
            let message: Value = serde_json::from_str(&line).unwrap();
            let id = message["id"].as_i64().unwrap();
            if id == 5000 {
                huge_answer = message.clone();
            }
            answered.insert(id);
        }
    })
    .await
    .expect("every request is answered");
    assert_eq!(huge_answer["result"]["isError"], true);
    assert!(
        huge_answer.to_string().len() < 2_000,
        "the error does not echo the 5 MB argument"
    );
    let peak = peak_rss_kib(pid).unwrap();
    println!(
        "peak RSS after 1,000 in-flight calls and a 5 MB argument: {} KiB",
        peak
    );
    assert!(
        peak < 96 * 1024,
        "peak RSS {peak} KiB is over the 96 MiB bound"
    );
    drop(writer.await.unwrap());
    exits_cleanly(&mut child, "the server").await;
}

#[tokio::test]
async fn a_cancelled_call_is_dropped_and_the_server_keeps_answering() {
    let sandbox = start_sandbox().await;
    let mut child = binary_on(&sandbox, &[]).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let send = |value: Value| format!("{value}\n");
    stdin
        .write_all(send(initialize("2025-11-25")).as_bytes())
        .await
        .unwrap();
    stdin
        .write_all(
            send(json!({ "jsonrpc": "2.0", "method": "notifications/initialized" })).as_bytes(),
        )
        .await
        .unwrap();
    stdin
        .write_all(
            send(request(
                2,
                "tools/call",
                json!({ "name": "cstar_get_status", "arguments": {} }),
            ))
            .as_bytes(),
        )
        .await
        .unwrap();
    fault(
        &sandbox,
        json!({ "path": "*/tickets", "fault": "delay", "ms": 3000 }),
    )
    .await;
    stdin
        .write_all(
            send(request(
                7,
                "tools/call",
                json!({ "name": "cstar_list_tickets", "arguments": {} }),
            ))
            .as_bytes(),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let cancel = json!({ "jsonrpc": "2.0", "method": "notifications/cancelled", "params": { "requestId": 7, "reason": "test" } });
    stdin.write_all(send(cancel).as_bytes()).await.unwrap();
    stdin
        .write_all(
            send(request(
                8,
                "tools/call",
                json!({ "name": "cstar_list_events", "arguments": {} }),
            ))
            .as_bytes(),
        )
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let mut seen = Vec::new();
    while !seen.contains(&8) {
        let line = tokio::time::timeout(Duration::from_secs(5), stdout.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        seen.push(
            serde_json::from_str::<Value>(&line).unwrap()["id"]
                .as_i64()
                .unwrap_or(-1),
        );
    }
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "the next call is not held up"
    );
    // Past the upstream delay, the cancelled call has still not answered.
    let late = tokio::time::timeout(Duration::from_millis(3200), stdout.next_line()).await;
    assert!(late.is_err(), "no answer for a cancelled request: {late:?}");
    assert!(!seen.contains(&7));
    let tickets: Vec<Value> = requests(&sandbox)
        .await
        .into_iter()
        .filter(|r| r["path"].as_str().unwrap().ends_with("/tickets"))
        .collect();
    assert_eq!(tickets.len(), 1, "the cancelled request was not retried");
    // Past its 3 s delay, the sandbox never answered: the client dropped
    // the HTTP request and its connection when the call was cancelled.
    assert!(tickets[0]["status"].is_null(), "{}", tickets[0]);
    drop(stdin);
    exits_cleanly(&mut child, "the server").await;
}

#[tokio::test]
async fn stdin_closed_mid_call_exits_within_five_seconds() {
    let sandbox = start_sandbox().await;
    let mut child = binary_on(&sandbox, &[]).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    fault(
        &sandbox,
        json!({ "path": "*", "fault": "delay", "ms": 15000 }),
    )
    .await;
    let lines = format!(
        "{}\n{}\n{}\n",
        initialize("2025-06-18"),
        json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }),
        request(
            2,
            "tools/call",
            json!({ "name": "cstar_list_tickets", "arguments": {} })
        )
    );
    stdin.write_all(lines.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = std::time::Instant::now();
    drop(stdin);
    let status = tokio::time::timeout(Duration::from_secs(8), child.wait())
        .await
        .expect("exits")
        .unwrap();
    println!("exit after stdin closed mid-call: {:?}", started.elapsed());
    assert!(started.elapsed() < Duration::from_millis(6500));
    assert_eq!(status.code(), Some(0));
}

#[tokio::test]
async fn the_key_never_appears_in_any_output_even_at_trace_level() {
    let sandbox = start_sandbox().await;
    let faults = [
        json!({ "fault": "status", "status": 401, "message": "Bad header: {authorization}" }),
        json!({ "fault": "status", "status": 400, "message": "Echo: {authorization}" }),
        json!({ "fault": "status", "status": 429, "retryAfter": 1 }),
        json!({ "fault": "status", "status": 503 }),
        json!({ "fault": "html502" }),
        json!({ "fault": "malformed_json" }),
        json!({ "fault": "truncated_body" }),
        json!({ "fault": "reset" }),
        json!({ "fault": "commit_then_drop" }),
        json!({ "fault": "delay", "ms": 1500 }),
    ];
    for rule in faults {
        fault(&sandbox, rule).await;
    }
    let child = binary_on(&sandbox, &["--log-level", "trace", "--timeout", "1"])
        .spawn()
        .unwrap();
    let mut lines = vec![
        initialize("2025-06-18"),
        json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }),
    ];
    let calls = [
        ("cstar_get_status", json!({})),
        ("cstar_list_tickets", json!({})),
        ("cstar_create_ticket", json!({ "title": "secret hygiene" })),
        (
            "cstar_trigger_webhook",
            json!({ "event": "ticket.created" }),
        ),
        ("cstar_list_customers", json!({})),
        (
            "cstar_get_ticket",
            json!({ "ticketId": "tkt_0123456789abcdef0123456789abcdef" }),
        ),
        ("cstar_list_articles", json!({ "category": "Billing" })),
    ];
    for (id, (name, arguments)) in calls.iter().enumerate() {
        lines.push(request(
            id as i64 + 2,
            "tools/call",
            json!({ "name": name, "arguments": arguments }),
        ));
    }
    let (stdout, stderr, code) = session(child, &lines).await;
    let stdout = stdout.join("\n");
    let token = SECRET_TEST.trim_start_matches("sk_test_");
    assert!(stderr.contains("TRACE"), "trace logs were written");
    assert!(
        stdout.contains("[redacted]"),
        "an echoed key is shown redacted: {stdout}"
    );
    assert!(!stdout.contains(token), "the key is in stdout");
    assert!(!stderr.contains(token), "the key is in stderr");
    assert!(
        !requests(&sandbox)
            .await
            .iter()
            .any(|r| r.to_string().contains(token)),
        "the key is in the request log"
    );
    assert_eq!(code, Some(0));
}

#[tokio::test]
async fn doctor_reports_a_healthy_sandbox_and_a_clear_failure_for_a_wrong_key() {
    let output = binary(&["doctor", "--sandbox"], &[])
        .output()
        .await
        .unwrap();
    let report = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{report}");
    for needle in [
        "[ ok ] API key: sk_test_ (secret, test)",
        "team Acme Support",
        "999 of 1000",
        "tools exposed: 9",
        "tools/list size",
        "healthy",
    ] {
        assert!(report.contains(needle), "{needle:?} not in {report}");
    }

    let sandbox = start_sandbox().await;
    let output = binary(&["doctor"], &[])
        .env("CSTAR_API_KEY", UNKNOWN_KEY)
        .env("CSTAR_BASE_URL", sandbox.base_url())
        .output()
        .await
        .unwrap();
    let report = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report.contains("[FAIL] whoami: cStar rejected the API key (401 invalid_api_key"),
        "{report}"
    );
    assert!(report.contains("not healthy"), "{report}");
    assert!(
        !report.contains(UNKNOWN_KEY.trim_start_matches("sk_live_")),
        "the key is never printed"
    );

    let output = binary(&["doctor"], &[]).output().await.unwrap();
    let report = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        report.contains("[FAIL] API key: none configured. Set CSTAR_API_KEY"),
        "{report}"
    );
}

/// In a network namespace of its own (`unshare -rn`), name lookups fail at
/// once and nothing leaves the machine: an unresolvable base URL. CI always
/// runs it; a machine without user namespaces says so and skips it.
#[tokio::test]
async fn an_unresolvable_base_url_is_a_clear_error_for_every_tool() {
    let namespaces = std::process::Command::new("unshare")
        .args(["-rn", "true"])
        .status()
        .is_ok_and(|status| status.success());
    if !namespaces {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must be able to run `unshare -rn`"
        );
        eprintln!(
            "skipped: this machine cannot create a network namespace (`unshare -rn true` failed)"
        );
        return;
    }
    let mut command = Command::new("unshare");
    command
        .args(["-rn", BINARY])
        .env("CSTAR_API_KEY", SECRET_TEST)
        .env("CSTAR_BASE_URL", "http://cstar.invalid")
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = command.spawn().expect("unshare (util-linux) runs");
    let started = std::time::Instant::now();
    let tools = [
        ("cstar_list_tickets", json!({})),
        ("cstar_get_ticket", json!({ "ticketId": "tkt_1" })),
        ("cstar_create_ticket", json!({ "title": "x" })),
        ("cstar_list_customers", json!({})),
        ("cstar_get_customer", json!({ "customerId": "cus_1" })),
        ("cstar_list_articles", json!({})),
        (
            "cstar_trigger_webhook",
            json!({ "event": "ticket.created" }),
        ),
        ("cstar_get_status", json!({})),
    ];
    let mut lines = vec![
        initialize("2025-06-18"),
        json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }),
    ];
    for (id, (name, arguments)) in tools.iter().enumerate() {
        lines.push(request(
            id as i64 + 2,
            "tools/call",
            json!({ "name": name, "arguments": arguments }),
        ));
    }
    lines.push(request(
        100,
        "tools/call",
        json!({ "name": "cstar_list_events", "arguments": {} }),
    ));
    // Wait for every answer before closing stdin: each call makes 3 attempts.
    let mut child = child;
    let mut stdin = child.stdin.take().unwrap();
    write_messages(&mut stdin, &lines).await;
    let mut reader = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stdout = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), async {
        while stdout.len() < tools.len() + 2 {
            stdout.push(reader.next_line().await.unwrap().unwrap());
        }
    })
    .await
    .expect("every call is answered");
    drop(stdin);
    exits_cleanly(&mut child, "the server").await;
    for (id, (name, _)) in tools.iter().enumerate() {
        let answer = by_id(&stdout, id as i64 + 2);
        assert_eq!(answer["result"]["isError"], true, "{name}");
        let text = answer["result"]["content"][0]["text"].as_str().unwrap();
        assert!(
            text.contains("Could not reach cStar at http://cstar.invalid"),
            "{name}: {text}"
        );
        assert!(text.contains("CSTAR_BASE_URL"), "{name}: {text}");
    }
    assert_eq!(
        by_id(&stdout, 100)["result"]["structuredContent"]["count"],
        35,
        "still serving"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "failed calls do not queue behind each other"
    );
}

#[tokio::test]
async fn a_cstar_on_loopback_is_reached_directly_whatever_the_proxy_settings() {
    let sandbox = start_sandbox().await;
    let proxy = CapturingProxy::start().await;
    let via = proxy.url.as_str();
    let env = [
        ("HTTP_PROXY", via),
        ("http_proxy", via),
        ("ALL_PROXY", via),
        ("NO_PROXY", "example.com"),
    ];
    let setups = [
        ("--sandbox", binary(&["--sandbox"], &[])),
        ("a sandbox at CSTAR_BASE_URL", binary_on(&sandbox, &[])),
    ];
    for (setup, command) in setups {
        let command = with_proxy_settings(command, &env);
        let (transport, _) = TokioChildProcess::builder(command)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let client = ().serve(transport).await.unwrap();
        let status = ok(&call(&client, "cstar_get_status", json!({})).await);
        assert_eq!(status["team"]["name"], "Acme Support", "{setup}");
        let listed = ok(&call(&client, "cstar_list_tickets", json!({ "pageSize": 2 })).await);
        assert_eq!(listed["tickets"].as_array().unwrap().len(), 2, "{setup}");
        assert_eq!(
            proxy.captured(),
            Vec::<String>::new(),
            "{setup}: nothing reaches the proxy"
        );
        client.cancel().await.unwrap();
    }
}

/// Writes `lines` to `stdin` from a task of its own, counting the lines
/// the server took, until the writes stall (two seconds without progress)
/// or all are written. Returns the count then, and the writing task.
async fn write_until_stalled(
    mut stdin: tokio::process::ChildStdin,
    lines: Vec<String>,
) -> (usize, tokio::task::JoinHandle<tokio::process::ChildStdin>) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let written = Arc::new(AtomicUsize::new(0));
    let count = written.clone();
    let writer = tokio::spawn(async move {
        for line in lines {
            stdin.write_all(line.as_bytes()).await.unwrap();
            count.fetch_add(1, Ordering::SeqCst);
        }
        stdin
    });
    let (mut last, mut still) = (usize::MAX, 0);
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = written.load(Ordering::SeqCst);
        if writer.is_finished() {
            return (now, writer);
        }
        if now == last {
            still += 1;
            if still == 20 {
                return (now, writer);
            }
        } else {
            (last, still) = (now, 0);
        }
    }
}

/// Reads answers until `expected` ids have one each, then, once stdin is
/// closed, to the end: every id must have exactly one answer.
async fn every_id_answered_once(
    stdout: tokio::process::ChildStdout,
    expected: &[Value],
    writer: tokio::task::JoinHandle<tokio::process::ChildStdin>,
    check: impl Fn(&Value),
) {
    let mut lines = BufReader::new(stdout).lines();
    let mut answers: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let wanted: std::collections::HashSet<String> = expected.iter().map(Value::to_string).collect();
    let mut missing = wanted.len();
    tokio::time::timeout(Duration::from_secs(120), async {
        while missing > 0 {
            let line = lines.next_line().await.unwrap().expect("an answer");
            let answer: Value = serde_json::from_str(&line).unwrap();
            check(&answer);
            let count = answers.entry(answer["id"].to_string()).or_default();
            *count += 1;
            if *count == 1 && wanted.contains(&answer["id"].to_string()) {
                missing -= 1;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{missing} requests still unanswered after 120 s"));
    drop(writer.await.unwrap());
    while let Some(line) = lines.next_line().await.unwrap() {
        let answer: Value = serde_json::from_str(&line).unwrap();
        *answers.entry(answer["id"].to_string()).or_default() += 1;
    }
    assert_eq!(answers.len(), wanted.len(), "answers to unknown ids");
    assert!(
        answers.values().all(|count| *count == 1),
        "an id answered twice"
    );
}

/// Takes `child`'s standard streams and makes the server's handshake on
/// them, ready for a flood.
async fn handshaken(
    child: &mut tokio::process::Child,
) -> (tokio::process::ChildStdin, tokio::process::ChildStdout) {
    use tokio::io::AsyncReadExt;
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let lines = format!(
        "{}\n{}\n",
        initialize("2025-11-25"),
        json!({ "jsonrpc": "2.0", "method": "notifications/initialized" })
    );
    stdin.write_all(lines.as_bytes()).await.unwrap();
    // Read the initialize answer byte by byte, so nothing after it is
    // taken from the pipe.
    let mut byte = [0u8; 1];
    while byte[0] != b'\n' {
        stdout.read_exact(&mut byte).await.unwrap();
    }
    (stdin, stdout)
}

/// The binary on its built-in sandbox, stderr discarded, after the
/// handshake: the child, its pid and its standard streams.
async fn sandbox_server_to_flood() -> (
    tokio::process::Child,
    u32,
    tokio::process::ChildStdin,
    tokio::process::ChildStdout,
) {
    let mut child = binary(&["--sandbox"], &[])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    let (stdin, stdout) = handshaken(&mut child).await;
    (child, pid, stdin, stdout)
}

/// Asserts a peak RSS, in KiB, under the 48 MiB bound a flood must stay in.
fn assert_within_48_mib(peak: u64) {
    assert!(
        peak < 48 * 1024,
        "peak RSS {peak} KiB over the 48 MiB bound"
    );
}

#[tokio::test]
async fn a_client_that_stops_reading_stops_the_server_reading_then_gets_every_answer_once() {
    const CALLS: i64 = 10_000;
    let (mut child, pid, stdin, stdout) = sandbox_server_to_flood().await;
    let lines: Vec<String> = (2..CALLS + 2)
        .map(|id| {
            format!(
                "{}\n",
                request(
                    id,
                    "tools/call",
                    json!({ "name": "cstar_list_events", "arguments": {} })
                )
            )
        })
        .collect();
    let (taken, writer) = write_until_stalled(stdin, lines).await;
    let peak = peak_rss_kib(pid).unwrap();
    println!(
        "the server took {taken} of {CALLS} calls and peaked at {peak} KiB before it stopped reading"
    );
    assert!(
        taken < 2_500,
        "the server read {taken} of {CALLS} calls no one read the answers of"
    );
    assert_within_48_mib(peak);
    let ids: Vec<Value> = (2..CALLS + 2).map(Value::from).collect();
    every_id_answered_once(stdout, &ids, writer, |answer| {
        assert_eq!(
            answer["result"]["structuredContent"]["count"], 35,
            "{answer}"
        );
    })
    .await;
    exits_cleanly(&mut child, "the server").await;
}

#[tokio::test]
async fn garbage_from_a_client_that_stops_reading_is_not_queued_and_every_line_is_answered_once() {
    const LINES: usize = 50_000;
    let (mut child, pid, stdin, stdout) = sandbox_server_to_flood().await;
    // Each kind of line the transport answers itself: not JSON, JSON
    // that is no message, an id of the wrong type. The last is a request.
    let mut lines: Vec<String> = (0..LINES)
        .map(|n| match n % 3 {
            0 => "garbage\n".to_owned(),
            1 => "{}\n".to_owned(),
            _ => "{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}\n".to_owned(),
        })
        .collect();
    lines.push(format!("{}\n", request(2, "ping", json!({}))));
    let (taken, writer) = write_until_stalled(stdin, lines).await;
    let peak = peak_rss_kib(pid).unwrap();
    println!(
        "the server took {taken} of {LINES} lines and peaked at {peak} KiB before it stopped reading"
    );
    assert!(
        taken < LINES / 2,
        "the server read {taken} of {LINES} lines no one read the answers of"
    );
    assert_within_48_mib(peak);
    let mut lines = BufReader::new(stdout).lines();
    let mut errors = 0;
    let mut pinged = false;
    tokio::time::timeout(Duration::from_secs(120), async {
        while errors < LINES || !pinged {
            let line = lines.next_line().await.unwrap().expect("an answer");
            let answer: Value = serde_json::from_str(&line).unwrap();
            if answer["id"] == 2 {
                pinged = true;
            } else {
                assert_eq!(answer["id"], Value::Null, "{answer}");
                assert!(answer["error"]["code"].is_i64(), "{answer}");
                errors += 1;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{errors} of {LINES} lines answered after 120 s"));
    drop(writer.await.unwrap());
    assert_eq!(
        lines.next_line().await.unwrap(),
        None,
        "one answer per line"
    );
    exits_cleanly(&mut child, "the server").await;
}

#[tokio::test]
async fn cancelled_calls_free_their_room_so_the_server_keeps_reading() {
    let sandbox = start_sandbox().await;
    fault(
        &sandbox,
        json!({ "path": "*/tickets", "fault": "delay", "ms": 30000 }),
    )
    .await;
    let mut child = binary_on(&sandbox, &[])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (mut stdin, stdout) = handshaken(&mut child).await;
    // More slow calls than the server has room for, each cancelled.
    let mut lines = String::new();
    for id in 2..202 {
        lines.push_str(&format!(
            "{}\n{}\n",
            request(
                id,
                "tools/call",
                json!({ "name": "cstar_list_tickets", "arguments": {} })
            ),
            json!({ "jsonrpc": "2.0", "method": "notifications/cancelled", "params": { "requestId": id } })
        ));
    }
    lines.push_str(&format!(
        "{}\n",
        request(
            1000,
            "tools/call",
            json!({ "name": "cstar_list_events", "arguments": {} })
        )
    ));
    stdin.write_all(lines.as_bytes()).await.unwrap();
    let mut stdout = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(20), stdout.next_line())
        .await
        .expect("the call after 200 cancelled ones is read and answered")
        .unwrap()
        .unwrap();
    let answer: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(
        answer["id"], 1000,
        "cancelled calls get no answer: {answer}"
    );
    assert_eq!(answer["result"]["structuredContent"]["count"], 35);
    drop(stdin);
    exits_cleanly(&mut child, "the server").await;
}
