//! Small helpers so each test reads as one behaviour: start a sandbox,
//! build a client or an in-process MCP client for it, queue faults, read
//! the request log.

use std::sync::Arc;
use std::time::Duration;

use cstar_mcp::api::retry::RetryPolicy;
use cstar_mcp::api::secret::ApiKey;
use cstar_mcp::api::{Client, ClientConfig};
use cstar_mcp::sandbox::{self, RunningSandbox};
use cstar_mcp::tools::CstarServer;
use cstar_mcp::tools::egress::Egress;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};

pub const SECRET_TEST: &str = sandbox::DEMO_KEYS[0].key;
pub const PUBLISHABLE_TEST: &str = sandbox::DEMO_KEYS[1].key;
pub const SECRET_LIVE: &str = sandbox::DEMO_KEYS[2].key;
/// The second team's key.
pub const GLOBEX_TEST: &str = sandbox::DEMO_KEYS[3].key;
/// Well-formed, but not a key the sandbox knows.
pub const UNKNOWN_KEY: &str = "sk_live_a1B2c3D4e5F6g7H8i9J0k-L2m3N4o5P6";

pub async fn start_sandbox() -> RunningSandbox {
    sandbox::start(0).await.expect("sandbox starts")
}

/// Retries with short waits, so fault tests stay fast.
pub fn fast_config(base_url: &str, key: Option<&str>) -> ClientConfig {
    let mut config = ClientConfig::new(base_url, key.map(ApiKey::new));
    config.timeout = Duration::from_millis(800);
    config.retry = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        max_retry_after: Duration::from_secs(3),
    };
    config
}

pub fn client(sandbox: &RunningSandbox, key: &str) -> Arc<Client> {
    Arc::new(Client::new(fast_config(&sandbox.base_url(), Some(key))).unwrap())
}

/// POSTs a JSON body to the sandbox's control API.
pub async fn control(sandbox: &RunningSandbox, path: &str, body: Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/_sandbox/{path}", sandbox.base_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "control {path}: {}",
        response.status()
    );
}

pub async fn fault(sandbox: &RunningSandbox, rule: Value) {
    control(sandbox, "faults", rule).await;
}

/// Removes every fault rule from the sandbox.
pub async fn clear_faults(sandbox: &RunningSandbox) {
    let response = reqwest::Client::new()
        .delete(format!("{}/_sandbox/faults", sandbox.base_url()))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
}

/// The request log, as `GET /_sandbox/requests` returns it.
pub async fn requests(sandbox: &RunningSandbox) -> Vec<Value> {
    let body: Value = reqwest::get(format!("{}/_sandbox/requests", sandbox.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["requests"].as_array().cloned().unwrap_or_default()
}

/// Requests in the log whose method and path end match.
pub async fn count_requests(sandbox: &RunningSandbox, method: &str, path_suffix: &str) -> usize {
    requests(sandbox)
        .await
        .iter()
        .filter(|r| {
            r["method"] == method
                && r["path"]
                    .as_str()
                    .unwrap_or_default()
                    .ends_with(path_suffix)
        })
        .count()
}

/// A raw authenticated request to the sandbox's API.
pub async fn raw(
    sandbox: &RunningSandbox,
    method: reqwest::Method,
    path: &str,
    key: Option<&str>,
) -> reqwest::RequestBuilder {
    let mut builder =
        reqwest::Client::new().request(method, format!("{}{path}", sandbox.base_url()));
    if let Some(key) = key {
        builder = builder.bearer_auth(key);
    }
    builder
}

/// A GET of the sandbox's API with the test key, as JSON: a path from the
/// API root when it starts with '/', otherwise under the seeded team.
pub async fn api_get(sandbox: &RunningSandbox, path: &str) -> Value {
    let path = match path.strip_prefix('/') {
        Some(_) => path.to_owned(),
        None => format!("/api/v1/teams/{}/{path}", sandbox::TEAM_ID),
    };
    raw(sandbox, reqwest::Method::GET, &path, Some(SECRET_TEST))
        .await
        .send_json()
        .await
}

/// The text of `root`'s `/metrics` (an HTTP server's Prometheus page).
pub async fn metrics(root: &str) -> String {
    reqwest::get(format!("{root}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Sends a request and reads its answer as JSON.
pub trait SendJson {
    fn send_json(self) -> impl std::future::Future<Output = Value>;
}

impl SendJson for reqwest::RequestBuilder {
    async fn send_json(self) -> Value {
        self.send().await.unwrap().json().await.unwrap()
    }
}

pub type McpClient = RunningService<RoleClient, ()>;

/// An MCP client talking to a `CstarServer` in this process over a pipe.
pub async fn mcp(config: ClientConfig) -> McpClient {
    let server = Egress(CstarServer::new(Arc::new(Client::new(config).unwrap())));
    let (server_side, client_side) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_side).await {
            let _ = running.waiting().await;
        }
    });
    ().serve(client_side).await.expect("MCP handshake")
}

pub async fn mcp_for(sandbox: &RunningSandbox, key: &str) -> McpClient {
    mcp(fast_config(&sandbox.base_url(), Some(key))).await
}

pub async fn call(client: &McpClient, tool: &str, arguments: Value) -> CallToolResult {
    let arguments = arguments.as_object().cloned().unwrap_or_default();
    client
        .call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(arguments))
        .await
        .unwrap_or_else(|error| panic!("{tool}: {error}"))
}

/// The structured result of a successful call.
pub fn ok(result: &CallToolResult) -> Value {
    assert_ne!(
        result.is_error,
        Some(true),
        "unexpected error: {}",
        text(result)
    );
    result
        .structured_content
        .clone()
        .expect("structured content")
}

/// The readable text of an error result, checked to be an error.
pub fn error_text(result: &CallToolResult) -> String {
    assert_eq!(
        result.is_error,
        Some(true),
        "expected an error, got {:?}",
        result.structured_content
    );
    text(result)
}

/// The JSON error body of an error result (in its `_meta`).
pub fn error_body(result: &CallToolResult) -> Value {
    result
        .meta
        .as_ref()
        .and_then(|meta| meta.0.get(cstar_mcp::tools::errors::ERROR_META))
        .cloned()
        .unwrap_or(json!(null))
}

pub fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Asserts that `child` exits with code 0 within 5 seconds.
pub async fn exits_cleanly(child: &mut tokio::process::Child, what: &str) {
    let status = tokio::time::timeout(std::time::Duration::from_secs(5), child.wait())
        .await
        .unwrap_or_else(|_| panic!("{what}: still running 5 s later"))
        .unwrap();
    assert_eq!(status.code(), Some(0), "{what}");
}

/// Writes each of `messages` to `stdin` as one line of JSON.
pub async fn write_messages(stdin: &mut tokio::process::ChildStdin, messages: &[Value]) {
    use tokio::io::AsyncWriteExt;
    for message in messages {
        stdin
            .write_all(format!("{message}\n").as_bytes())
            .await
            .unwrap();
    }
}

pub const BINARY: &str = env!("CARGO_BIN_EXE_cstar-mcp");

/// The real binary with `args`, no cStar settings from this environment
/// but `env`, and piped standard streams.
pub fn binary(args: &[&str], env: &[(&str, &str)]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(BINARY);
    command
        .args(args)
        .env_remove("CSTAR_API_KEY")
        .env_remove("CSTAR_SECRET_KEY")
        .env_remove("CSTAR_TEAM_ID")
        .env_remove("CSTAR_BASE_URL")
        .env_remove("CSTAR_READ_ONLY")
        .env_remove("CSTAR_TOOLS")
        .env_remove("CSTAR_EXCLUDE_TOOLS")
        .env_remove("CSTAR_SANDBOX_DATA")
        .env_remove("CSTAR_REDACT_PII")
        .env_remove("RUST_LOG")
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    command
}

/// The real binary with `args`, as [`binary`] makes it, against `sandbox`
/// with the test secret key.
pub fn binary_on(sandbox: &RunningSandbox, args: &[&str]) -> tokio::process::Command {
    binary(
        args,
        &[
            ("CSTAR_API_KEY", SECRET_TEST),
            ("CSTAR_BASE_URL", &sandbox.base_url()),
        ],
    )
}

/// Starts `serve --http 127.0.0.1:0` against `base_url`; returns the child and the MCP URL.
pub async fn http_server(base_url: &str, extra: &[&str]) -> (tokio::process::Child, String) {
    use tokio::io::AsyncBufReadExt;
    let mut args = vec!["serve", "--http", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let mut child = binary(&args, &[("CSTAR_BASE_URL", base_url)])
        .spawn()
        .unwrap();
    let mut stdout = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(10), stdout.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let url = line.strip_prefix("listening on ").expect(&line).to_owned();
    (child, url)
}

/// An MCP client over streamable HTTP that sends `key` as its bearer token.
pub async fn http_client(url: &str, key: &str) -> McpClient {
    use rmcp::transport::StreamableHttpClientTransport;
    use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
    let config =
        StreamableHttpClientTransportConfig::with_uri(url.to_owned()).auth_header(key.to_owned());
    ().serve(StreamableHttpClientTransport::from_config(config))
        .await
        .expect("HTTP MCP handshake")
}

/// True when `items` is not empty and every item passes: an `all` over an
/// empty list would pass without testing anything.
pub fn every<T>(items: &[T], test: impl FnMut(&T) -> bool) -> bool {
    !items.is_empty() && items.iter().all(test)
}

/// Every variable through which an environment names a proxy or exempts
/// hosts from one, and CGI's `REQUEST_METHOD` (with it set, `HTTP_PROXY`
/// is ignored): a test that sets its own must clear the rest.
pub const PROXY_VARIABLES: [&str; 9] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "REQUEST_METHOD",
];

/// `command` with `env` as its only proxy settings, whatever this
/// process's environment holds.
pub fn with_proxy_settings(
    mut command: tokio::process::Command,
    env: &[(&str, &str)],
) -> tokio::process::Command {
    for name in PROXY_VARIABLES {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    command
}

/// A proxy that would capture whatever is sent through it: it keeps the
/// first bytes of every connection and answers 200, as a proxy that
/// swallowed a delivery would.
pub struct CapturingProxy {
    pub url: String,
    captured: Arc<std::sync::Mutex<Vec<String>>>,
}

impl CapturingProxy {
    pub async fn start() -> Self {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let captured: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
        let kept = captured.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let kept = kept.clone();
                tokio::spawn(async move {
                    let mut buffer = vec![0; 16 * 1024];
                    let read = stream.read(&mut buffer).await.unwrap_or(0);
                    let head = String::from_utf8_lossy(&buffer[..read]).into_owned();
                    kept.lock().unwrap().push(head);
                    let _ = stream
                        .write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                        )
                        .await;
                });
            }
        });
        CapturingProxy { url, captured }
    }

    /// What every connection to it began with.
    pub fn captured(&self) -> Vec<String> {
        self.captured.lock().unwrap().clone()
    }
}
