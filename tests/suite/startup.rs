//! Start-up through the real binary: a stdio server whose configuration is
//! wrong still answers its client, naming the problem in every answer; the
//! failures that must stop the process still do, with a line on stderr; a
//! person on a terminal is told what the process waits for, and a client's
//! pipe is not.

use std::time::Duration;

use serde_json::{Value, json};

use super::harness::binary;
use super::stdio::{by_id, initialize, request, session};

const KEY: &str = "sk_live_startupKeyNeverShown0123456789";

/// Every request a client may send, after the handshake.
fn every_kind_of_request() -> Vec<Value> {
    vec![
        initialize("2025-06-18"),
        json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }),
        request(2, "tools/list", json!({})),
        request(
            3,
            "tools/call",
            json!({ "name": "cstar_list_tickets", "arguments": { "pageSize": 1 } }),
        ),
        request(
            4,
            "tools/call",
            json!({ "name": "cstar_setup_problem", "arguments": {} }),
        ),
        request(
            5,
            "resources/read",
            json!({ "uri": "cstar://tickets/tkt_35c9511eea07491d8e67bc6918ca86e0" }),
        ),
        request(
            6,
            "prompts/get",
            json!({ "name": "investigate_ticket", "arguments": { "ticketId": "tkt_1" } }),
        ),
        request(7, "resources/list", json!({})),
        request(8, "prompts/list", json!({})),
    ]
}

/// Asserts that the session answered every request of
/// `every_kind_of_request` with `problem`, and returns the instructions.
fn assert_every_answer_names(lines: &[String], problem: &str) -> String {
    let instructions = by_id(lines, 1)["result"]["instructions"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(instructions.contains("misconfigured"), "{instructions}");
    assert!(instructions.contains(problem), "{instructions}");
    let tools = by_id(lines, 2)["result"]["tools"].clone();
    assert_eq!(tools.as_array().unwrap().len(), 1, "{tools}");
    assert_eq!(tools[0]["name"], "cstar_setup_problem");
    assert_eq!(tools[0]["annotations"]["readOnlyHint"], true);
    assert!(
        tools[0]["description"].as_str().unwrap().contains(problem),
        "{tools}"
    );
    for id in [3, 4] {
        let result = &by_id(lines, id)["result"];
        assert_eq!(result["isError"], true, "{result}");
        let text = result["content"][0]["text"].as_str().unwrap();
        assert!(
            text.contains(problem) && text.contains("To fix it"),
            "{text}"
        );
        // The same shape as every other tool error: one text block, and
        // its facts in `_meta`, the hint among them said in the text.
        assert_eq!(result["content"].as_array().unwrap().len(), 1, "{result}");
        let body = &result["_meta"]["cstar.help/error"];
        assert_eq!(body["code"], "misconfigured", "{result}");
        assert_eq!(body["retryable"], false, "{result}");
        assert!(
            text.contains(body["hint"].as_str().unwrap_or("<none>")),
            "{result}"
        );
    }
    for id in [5, 6] {
        let message = by_id(lines, id)["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.contains(problem), "{message}");
    }
    assert_eq!(by_id(lines, 7)["result"]["resources"], json!([]));
    assert_eq!(by_id(lines, 8)["result"]["prompts"], json!([]));
    for line in lines {
        let message: Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON on stdout: {line}"));
        assert_eq!(message["jsonrpc"], "2.0", "{line}");
    }
    instructions
}

fn assert_no_key(what: &str, texts: &[&str]) {
    for text in texts {
        assert!(
            !text.contains(&KEY[8..]),
            "{what}: the key is shown: {text}"
        );
    }
}

#[tokio::test]
async fn an_unknown_tool_name_is_told_to_the_client_in_every_answer_then_exits_1() {
    let child = binary(&["--tools", "cstar_bogus"], &[("CSTAR_API_KEY", KEY)])
        .spawn()
        .unwrap();
    let (lines, stderr, code) = session(child, &every_kind_of_request()).await;
    let instructions = assert_every_answer_names(&lines, "unknown tool name 'cstar_bogus'");
    assert!(
        instructions.contains("cstar_list_tickets"),
        "the valid names are listed: {instructions}"
    );
    assert!(
        stderr.contains("unknown tool name 'cstar_bogus'"),
        "{stderr}"
    );
    assert_no_key("settings", &[&lines.join("\n"), &stderr]);
    assert_eq!(code, Some(1), "{stderr}");
}

#[tokio::test]
async fn a_key_pasted_as_a_tool_name_is_never_shown_on_stderr_or_to_the_client() {
    let odd_key = "my-own-odd-key-value-0123456789";
    for (flag, key, env) in [
        ("--tools", KEY, ("CSTAR_API_KEY", "")),
        ("--exclude-tools", KEY, ("CSTAR_API_KEY", "")),
        ("--tools", odd_key, ("CSTAR_API_KEY", odd_key)),
    ] {
        let child = binary(&[flag, key], &[env]).spawn().unwrap();
        let (lines, stderr, code) = session(child, &every_kind_of_request()).await;
        assert_every_answer_names(&lines, "unknown tool name '");
        assert!(stderr.contains("unknown tool name"), "{stderr}");
        for text in [&lines.join("\n"), &stderr] {
            assert!(!text.contains(&key[8..]), "{flag} {key}: shown: {text}");
        }
        assert_eq!(code, Some(1), "{stderr}");
    }
    let (status, _, stderr) = run_with_stdin_open(&["--http", "127.0.0.1:0", "--tools", KEY]).await;
    assert_eq!(status, Some(1), "{stderr}");
    assert!(stderr.contains("unknown tool name"), "{stderr}");
    assert_no_key("over HTTP", &[&stderr]);
}

#[tokio::test]
async fn command_line_mistakes_are_told_to_the_client_in_every_answer_then_exit_2() {
    for (args, problem) in [
        (
            vec!["--read-onyl"],
            "unexpected argument '--read-onyl' found tip: a similar argument exists: '--read-only'",
        ),
        (
            vec!["--base-url", "ftp://cstar.example"],
            "invalid value 'ftp://cstar.example' for '--base-url <URL>'",
        ),
        (
            vec!["serve", "--timeout", KEY],
            "invalid value '[redacted]' for '--timeout <SECONDS>'",
        ),
        (
            vec!["--api-key", KEY, KEY],
            "the subcommand '[redacted]' cannot be used",
        ),
    ] {
        let child = binary(&args, &[("CSTAR_API_KEY", KEY)]).spawn().unwrap();
        let (lines, stderr, code) = session(child, &every_kind_of_request()).await;
        assert_every_answer_names(&lines, problem);
        assert!(
            stderr.contains(problem.split(" tip:").next().unwrap()),
            "{args:?}: {stderr}"
        );
        assert_no_key("command line", &[&lines.join("\n"), &stderr]);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
    }
}

#[tokio::test]
async fn a_value_refusal_tells_the_client_the_fix_not_clap_s_try_help_line() {
    for args in [
        &["--timeout", "soon"][..],
        &["--api-key"],
        &["--log-format", "xml"],
    ] {
        let child = binary(args, &[]).spawn().unwrap();
        let (lines, stderr, code) = session(child, &every_kind_of_request()).await;
        let instructions = assert_every_answer_names(&lines, "for '--");
        assert!(
            !instructions.contains("For more information"),
            "{args:?}: {instructions}"
        );
        assert!(instructions.contains("To fix it"), "{instructions}");
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
    }
}

/// Runs `args` with stdin open and unused, and returns the exit code,
/// stdout and stderr; panics if it is still running 10 s later.
async fn run_with_stdin_open(args: &[&str]) -> (Option<i32>, String, String) {
    let mut child = binary(args, &[("CSTAR_API_KEY", KEY)]).spawn().unwrap();
    let _stdin = child.stdin.take();
    let output = tokio::time::timeout(Duration::from_secs(10), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{args:?} is still running"))
        .unwrap();
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[tokio::test]
async fn failures_outside_the_stdio_server_still_stop_at_once_with_a_line_on_stderr() {
    for (args, code, says) in [
        (&["sandbox", "--port", "70000"][..], 2, "70000"),
        (&["doctor", "--bogus"], 2, "'--bogus'"),
        (&["--http", "nowhere"], 2, "'nowhere'"),
        (&["--http", "127.0.0.1:0", "--bogus"], 2, "'--bogus'"),
        (
            &["--http", "127.0.0.1:0", "--tools", "cstar_bogus"],
            1,
            "'cstar_bogus'",
        ),
    ] {
        let (status, stdout, stderr) = run_with_stdin_open(args).await;
        assert_eq!(status, Some(code), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert_eq!(stdout, "", "{args:?}");
        assert_no_key("stopped", &[&stderr]);
    }
    let (status, stdout, _) = run_with_stdin_open(&["--version"]).await;
    assert_eq!(status, Some(0));
    assert!(stdout.starts_with("cstar-mcp "), "{stdout}");
}

#[tokio::test]
async fn a_client_on_a_pipe_gets_no_greeting_and_a_stdout_of_json_rpc_only() {
    let child = binary(&["--sandbox"], &[]).spawn().unwrap();
    let (lines, stderr, code) = session(
        child,
        &[
            initialize("2025-06-18"),
            request(2, "tools/list", json!({})),
        ],
    )
    .await;
    assert_eq!(
        by_id(&lines, 2)["result"]["tools"]
            .as_array()
            .unwrap()
            .len(),
        9
    );
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(!stderr.contains("waiting for a client"), "{stderr}");
    assert_eq!(code, Some(0), "{stderr}");
}

/// The binary with a pseudo-terminal as stdin, as when a person runs it.
#[cfg(target_os = "linux")]
mod on_a_terminal {
    use std::io::Read as _;
    use std::os::fd::{FromRawFd as _, OwnedFd};
    use std::process::{Child, Stdio};
    use std::time::{Duration, Instant};

    use super::super::harness::BINARY;

    /// Starts the binary with `args`, stdin on a new pseudo-terminal; the
    /// terminal's other end is returned to keep it open.
    fn spawn_on_a_terminal(args: &[&str]) -> (Child, OwnedFd) {
        let (mut controller, mut terminal) = (0, 0);
        // SAFETY: openpty writes two new descriptors into the two ints;
        // null name, termios and size are allowed.
        let opened = unsafe {
            libc::openpty(
                &mut controller,
                &mut terminal,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(opened, 0, "openpty failed");
        // SAFETY: both descriptors were just opened and are owned here alone.
        let (controller, terminal) = unsafe {
            (
                OwnedFd::from_raw_fd(controller),
                OwnedFd::from_raw_fd(terminal),
            )
        };
        let child = std::process::Command::new(BINARY)
            .args(args)
            .env_remove("CSTAR_API_KEY")
            .env_remove("CSTAR_SECRET_KEY")
            .env_remove("CSTAR_TOOLS")
            .env_remove("RUST_LOG")
            .stdin(Stdio::from(terminal))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        (child, controller)
    }

    /// Reads stderr until it holds `needle` or 10 s pass.
    fn stderr_until(child: &mut Child, needle: &str) -> String {
        let mut stderr = child.stderr.take().unwrap();
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(read @ 1..) = stderr.read(&mut chunk) {
                if sender.send(chunk[..read].to_vec()).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut seen = Vec::new();
        while !String::from_utf8_lossy(&seen).contains(needle) {
            let left = deadline.saturating_duration_since(Instant::now());
            match receiver.recv_timeout(left) {
                Ok(chunk) => seen.extend(chunk),
                Err(_) => break,
            }
        }
        String::from_utf8_lossy(&seen).into_owned()
    }

    #[test]
    fn a_person_on_a_terminal_is_told_what_the_server_waits_for_and_how_to_connect() {
        let (mut child, _controller) = spawn_on_a_terminal(&["--sandbox"]);
        let stderr = stderr_until(&mut child, "Ctrl-C");
        child.kill().unwrap();
        let output = child.wait_with_output().unwrap();
        let inspector = format!("npx @modelcontextprotocol/inspector {BINARY} --sandbox");
        for needle in [
            "waiting for a client",
            "stdin/stdout",
            "mcpServers",
            &inspector,
            "Ctrl-C",
        ] {
            assert!(stderr.contains(needle), "{needle}: {stderr}");
        }
        assert!(output.stdout.is_empty(), "the greeting went to stdout");
    }

    #[test]
    fn a_problem_on_a_terminal_stops_at_once_with_the_reason() {
        let (mut child, _controller) = spawn_on_a_terminal(&["--tools", "cstar_bogus"]);
        let stderr = stderr_until(&mut child, "cstar_bogus");
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "still running: {stderr}");
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("unknown tool name 'cstar_bogus'"),
            "{stderr}"
        );
        let (mut child, _controller) = spawn_on_a_terminal(&["--read-onyl"]);
        let stderr = stderr_until(&mut child, "--read-only");
        assert_eq!(child.wait().unwrap().code(), Some(2), "{stderr}");
    }
}
