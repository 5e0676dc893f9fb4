//! The sandbox as a complete local cStar for webhooks: signed deliveries
//! that a receiver verifies with an independent HMAC implementation (and a
//! Node.js verifier written from the docs), retries, give-ups, webhook
//! management, and events from real writes over MCP.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use cstar_mcp::api::Client;
use cstar_mcp::api::models::NewTicket;
use cstar_mcp::sandbox::{self, RunningSandbox};
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};

use super::harness::*;

/// One delivery as the receiver got it.
#[derive(Debug, Clone)]
struct Received {
    headers: HashMap<String, String>,
    body: Bytes,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(String::as_str)
            .unwrap_or_default()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    /// Its signature checked with `secret`, now.
    fn verified(&self, secret: &str) -> Result<(), String> {
        verify(secret, self.header("x-signature"), &self.body, now())
    }
}

/// How the receiver answers: statuses in turn (the last repeats), or never.
#[derive(Clone)]
enum Behaviour {
    Answer(Vec<u16>),
    Hang,
}

/// A webhook receiver on loopback that keeps every delivery.
struct Receiver {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start(behaviour: Behaviour) -> Self {
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let kept = received.clone();
        let app = axum::Router::new().route(
            "/hooks",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let kept = kept.clone();
                let behaviour = behaviour.clone();
                async move {
                    let headers = headers
                        .iter()
                        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                        .collect();
                    let count = {
                        let mut kept = kept.lock().unwrap();
                        kept.push(Received { headers, body });
                        kept.len()
                    };
                    match behaviour {
                        Behaviour::Hang => {
                            tokio::time::sleep(Duration::from_secs(60)).await;
                            StatusCode::OK
                        }
                        Behaviour::Answer(statuses) => {
                            let status = statuses[(count - 1).min(statuses.len() - 1)];
                            StatusCode::from_u16(status).unwrap()
                        }
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, received }
    }

    /// The first `count` deliveries, waiting up to 10 s for them.
    async fn wait_for(&self, count: usize) -> Vec<Received> {
        for _ in 0..200 {
            let received = self.received.lock().unwrap().clone();
            if received.len() >= count {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "expected {count} deliveries, got {}",
            self.received.lock().unwrap().len()
        );
    }
}

/// Verifies `X-Signature` as cStar documents it, with the RustCrypto HMAC
/// (not the sandbox's signing code).
fn verify(secret: &str, header: &str, body: &[u8], now: u64) -> Result<(), String> {
    let mut timestamp = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<u64>().ok(),
            Some(("v1", value)) => v1 = Some(value.to_owned()),
            _ => {}
        }
    }
    let (Some(timestamp), Some(v1)) = (timestamp, v1) else {
        return Err("malformed header".into());
    };
    if now.abs_diff(timestamp) > 300 {
        return Err("timestamp outside the tolerance".into());
    }
    let given: Vec<u8> = (0..v1.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(v1.get(i..i + 2)?, 16).ok())
        .collect();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    mac.verify_slice(&given)
        .map_err(|_| "signature mismatch".into())
}

fn now() -> u64 {
    cstar_mcp::time::unix_now()
}

/// A sandbox forwarding every event to `receiver`, and its signing secret.
async fn forwarding_to(receiver: &Receiver) -> (RunningSandbox, String) {
    let sandbox = sandbox::start_forwarding(0, std::slice::from_ref(&receiver.url))
        .await
        .unwrap();
    (sandbox, sandbox::Forward::new(&receiver.url).secret)
}

async fn set_schedule(sandbox: &RunningSandbox, delays: &[u64], budget_ms: u64) {
    control(
        sandbox,
        "webhook-schedule",
        json!({ "retryDelaysMs": delays, "responseBudgetMs": budget_ms }),
    )
    .await;
}

/// `GET /_sandbox/deliveries` of the sandbox at `base_url`.
async fn deliveries(base_url: &str) -> Vec<Value> {
    let body: Value = reqwest::get(format!("{base_url}/_sandbox/deliveries"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["deliveries"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_created_ticket_is_delivered_signed_as_documented() {
    let receiver = Receiver::start(Behaviour::Answer(vec![200])).await;
    let (sandbox, secret) = forwarding_to(&receiver).await;
    let created = client(&sandbox, SECRET_TEST)
        .create_ticket(
            &NewTicket {
                title: "Webhook check".into(),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap()
        .ticket;
    let delivery = receiver.wait_for(1).await.remove(0);
    let event = delivery.json();
    assert_eq!(event["type"], "ticket.created");
    assert_eq!(event["data"]["ticket"]["id"], created.id.as_str());
    assert_eq!(event["data"]["ticket"]["title"], "Webhook check");
    assert_eq!(event["team_id"], sandbox::TEAM_ID);
    assert!(
        event["id"]
            .as_str()
            .unwrap()
            .starts_with("evt_ticket_created_")
    );
    assert!(event["created_at"].as_str().unwrap().ends_with('Z'));

    assert_eq!(delivery.header("content-type"), "application/json");
    assert_eq!(delivery.header("user-agent"), "cStar-Webhooks/1.0");
    assert_eq!(delivery.header("x-event-type"), "ticket.created");
    assert_eq!(delivery.header("x-event-id"), event["id"].as_str().unwrap());
    assert!(delivery.header("x-webhook-id").starts_with("whk_"));
    assert!(delivery.header("x-timestamp").ends_with('Z'));
    assert_eq!(delivery.header("x-delivery-attempt"), "1");
    let create_request = requests(&sandbox)
        .await
        .into_iter()
        .find(|r| r["method"] == "POST")
        .unwrap();
    assert_eq!(
        delivery.header("x-cstar-request-id"),
        create_request["requestId"].as_str().unwrap(),
        "the event names the API call that caused it"
    );

    let signature = delivery.header("x-signature");
    assert_eq!(verify(&secret, signature, &delivery.body, now()), Ok(()));
    let mut tampered = delivery.body.to_vec();
    tampered[10] ^= 1;
    assert!(verify(&secret, signature, &tampered, now()).is_err());
    assert!(verify(&secret, signature, &delivery.body, now() + 301).is_err());
    assert!(verify("whsec_wrong", signature, &delivery.body, now()).is_err());
}

#[tokio::test]
async fn trigger_test_says_how_each_endpoint_answered() {
    let receiver = Receiver::start(Behaviour::Answer(vec![401])).await;
    let (sandbox, _) = forwarding_to(&receiver).await;
    let client = mcp_for(&sandbox, SECRET_TEST).await;
    let triggered = ok(&call(
        &client,
        "cstar_trigger_webhook",
        json!({ "event": "ticket.updated" }),
    )
    .await);
    // CRM sync (ticket.*), Analytics (*) and the forward endpoint; the
    // inactive "Old integration" is skipped. None accepted it.
    let deliveries = triggered["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 3, "{triggered:#}");
    assert_eq!(triggered["deliveredTo"], 0);
    let ours = deliveries
        .iter()
        .find(|d| d["url"] == receiver.url.as_str())
        .unwrap();
    assert_eq!(ours["status"], 401, "{ours}");
    let elsewhere: Vec<&Value> = deliveries
        .iter()
        .filter(|d| d["url"] != receiver.url.as_str())
        .collect();
    assert_eq!(elsewhere.len(), 2);
    for placeholder in elsewhere {
        assert!(
            placeholder["error"]
                .as_str()
                .unwrap()
                .contains("only to loopback"),
            "{placeholder}"
        );
    }
    let event = receiver.wait_for(1).await.remove(0).json();
    assert_eq!(event["type"], "ticket.updated");
    assert!(event["data"]["ticket"]["id"].is_string());
    assert_eq!(event["data"]["changes"]["status"]["to"], "pending");
}

#[tokio::test]
async fn a_failed_delivery_is_retried_with_the_same_event_id() {
    let receiver = Receiver::start(Behaviour::Answer(vec![500, 200])).await;
    let (sandbox, _) = forwarding_to(&receiver).await;
    set_schedule(&sandbox, &[100, 100], 2_000).await;
    let secret = sandbox::Forward::new(&receiver.url).secret;
    client(&sandbox, SECRET_TEST)
        .trigger_test_event("customer.created")
        .await
        .unwrap();
    let attempts = receiver.wait_for(2).await;
    assert_eq!(
        attempts[0].header("x-event-id"),
        attempts[1].header("x-event-id")
    );
    assert_eq!(attempts[0].header("x-delivery-attempt"), "1");
    assert_eq!(attempts[1].header("x-delivery-attempt"), "2");
    for attempt in &attempts {
        assert_eq!(attempt.verified(&secret), Ok(()));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        receiver.received.lock().unwrap().len(),
        2,
        "no retry after a 200"
    );
    let log: Vec<Value> = deliveries(&sandbox.base_url())
        .await
        .into_iter()
        .filter(|d| d["url"] == receiver.url.as_str())
        .collect();
    assert_eq!(log.len(), 2);
    assert_eq!(
        (log[0]["attempt"].clone(), log[0]["status"].clone()),
        (json!(1), json!(500))
    );
    assert_eq!(
        (log[1]["attempt"].clone(), log[1]["status"].clone()),
        (json!(2), json!(200))
    );
    assert!(
        !serde_json::to_string(&log).unwrap().contains(&secret),
        "never the secret"
    );
}

#[tokio::test]
async fn a_receiver_that_never_answers_is_given_up_on_after_the_schedule() {
    let receiver = Receiver::start(Behaviour::Hang).await;
    let (sandbox, _) = forwarding_to(&receiver).await;
    set_schedule(&sandbox, &[50, 50], 200).await;
    let api = client(&sandbox, SECRET_TEST);
    let started = std::time::Instant::now();
    for i in 0..5 {
        let ticket = NewTicket {
            title: format!("While the receiver hangs {i}"),
            ..Default::default()
        };
        api.create_ticket(&ticket, None).await.unwrap();
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "deliveries never hold up the calls that caused them: {:?}",
        started.elapsed()
    );
    receiver.wait_for(5).await;
    receiver.received.lock().unwrap().clear();
    control(&sandbox, "reset", json!({})).await;
    set_schedule(&sandbox, &[50, 50], 200).await;
    let triggered = api.trigger_test_event("survey.submitted").await.unwrap();
    assert_eq!(
        (triggered.deliveries.unwrap().len(), triggered.delivered_to),
        (2, 0),
        "Analytics (*) and the forward endpoint, neither of which accepted it"
    );
    receiver.wait_for(3).await;
    let mut log = Vec::new();
    for _ in 0..100 {
        log = deliveries(&sandbox.base_url())
            .await
            .into_iter()
            .filter(|d| d["url"] == receiver.url.as_str())
            .collect();
        if log.iter().any(|d| d["gaveUp"] == true) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(log.len(), 3, "{log:#?}");
    for (i, attempt) in log.iter().enumerate() {
        assert_eq!(attempt["attempt"], i + 1);
        assert!(
            attempt["error"]
                .as_str()
                .unwrap()
                .contains("no answer within 200 ms")
        );
        assert_eq!(attempt["gaveUp"], i == 2);
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        receiver.received.lock().unwrap().len(),
        3,
        "nothing after giving up"
    );
}

#[tokio::test]
async fn webhooks_are_managed_through_the_api_with_the_secret_shown_once() {
    let receiver = Receiver::start(Behaviour::Answer(vec![200])).await;
    let sandbox = start_sandbox().await;
    let path = format!("/api/v1/teams/{}/webhooks", sandbox::TEAM_ID);
    let created: Value = raw(&sandbox, reqwest::Method::POST, &path, Some(SECRET_TEST))
        .await
        .json(&json!({ "name": "Local dev", "url": receiver.url, "events": ["ticket.*"] }))
        .send_json()
        .await;
    let hook = &created["data"];
    let secret = hook["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let id = hook["id"].as_str().unwrap().to_owned();
    let listed: Value = raw(&sandbox, reqwest::Method::GET, &path, Some(SECRET_TEST))
        .await
        .send_json()
        .await;
    let ours = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["id"] == id.as_str())
        .unwrap();
    assert!(
        ours.get("secret").is_none(),
        "the secret is shown on create only"
    );

    let triggered = client(&sandbox, SECRET_TEST)
        .trigger_test_event("ticket.closed")
        .await
        .unwrap();
    assert_eq!(triggered.delivered_to, 1, "ours accepted it");
    let delivery = receiver.wait_for(1).await.remove(0);
    assert_eq!(delivery.header("x-webhook-id"), id);
    assert_eq!(delivery.verified(&secret), Ok(()));

    let one = format!("{path}/{id}");
    let paused = raw(&sandbox, reqwest::Method::PATCH, &one, Some(SECRET_TEST))
        .await
        .json(&json!({ "isActive": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(paused.status(), StatusCode::OK);
    let triggered = client(&sandbox, SECRET_TEST)
        .trigger_test_event("ticket.closed")
        .await
        .unwrap();
    let attempts = triggered.deliveries.unwrap();
    assert_eq!(attempts.len(), 3, "Slack, CRM sync and Analytics");
    assert!(
        attempts
            .iter()
            .all(|a| a.webhook_id.as_deref() != Some(&id)),
        "the paused webhook is skipped"
    );
    assert_eq!(triggered.delivered_to, 0);
    let deleted = raw(&sandbox, reqwest::Method::DELETE, &one, Some(SECRET_TEST))
        .await
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::OK);
    let gone = raw(&sandbox, reqwest::Method::GET, &one, Some(SECRET_TEST))
        .await
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    let refused = raw(
        &sandbox,
        reqwest::Method::POST,
        &path,
        Some(PUBLISHABLE_TEST),
    )
    .await
    .json(&json!({ "url": receiver.url, "events": ["*"] }))
    .send()
    .await
    .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let bad = raw(&sandbox, reqwest::Method::POST, &path, Some(SECRET_TEST))
        .await
        .json(&json!({ "url": receiver.url, "events": ["ticket.exploded"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert_eq!(receiver.received.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_node_verifier_written_from_the_docs_accepts_every_delivery() {
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !node {
        assert!(std::env::var_os("CI").is_none(), "CI must have Node.js");
        eprintln!("skipped: the Node.js verifier test needs node on PATH");
        return;
    }
    let receiver = Receiver::start(Behaviour::Answer(vec![200])).await;
    let (sandbox, secret) = forwarding_to(&receiver).await;
    let api = client(&sandbox, SECRET_TEST);
    let events = [
        "ticket.created",
        "customer.updated",
        "article.published",
        "boss.defeated",
        "survey.submitted",
    ];
    for event in events {
        api.trigger_test_event(event).await.unwrap();
    }
    let received = receiver.wait_for(events.len()).await;
    let mut cases: Vec<Value> = received
        .iter()
        .map(|d| json!({ "secret": secret, "signature": d.header("x-signature"), "body": String::from_utf8(d.body.to_vec()).unwrap() }))
        .collect();
    let mut tampered = cases[0].clone();
    tampered["body"] = json!(
        tampered["body"]
            .as_str()
            .unwrap()
            .replace("ticket", "tickey")
    );
    cases.push(tampered);
    let file = std::env::temp_dir().join(format!("cstar-deliveries-{}.json", std::process::id()));
    std::fs::write(&file, serde_json::to_vec(&cases).unwrap()).unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/verify-webhook.mjs"
    );
    let output = std::process::Command::new("node")
        .arg(script)
        .arg(&file)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&file);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let verdicts: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(verdicts.len(), events.len() + 1, "{verdicts:?}");
    assert!(
        verdicts[..events.len()].iter().all(|v| v == "ok"),
        "{verdicts:?}"
    );
    assert_eq!(verdicts[events.len()], "rejected: signature mismatch");
}

#[tokio::test]
async fn over_mcp_with_forward_to_a_created_ticket_reaches_the_handler() {
    use rmcp::ServiceExt;
    use rmcp::transport::TokioChildProcess;
    let receiver = Receiver::start(Behaviour::Answer(vec![200])).await;
    let mut command = tokio::process::Command::new(BINARY);
    command
        .args(["--sandbox", "--forward-to", &receiver.url])
        .env_remove("CSTAR_API_KEY")
        .env_remove("RUST_LOG");
    let (transport, stderr) = TokioChildProcess::builder(command)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let client = ().serve(transport).await.unwrap();
    let status = ok(&call(&client, "cstar_get_status", json!({})).await);
    let forwarding = &status["sandbox"]["forwarding"][0];
    assert_eq!(forwarding["url"], receiver.url.as_str());
    let secret = forwarding["signingSecret"].as_str().unwrap().to_owned();
    let created = ok(&call(
        &client,
        "cstar_create_ticket",
        json!({ "title": "From the agent" }),
    )
    .await);
    let delivery = receiver.wait_for(1).await.remove(0);
    let event = delivery.json();
    assert_eq!(event["type"], "ticket.created");
    assert_eq!(event["data"]["ticket"]["id"], created["ticket"]["id"]);
    assert_eq!(delivery.verified(&secret), Ok(()));
    client.cancel().await.unwrap();
    let mut stderr_text = String::new();
    if let Some(mut stderr) = stderr {
        use tokio::io::AsyncReadExt;
        let _ = tokio::time::timeout(
            Duration::from_secs(5),
            stderr.read_to_string(&mut stderr_text),
        )
        .await;
    }
    assert!(
        stderr_text.contains(&format!(
            "forwarding webhooks to {} (signing secret {secret})",
            receiver.url
        )),
        "{stderr_text}"
    );
}

/// The real binary's standalone sandbox forwarding every event to
/// `forward_to`, with `env` as its only proxy settings; the child and the
/// sandbox's base URL.
async fn standalone_sandbox(
    forward_to: &str,
    env: &[(&str, &str)],
) -> (tokio::process::Child, String) {
    use tokio::io::AsyncBufReadExt;
    let command = binary(&["sandbox", "--port", "0", "--forward-to", forward_to], &[]);
    let mut child = with_proxy_settings(command, env).spawn().unwrap();
    let mut stdout = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(10), stdout.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let url = first
        .strip_prefix("listening on ")
        .expect(&first)
        .to_owned();
    (child, url)
}

#[tokio::test]
async fn deliveries_never_go_through_a_proxy_whatever_the_environment_says() {
    let receiver = Receiver::start(Behaviour::Answer(vec![200])).await;
    let proxy = CapturingProxy::start().await;
    let secret = sandbox::Forward::new(&receiver.url).secret;
    let via = proxy.url.as_str();
    let settings: [&[(&str, &str)]; 6] = [
        &[("HTTP_PROXY", via)],
        &[("http_proxy", via)],
        &[("ALL_PROXY", via)],
        &[("all_proxy", via), ("https_proxy", via)],
        // An exemption list that names other hosts exempts nothing here.
        &[("HTTP_PROXY", via), ("NO_PROXY", "example.com,.internal")],
        &[("http_proxy", via), ("no_proxy", "")],
    ];
    for (round, env) in settings.into_iter().enumerate() {
        let (mut child, url) = standalone_sandbox(&receiver.url, env).await;
        let triggered = Client::new(fast_config(&url, Some(SECRET_TEST)))
            .unwrap()
            .trigger_test_event("ticket.created")
            .await
            .unwrap();
        assert_eq!(
            proxy.captured(),
            Vec::<String>::new(),
            "{env:?}: nothing reaches the proxy"
        );
        let delivery = receiver.wait_for(round + 1).await.remove(round);
        assert_eq!(
            Some(delivery.header("x-event-id")),
            triggered.event_id.as_deref(),
            "{env:?}: the receiver got this event"
        );
        assert_eq!(delivery.verified(&secret), Ok(()), "{env:?}");
        let logged: Vec<Value> = deliveries(&url)
            .await
            .into_iter()
            .filter(|d| d["url"] == receiver.url.as_str())
            .collect();
        assert_eq!(logged.len(), 1, "{env:?}: {logged:?}");
        assert_eq!(logged[0]["status"], 200, "{env:?}: the receiver's answer");
        child.kill().await.unwrap();
    }
}

/// Creates an active webhook for `events` at `url`; its id.
async fn create_webhook(sandbox: &RunningSandbox, url: &str, events: &[&str]) -> String {
    let path = format!("/api/v1/teams/{}/webhooks", sandbox::TEAM_ID);
    let created = raw(sandbox, reqwest::Method::POST, &path, Some(SECRET_TEST))
        .await
        .json(&json!({ "url": url, "events": events }))
        .send_json()
        .await;
    created["data"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn delivered_to_counts_only_the_endpoints_that_accepted_the_event() {
    let sandbox = start_sandbox().await;
    set_schedule(&sandbox, &[60_000], 300).await;
    let accepting = [
        Receiver::start(Behaviour::Answer(vec![200])).await,
        Receiver::start(Behaviour::Answer(vec![204])).await,
    ];
    let refusing = [
        Receiver::start(Behaviour::Answer(vec![500])).await,
        Receiver::start(Behaviour::Answer(vec![401])).await,
        Receiver::start(Behaviour::Hang).await,
    ];
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/hooks", listener.local_addr().unwrap())
    };
    for receiver in accepting.iter().chain(&refusing) {
        create_webhook(&sandbox, &receiver.url, &["boss.spawned"]).await;
    }
    create_webhook(&sandbox, &closed, &["boss.spawned"]).await;

    // Analytics (*), a placeholder off loopback, is subscribed too: seven
    // endpoints, two of which accepted.
    let rest = client(&sandbox, SECRET_TEST)
        .trigger_test_event("boss.spawned")
        .await
        .unwrap();
    let attempts = rest.deliveries.unwrap();
    assert_eq!(attempts.len(), 7, "{attempts:#?}");
    let accepted = attempts
        .iter()
        .filter(|a| a.status.is_some_and(|s| (200..300).contains(&s)))
        .count();
    assert_eq!((rest.delivered_to, accepted), (2, 2), "{attempts:#?}");

    let mcp = mcp_for(&sandbox, SECRET_TEST).await;
    let tool = ok(&call(
        &mcp,
        "cstar_trigger_webhook",
        json!({ "event": "boss.spawned" }),
    )
    .await);
    assert_eq!(tool["deliveredTo"], 2, "{tool:#}");
    assert_eq!(tool["deliveries"].as_array().unwrap().len(), 7);
    for receiver in &accepting {
        assert_eq!(receiver.wait_for(2).await.len(), 2);
    }
}

/// `POST /webhooks` or `PATCH /webhooks/{id}` with `body`: the status and
/// the answer.
async fn send_webhook(sandbox: &RunningSandbox, id: Option<&str>, body: &Value) -> (u16, Value) {
    let mut path = format!("/api/v1/teams/{}/webhooks", sandbox::TEAM_ID);
    let method = match id {
        Some(id) => {
            path = format!("{path}/{id}");
            reqwest::Method::PATCH
        }
        None => reqwest::Method::POST,
    };
    let response = raw(sandbox, method, &path, Some(SECRET_TEST))
        .await
        .json(body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn refused(answer: &(u16, Value)) -> (u16, &Value, &Value) {
    (
        answer.0,
        &answer.1["error"]["code"],
        &answer.1["error"]["param"],
    )
}

#[tokio::test]
async fn webhook_urls_are_at_most_2048_characters_however_many_bytes_they_take() {
    let sandbox = start_sandbox().await;
    // `length` characters: the base, then `filler` over and over.
    let url = |length: usize, filler: &str| -> String {
        "http://127.0.0.1:9/hooks/"
            .chars()
            .chain(filler.chars().cycle())
            .take(length)
            .collect()
    };
    let invalid = json!("parameter_invalid");
    for filler in ["a", "é", "😀", "%C3%A9"] {
        let (fits, over) = (url(2_048, filler), url(2_049, filler));
        let created = send_webhook(&sandbox, None, &json!({ "url": fits, "events": ["*"] })).await;
        assert_eq!(created.0, 201, "{filler}: {}", created.1);
        assert_eq!(created.1["data"]["url"], fits.as_str());
        let id = created.1["data"]["id"].as_str().unwrap().to_owned();
        let answer = send_webhook(&sandbox, None, &json!({ "url": over, "events": ["*"] })).await;
        assert_eq!(refused(&answer), (400, &invalid, &json!("url")), "{filler}");
        let answer = send_webhook(&sandbox, Some(&id), &json!({ "url": over })).await;
        assert_eq!(
            refused(&answer),
            (400, &invalid, &json!("url")),
            "{filler}: update"
        );
        let answer = send_webhook(&sandbox, Some(&id), &json!({ "url": fits })).await;
        assert_eq!(answer.0, 200, "{filler}: update");
    }
    let huge = url(900 * 1024, "a");
    let answer = send_webhook(&sandbox, None, &json!({ "url": huge, "events": ["*"] })).await;
    assert_eq!(refused(&answer), (400, &invalid, &json!("url")));
    assert!(
        answer.1.to_string().len() < 1_000,
        "the error does not echo it"
    );
}

#[tokio::test]
async fn webhook_names_and_event_lists_are_bounded() {
    let sandbox = start_sandbox().await;
    let hook = |name: String, events: Vec<&str>| json!({ "url": "http://127.0.0.1:9/", "name": name, "events": events });
    let invalid = json!("parameter_invalid");
    let created = send_webhook(&sandbox, None, &hook("é".repeat(500), vec!["*"; 50])).await;
    assert_eq!(created.0, 201, "{}", created.1);
    let id = created.1["data"]["id"].as_str().unwrap().to_owned();
    let answer = send_webhook(&sandbox, None, &hook("é".repeat(501), vec!["*"])).await;
    assert_eq!(refused(&answer), (400, &invalid, &json!("name")));
    let answer = send_webhook(&sandbox, None, &hook("n".into(), vec!["*"; 51])).await;
    assert_eq!(refused(&answer), (400, &invalid, &json!("events")));
    let answer = send_webhook(&sandbox, Some(&id), &json!({ "name": "é".repeat(501) })).await;
    assert_eq!(refused(&answer), (400, &invalid, &json!("name")));
    let answer = send_webhook(&sandbox, Some(&id), &json!({ "events": vec!["*"; 51] })).await;
    assert_eq!(refused(&answer), (400, &invalid, &json!("events")));
}
