//! What the benchmarked server talks to: by default a minimal cStar that
//! answers from bytes made once (so its own work does not hide the
//! server's cost, and overhead figures compare like with like), or with
//! `--upstream sandbox` the sandbox, whose handlers do real work.

use axum::Router;
use axum::routing::get;
use cstar_mcp::sandbox::{self, RunningSandbox};
use serde_json::{Value, json};

const TEAM: &str = "5b0c6c1e-2f4a-4d8e-9a51-3c2f1e7d9b40";
const TICKET: &str = "tkt_35c9511eea07491d8e67bc6918ca86e0";
/// The same ticket with personal data in its thread (for `--redact-pii`).
const PERSONAL_TICKET: &str = "tkt_5e7a1c0d9b2f4e8a8c3d6f1b2a4e9c70";
const CANNED_KEYS: [&str; 2] = [
    "sk_test_benchmarkKeyNumberOne000000001",
    "sk_test_benchmarkKeyNumberTwo000000002",
];

/// A running upstream, with a ticket to fetch and two keys of its team.
pub struct Upstream {
    pub base_url: String,
    pub team_id: String,
    pub ticket_id: String,
    /// A ticket whose thread holds emails, phone numbers, card numbers,
    /// IBANs, IP addresses and its customer's name.
    pub personal_ticket_id: String,
    pub keys: Vec<String>,
    _sandbox: Option<RunningSandbox>,
}

impl Upstream {
    /// The GET that one `cstar_get_ticket` call makes, to make directly.
    pub fn direct_get(&self) -> DirectGet {
        DirectGet {
            client: reqwest::Client::new(),
            url: format!(
                "{}/api/v1/teams/{}/tickets/{}",
                self.base_url, self.team_id, self.ticket_id
            ),
            key: self.keys[0].clone(),
        }
    }
}

/// The baseline: the ticket GET over a keep-alive client, body read.
#[derive(Clone)]
pub struct DirectGet {
    client: reqwest::Client,
    url: String,
    key: String,
}

impl DirectGet {
    pub async fn send(self) {
        let body = self
            .client
            .get(&self.url)
            .bearer_auth(&self.key)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert!(body.len() > 100);
    }
}

/// A cStar that answers whoami and one ticket, from bytes made once.
pub async fn canned() -> Upstream {
    let whoami = json!({ "success": true,
        "data": { "teamId": TEAM, "teamName": "Canned", "teamSlug": "canned", "keyType": "secret", "environment": "test" },
        "meta": { "requestId": "req_canned", "timestamp": "2026-03-02T00:00:00Z" } })
    .to_string();
    let messages: Vec<Value> = (0..5)
        .map(|i| json!({ "id": format!("msg_{i:032}"), "ticketId": TICKET, "content": "The reset link in the email says it has expired, even when I click it straight away.", "sender": if i % 2 == 0 { "customer" } else { "agent" }, "senderName": "Zara Haddad", "isInternal": false, "createdAt": "2026-03-02T00:51:00Z" }))
        .collect();
    let ticket_with = |id: &str, messages: Vec<Value>| {
        json!({ "success": true,
            "data": { "id": id, "object": "ticket", "title": "Cannot reset password", "status": "pending", "priority": "low",
                      "customerId": "cus_6df363835ec4418197fca3a44b9f1eb6", "customerName": "Zara Haddad", "assignedTo": null,
                      "tags": ["login", "account"], "notes": null, "messageCount": 5, "metadata": {},
                      "createdAt": "2026-03-02T00:51:00Z", "updatedAt": "2026-03-02T06:04:00Z", "messages": messages },
            "meta": { "requestId": "req_canned", "timestamp": "2026-03-02T00:00:00Z" } })
        .to_string()
    };
    let personal: Vec<Value> = messages
        .iter()
        .map(|message| {
            let mut message = message.clone();
            message["content"] = json!("Zara Haddad here again: the reset link sent to zara.haddad@example.com expired. Call me on +44 20 7946 0958; card 4111 1111 1111 1111 was charged twice, refund to DE89 3704 0044 0532 0130 00. I log in from 203.0.113.7, app v2.10.3.4.");
            message
        })
        .collect();
    let ticket = ticket_with(TICKET, messages);
    let personal_ticket = ticket_with(PERSONAL_TICKET, personal);
    let json_response = |body: String| {
        move || {
            let body = body.clone();
            async move { ([("content-type", "application/json")], body) }
        }
    };
    let app = Router::new()
        .route("/api/v1/auth/whoami", get(json_response(whoami)))
        .route(
            &format!("/api/v1/teams/{{team}}/tickets/{PERSONAL_TICKET}"),
            get(json_response(personal_ticket)),
        )
        .route(
            "/api/v1/teams/{team}/tickets/{ticket}",
            get(json_response(ticket)),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Upstream {
        base_url: base,
        team_id: TEAM.to_owned(),
        ticket_id: TICKET.to_owned(),
        personal_ticket_id: PERSONAL_TICKET.to_owned(),
        keys: CANNED_KEYS.iter().map(|key| key.to_string()).collect(),
        _sandbox: None,
    }
}

/// The sandbox with its rate limit lifted, and its first ticket.
pub async fn sandbox() -> Upstream {
    let running = sandbox::start(0).await.unwrap();
    let base_url = running.base_url();
    let client = reqwest::Client::new();
    client
        .post(format!("{base_url}/_sandbox/rate-limit"))
        .json(&json!({ "limit": 100_000_000 }))
        .send()
        .await
        .unwrap();
    let keys = vec![
        sandbox::DEMO_SECRET_TEST_KEY.to_owned(),
        "sk_live_sandboxDemoSecretLiveKey00000001".to_owned(),
    ];
    let tickets: Value = client
        .get(format!(
            "{base_url}/api/v1/teams/{}/tickets?pageSize=1",
            sandbox::TEAM_ID
        ))
        .bearer_auth(&keys[0])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ticket_id = tickets["data"][0]["id"].as_str().unwrap().to_owned();
    Upstream {
        base_url,
        team_id: sandbox::TEAM_ID.to_owned(),
        personal_ticket_id: ticket_id.clone(),
        ticket_id,
        keys,
        _sandbox: Some(running),
    }
}
