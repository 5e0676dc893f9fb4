//! Every message the server cannot serve gets the answer JSON-RPC 2.0
//! promises it, over stdio and over HTTP alike: -32700 for text that is
//! not JSON, -32600 for JSON that is not a request (id null unless it has
//! a string or numeric id), -32602 for params a served method cannot take,
//! -32601 for a method it does not serve, and nothing at all for a
//! notification or a response.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{ChildStdin, ChildStdout};

use super::harness::*;

/// One message and what it gets: over stdio, an error with `id` and `code`
/// (or nothing when `id` is `None`); over HTTP, the status `http` and, with
/// 400, a JSON-RPC error body with `code` (id null unless `id` says).
struct Case {
    line: &'static str,
    id: Option<Value>,
    code: i64,
    http: u16,
}

const fn answered(line: &'static str, code: i64, http: u16) -> (&'static str, i64, u16, bool) {
    (line, code, http, true)
}

const fn unanswered(line: &'static str, code: i64, http: u16) -> (&'static str, i64, u16, bool) {
    (line, code, http, false)
}

/// Every kind of message the server cannot serve. The id an answer carries
/// is read from the line itself: its `id` when that is a string or a
/// number, else null.
fn cases() -> Vec<Case> {
    let table = [
        // Not an object.
        answered("42", -32600, 400),
        answered(r#""s""#, -32600, 400),
        answered("null", -32600, 400),
        answered("true", -32600, 400),
        answered("[]", -32600, 400),
        answered(r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#, -32600, 400),
        // Not a request.
        answered("{}", -32600, 400),
        answered(r#"{"foo":1}"#, -32600, 400),
        answered(r#"{"jsonrpc":"2.0","method":5}"#, -32600, 400),
        answered(r#"{"method":"ping"}"#, -32600, 400),
        answered(r#"{"jsonrpc":"1.0","id":20,"method":"ping"}"#, -32600, 400),
        answered(r#"{"id":21,"method":"ping"}"#, -32600, 400),
        answered(
            r#"{"jsonrpc":"2.0","id":22,"method":"ping","result":{}}"#,
            -32600,
            400,
        ),
        // Ids of every JSON type.
        answered(
            r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#,
            -32600,
            400,
        ),
        answered(
            r#"{"jsonrpc":"2.0","id":true,"method":"ping"}"#,
            -32600,
            400,
        ),
        answered(
            r#"{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}"#,
            -32600,
            400,
        ),
        answered(r#"{"jsonrpc":"2.0","id":[1],"method":"ping"}"#, -32600, 400),
        answered(r#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#, -32600, 400),
        answered(
            r#"{"jsonrpc":"2.0","id":18446744073709551615,"method":"ping"}"#,
            -32600,
            400,
        ),
        // Params that are not structured.
        answered(
            r#"{"jsonrpc":"2.0","id":30,"method":"tools/call","params":"oops"}"#,
            -32600,
            400,
        ),
        answered(
            r#"{"jsonrpc":"2.0","id":31,"method":"tools/list","params":5}"#,
            -32600,
            400,
        ),
        // Params a served method cannot take.
        answered(
            r#"{"jsonrpc":"2.0","id":40,"method":"tools/call","params":{}}"#,
            -32602,
            200,
        ),
        answered(
            r#"{"jsonrpc":"2.0","id":"s-41","method":"tools/call","params":{"arguments":{}}}"#,
            -32602,
            200,
        ),
        answered(
            r#"{"jsonrpc":"2.0","id":42,"method":"tools/call","params":[1]}"#,
            -32602,
            400,
        ),
        answered(
            r#"{"jsonrpc":"2.0","id":43,"method":"resources/read","params":{}}"#,
            -32602,
            200,
        ),
        answered(
            r#"{"jsonrpc":"2.0","id":44,"method":"resources/read","params":{"uri":5}}"#,
            -32602,
            200,
        ),
        answered(
            r#"{"jsonrpc":"2.0","id":45,"method":"prompts/get","params":{}}"#,
            -32602,
            200,
        ),
        answered(
            r#"{"jsonrpc":"2.0","id":46,"method":"prompts/get","params":{"name":"nope"}}"#,
            -32602,
            200,
        ),
        answered(
            r#"{"jsonrpc":"2.0","id":47,"method":"completion/complete","params":{}}"#,
            -32602,
            200,
        ),
        answered(
            r#"{"jsonrpc":"2.0","id":48,"method":"completion/complete","params":{"ref":{"type":"ref/prompt","name":"nope"},"argument":{"name":"ticketId","value":""}}}"#,
            -32602,
            200,
        ),
        answered(
            r#"{"jsonrpc":"2.0","id":49,"method":"completion/complete","params":{"ref":{"type":"ref/resource","uri":"cstar://nope/{ticketId}"},"argument":{"name":"ticketId","value":""}}}"#,
            -32602,
            200,
        ),
        answered(
            r#"{"jsonrpc":"2.0","id":50,"method":"completion/complete","params":{"ref":{"type":"ref/prompt","name":"investigate_ticket"},"argument":{"name":"bogus","value":""}}}"#,
            -32602,
            200,
        ),
        answered(
            r#"{"jsonrpc":"2.0","id":51,"method":"completion/complete","params":{"ref":{"type":"ref/nothing"},"argument":{"name":"x","value":""}}}"#,
            -32602,
            200,
        ),
        answered(
            r#"{"jsonrpc":"2.0","id":52,"method":"ping","params":[]}"#,
            -32602,
            400,
        ),
        answered(
            r#"{"jsonrpc":"2.0","id":53,"method":"tools/list","params":{"cursor":"2"}}"#,
            -32602,
            200,
        ),
        answered(
            r#"{"jsonrpc":"2.0","id":54,"method":"prompts/list","params":{"cursor":"2"}}"#,
            -32602,
            200,
        ),
        answered(
            r#"{"jsonrpc":"2.0","id":55,"method":"resources/templates/list","params":{"cursor":"2"}}"#,
            -32602,
            200,
        ),
        answered(
            r#"{"jsonrpc":"2.0","id":56,"method":"resources/list","params":{"cursor":"x"}}"#,
            -32602,
            200,
        ),
        // Methods the server does not serve.
        answered(
            r#"{"jsonrpc":"2.0","id":60,"method":"no/such"}"#,
            -32601,
            200,
        ),
        answered(
            r#"{"jsonrpc":"2.0","id":61,"method":"no/such","params":[1]}"#,
            -32601,
            400,
        ),
        answered(
            r#"{"jsonrpc":"2.0","id":62,"method":"logging/setLevel","params":{"level":"info"}}"#,
            -32601,
            200,
        ),
        answered(
            r#"{"jsonrpc":"2.0","id":63,"method":"resources/subscribe","params":{"uri":"cstar://tickets/1"}}"#,
            -32601,
            200,
        ),
        // Notifications and responses: never answered.
        unanswered(
            r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":5}"#,
            -32600,
            400,
        ),
        unanswered(
            r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":424242}}"#,
            0,
            202,
        ),
        unanswered(
            r#"{"jsonrpc":"2.0","method":"notifications/bogus"}"#,
            0,
            202,
        ),
        unanswered(r#"{"jsonrpc":"2.0","id":99,"result":{}}"#, -32600, 400),
        unanswered(
            r#"{"jsonrpc":"2.0","id":98,"error":{"code":1,"message":"x"}}"#,
            -32600,
            400,
        ),
        unanswered(r#"{"jsonrpc":"2.0","id":97,"error":5}"#, -32600, 400),
        unanswered(
            r#"{"jsonrpc":"2.0","id":96,"result":1,"error":{}}"#,
            -32600,
            400,
        ),
    ];
    table
        .into_iter()
        .map(|(line, code, http, answers)| {
            let id = match serde_json::from_str::<Value>(line).unwrap().get("id") {
                Some(id @ (Value::String(_) | Value::Number(_))) => id.clone(),
                _ => Value::Null,
            };
            Case {
                line,
                id: answers.then_some(id),
                code,
                http,
            }
        })
        .collect()
}

struct Stdio {
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
    next_ping: i64,
}

impl Stdio {
    /// Sends `line` and then a ping, and returns every line that came back
    /// up to the ping's answer and, when `wanted` is given, an answer with
    /// that id (waited for ten seconds more at most).
    async fn exchange(&mut self, line: &str, wanted: Option<&Value>) -> Vec<Value> {
        self.next_ping += 1;
        let ping = self.next_ping;
        let sent = format!(
            "{line}\n{}\n",
            json!({ "jsonrpc": "2.0", "id": ping, "method": "ping" })
        );
        self.stdin.write_all(sent.as_bytes()).await.unwrap();
        let mut seen: Vec<Value> = Vec::new();
        let mut pinged = false;
        while !pinged || wanted.is_some_and(|id| !seen.iter().any(|a| a["id"] == *id)) {
            let next = match tokio::time::timeout(Duration::from_secs(10), self.stdout.next_line())
                .await
            {
                // The wanted answer never came: the caller says so.
                Err(_) if pinged => break,
                Err(_) => panic!("{line}: the ping after it got no answer; seen {seen:?}"),
                Ok(next) => next.unwrap().unwrap(),
            };
            let answer: Value = serde_json::from_str(&next).unwrap();
            if answer["id"] == ping {
                assert_eq!(answer["result"], json!({}), "{line}");
                pinged = true;
            } else {
                seen.push(answer);
            }
        }
        seen
    }
}

#[tokio::test]
async fn every_message_that_cannot_be_served_gets_json_rpc_s_answer_over_stdio() {
    let mut child = binary(&["--sandbox"], &[]).spawn().unwrap();
    let mut stdio = Stdio {
        stdin: child.stdin.take().unwrap(),
        stdout: BufReader::new(child.stdout.take().unwrap()).lines(),
        next_ping: 10_000,
    };
    let init = super::stdio::initialize("2025-11-25");
    let initialized = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
    stdio
        .exchange(&format!("{init}\n{initialized}"), Some(&json!(1)))
        .await;
    let mut wrong = Vec::new();
    for case in &cases() {
        let seen = stdio.exchange(case.line, case.id.as_ref()).await;
        let expected = match &case.id {
            None => Vec::new(),
            Some(id) => vec![(id.clone(), json!(case.code))],
        };
        let got: Vec<(Value, Value)> = seen
            .iter()
            .map(|answer| (answer["id"].clone(), answer["error"]["code"].clone()))
            .collect();
        let worded = seen.iter().all(|answer| {
            answer["jsonrpc"] == "2.0"
                && answer["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty() && m.len() < 1_000)
        });
        if got != expected || !worded {
            wrong.push(format!("{} -> {seen:?}", case.line));
        }
    }
    assert!(wrong.is_empty(), "wrong answers:\n{}", wrong.join("\n"));
    // Still serving, and nothing was left unread.
    let last = stdio
        .exchange(
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"cstar_list_events","arguments":{}}}"#,
            Some(&json!(2)),
        )
        .await;
    assert_eq!(last.len(), 1);
    assert_eq!(last[0]["result"]["structuredContent"]["count"], 35);
    drop(stdio.stdin);
    assert_eq!(stdio.stdout.next_line().await.unwrap(), None);
    exits_cleanly(&mut child, "the server").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_body_that_cannot_be_served_gets_json_rpc_s_answer_and_status_over_http() {
    let sandbox = start_sandbox().await;
    let (_server, url) = http_server(&sandbox.base_url(), &[]).await;
    let http = reqwest::Client::new();
    let mut wrong = Vec::new();
    for case in cases() {
        let response = http
            .post(&url)
            .header("authorization", format!("Bearer {SECRET_TEST}"))
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-11-25")
            .body(case.line)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        let right = if status == StatusCode::ACCEPTED {
            case.http == 202 && text.is_empty()
        } else {
            let body: Value = serde_json::from_str(&text).unwrap_or_default();
            status.as_u16() == case.http
                && body["jsonrpc"] == "2.0"
                && body["error"]["code"] == case.code
                && body["id"] == case.id.clone().unwrap_or(Value::Null)
        };
        if !right {
            wrong.push(format!("{} -> {status} {text}", case.line));
        }
    }
    assert!(wrong.is_empty(), "wrong answers:\n{}", wrong.join("\n"));
}

#[tokio::test]
async fn a_request_reusing_the_id_of_one_in_progress_is_refused_and_the_first_still_answered() {
    let sandbox = start_sandbox().await;
    fault(
        &sandbox,
        json!({ "path": "*/tickets", "fault": "delay", "ms": 1500 }),
    )
    .await;
    let mut child = binary_on(&sandbox, &[]).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let lines = [
        super::stdio::initialize("2025-06-18"),
        json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }),
        json!({ "jsonrpc": "2.0", "id": 7, "method": "tools/call",
            "params": { "name": "cstar_list_tickets", "arguments": {} } }),
        json!({ "jsonrpc": "2.0", "id": 7, "method": "tools/call",
            "params": { "name": "cstar_list_events", "arguments": {} } }),
    ];
    write_messages(&mut stdin, &lines).await;
    let mut answers = Vec::new();
    while answers.len() < 3 {
        let line = tokio::time::timeout(Duration::from_secs(15), stdout.next_line())
            .await
            .expect("three answers")
            .unwrap()
            .unwrap();
        answers.push(serde_json::from_str::<Value>(&line).unwrap());
    }
    let sevens: Vec<&Value> = answers.iter().filter(|a| a["id"] == 7).collect();
    assert_eq!(sevens.len(), 2, "{answers:#?}");
    assert_eq!(sevens[0]["error"]["code"], -32600, "refused at once");
    assert!(
        sevens[1]["result"]["structuredContent"]["tickets"].is_array(),
        "the first request is the one served: {}",
        sevens[1]
    );
    drop(stdin);
    assert_eq!(stdout.next_line().await.unwrap(), None, "nothing more");
    exits_cleanly(&mut child, "the server").await;
}

#[tokio::test]
async fn a_notification_or_response_before_initialize_does_not_end_the_session() {
    let mut child = binary(&["--sandbox"], &[]).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let lines = [
        json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }),
        json!({ "jsonrpc": "2.0", "method": "notifications/cancelled", "params": { "requestId": 1 } }),
        json!({ "jsonrpc": "2.0", "id": 5, "result": {} }),
        json!({ "jsonrpc": "2.0", "id": 6, "error": { "code": -1, "message": "x" } }),
        super::stdio::initialize("2025-06-18"),
        json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }),
        json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/list" }),
    ];
    write_messages(&mut stdin, &lines).await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let line = tokio::time::timeout(Duration::from_secs(10), stdout.next_line())
            .await
            .expect("the session goes on")
            .unwrap()
            .unwrap_or_else(|| panic!("the server left; answered {ids:?}"));
        ids.push(serde_json::from_str::<Value>(&line).unwrap()["id"].clone());
    }
    assert_eq!(ids, [json!(1), json!(2)]);
    drop(stdin);
    exits_cleanly(&mut child, "the server").await;
}

#[tokio::test]
async fn an_initialize_with_params_that_do_not_fit_says_what_is_wrong_and_the_next_one_is_served() {
    let child = binary(&["--sandbox"], &[]).spawn().unwrap();
    let (lines, _, code) = super::stdio::session(
        child,
        &[
            json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {} }),
            json!({ "jsonrpc": "2.0", "id": 2, "method": "initialize", "params": { "protocolVersion": 5 } }),
            json!({ "jsonrpc": "2.0", "id": 3, "method": "initialize",
                "params": { "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": { "name": "t", "version": "1" } } }),
            json!({ "jsonrpc": "2.0", "id": 4, "method": "initialize", "params": {} }),
        ],
    )
    .await;
    for id in [1, 2, 4] {
        let refused = super::stdio::by_id(&lines, id);
        assert_eq!(refused["error"]["code"], -32602, "{refused}");
        let message = refused["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with("Invalid params for initialize") && !message.contains("_meta"),
            "{message}"
        );
    }
    assert_eq!(
        super::stdio::by_id(&lines, 3)["result"]["protocolVersion"],
        "2025-06-18"
    );
    assert_eq!(code, Some(0));
}

#[tokio::test]
async fn arguments_that_do_not_parse_are_worded_once_with_one_hint() {
    let sandbox = start_sandbox().await;
    let client = mcp_for(&sandbox, SECRET_TEST).await;
    for arguments in [json!({ "page": -1 }), json!({ "pageSize": "ten" })] {
        let failed = call(&client, "cstar_list_tickets", arguments.clone()).await;
        let message = error_text(&failed);
        let first = message.lines().next().unwrap_or_default();
        assert_eq!(
            first.matches("Check the tool's input schema").count(),
            1,
            "{arguments}: {first}"
        );
        assert_eq!(
            error_body(&failed)["hint"],
            "Check the tool's input schema and call again."
        );
    }
}
