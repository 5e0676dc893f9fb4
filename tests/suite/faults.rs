//! The client under injected faults: what is retried, what is not, and
//! that a create whose answer is lost still makes exactly one ticket.

use std::time::{Duration, Instant};

use cstar_mcp::api::models::{NewTicket, TicketQuery};
use cstar_mcp::api::{ApiError, Client};
use serde_json::json;

use super::harness::*;

/// Whether an error is the expected one.
type Expectation = fn(&ApiError) -> bool;

const TICKETS: &str = "/api/v1/teams/*/tickets";

async fn warmed(sandbox: &cstar_mcp::sandbox::RunningSandbox) -> std::sync::Arc<Client> {
    let client = client(sandbox, SECRET_TEST);
    client.team_id().await.unwrap();
    client
}

#[tokio::test]
async fn transient_faults_on_reads_are_retried() {
    let kinds = [
        json!({ "fault": "status", "status": 503 }),
        json!({ "fault": "status", "status": 502 }),
        json!({ "fault": "status", "status": 504 }),
        json!({ "fault": "html502" }),
        json!({ "fault": "truncated_body" }),
        json!({ "fault": "reset" }),
        json!({ "fault": "status", "status": 429, "retryAfter": 1 }),
        json!({ "fault": "delay", "ms": 1500 }),
    ];
    for kind in kinds {
        let sandbox = start_sandbox().await;
        let client = warmed(&sandbox).await;
        let mut rule = kind.clone();
        rule["method"] = json!("GET");
        rule["path"] = json!(TICKETS);
        fault(&sandbox, rule).await;
        let page = client.list_tickets(&TicketQuery::default()).await;
        assert!(page.is_ok(), "{kind}: {page:?}");
        assert_eq!(
            count_requests(&sandbox, "GET", "/tickets").await,
            2,
            "{kind}: one retry"
        );
    }
}

#[tokio::test]
async fn persistent_faults_give_up_after_three_attempts_with_the_cause() {
    let cases: [(serde_json::Value, Expectation); 4] = [
        (
            json!({ "fault": "status", "status": 503 }),
            |e| matches!(e, ApiError::Status(s) if s.status == 503 && s.attempts == 3),
        ),
        (
            json!({ "fault": "html502" }),
            |e| matches!(e, ApiError::Status(s) if s.status == 502 && s.message.contains("not JSON")),
        ),
        (json!({ "fault": "delay", "ms": 1500 }), |e| {
            matches!(e, ApiError::Timeout { attempts: 3 })
        }),
        (json!({ "fault": "reset" }), |e| {
            matches!(e, ApiError::Network { attempts: 3, .. })
        }),
    ];
    for (kind, expected) in cases {
        let sandbox = start_sandbox().await;
        let client = warmed(&sandbox).await;
        let mut rule = kind.clone();
        rule["path"] = json!(TICKETS);
        rule["times"] = json!(5);
        fault(&sandbox, rule).await;
        let started = Instant::now();
        let error = client
            .list_tickets(&TicketQuery::default())
            .await
            .unwrap_err();
        assert!(expected(&error), "{kind}: {error:?}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{kind}: bounded"
        );
        assert_eq!(
            count_requests(&sandbox, "GET", "/tickets").await,
            3,
            "{kind}"
        );
    }
}

#[tokio::test]
async fn client_errors_and_server_errors_are_not_retried() {
    for status in [400, 401, 403, 404, 409, 500] {
        let sandbox = start_sandbox().await;
        let client = warmed(&sandbox).await;
        fault(
            &sandbox,
            json!({ "path": TICKETS, "fault": "status", "status": status }),
        )
        .await;
        let error = client
            .list_tickets(&TicketQuery::default())
            .await
            .unwrap_err();
        assert_eq!(error.status(), Some(status));
        assert_eq!(
            count_requests(&sandbox, "GET", "/tickets").await,
            1,
            "{status}"
        );
    }
}

#[tokio::test]
async fn malformed_json_is_a_decode_error() {
    let sandbox = start_sandbox().await;
    let client = warmed(&sandbox).await;
    fault(
        &sandbox,
        json!({ "path": TICKETS, "fault": "malformed_json" }),
    )
    .await;
    let error = client
        .list_tickets(&TicketQuery::default())
        .await
        .unwrap_err();
    assert!(
        matches!(error, ApiError::Decode { status: 200, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_long_retry_after_is_reported_not_waited() {
    let sandbox = start_sandbox().await;
    let client = warmed(&sandbox).await;
    fault(
        &sandbox,
        json!({ "path": TICKETS, "fault": "status", "status": 429, "retryAfter": 120 }),
    )
    .await;
    let started = Instant::now();
    let error = client
        .list_tickets(&TicketQuery::default())
        .await
        .unwrap_err();
    let ApiError::Status(status) = error else {
        panic!("{error:?}")
    };
    assert_eq!(
        (status.status, status.retry_after),
        (429, Some(Duration::from_secs(120)))
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(count_requests(&sandbox, "GET", "/tickets").await, 1);
}

#[tokio::test]
async fn the_sandbox_rate_limit_counts_requests_and_resets_with_its_window() {
    let sandbox = start_sandbox().await;
    let client = client(&sandbox, SECRET_TEST);
    control(
        &sandbox,
        "rate-limit",
        json!({ "limit": 2, "windowSeconds": 3600 }),
    )
    .await;
    client.list_tickets(&TicketQuery::default()).await.unwrap();
    assert_eq!(client.last_rate_limit().unwrap().remaining, 0);
    let error = client
        .list_tickets(&TicketQuery::default())
        .await
        .unwrap_err();
    let ApiError::Status(status) = error else {
        panic!("{error:?}")
    };
    assert_eq!(
        (status.status, status.code.as_deref()),
        (429, Some("rate_limit_exceeded"))
    );
    assert!(status.retry_after.unwrap() > Duration::from_secs(3000));
    assert_eq!(
        count_requests(&sandbox, "GET", "/tickets").await,
        2,
        "no hammering past a long Retry-After"
    );

    control(
        &sandbox,
        "rate-limit",
        json!({ "limit": 1, "windowSeconds": 1 }),
    )
    .await;
    client.list_tickets(&TicketQuery::default()).await.unwrap();
    let started = Instant::now();
    client.list_tickets(&TicketQuery::default()).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "the short Retry-After was waited out"
    );
}

#[tokio::test]
async fn a_one_second_window_lasts_a_second_from_the_first_request() {
    let sandbox = start_sandbox().await;
    control(
        &sandbox,
        "rate-limit",
        json!({ "limit": 1, "windowSeconds": 1 }),
    )
    .await;
    let whoami = || {
        raw(
            &sandbox,
            reqwest::Method::GET,
            "/api/v1/auth/whoami",
            Some(SECRET_TEST),
        )
    };
    let first = Instant::now();
    assert_eq!(whoami().await.send().await.unwrap().status(), 200);
    // Whatever the wall clock's second, the window holds for a second: a
    // window counted in whole seconds would end at the next one.
    let mut refused = 0;
    while first.elapsed() < Duration::from_millis(500) {
        let answer = whoami().await.send().await.unwrap();
        assert_eq!(
            answer.status(),
            429,
            "{:?} after the first request",
            first.elapsed()
        );
        let reset: u64 = answer.headers()["x-ratelimit-reset"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            reset * 1000 >= cstar_mcp::time::unix_now_millis() as u64,
            "reset is not in the past"
        );
        refused += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(refused >= 2);
    tokio::time::sleep(Duration::from_millis(1300).saturating_sub(first.elapsed())).await;
    assert_eq!(
        whoami().await.send().await.unwrap().status(),
        200,
        "a new window"
    );
}

#[tokio::test]
async fn a_lost_create_answer_still_makes_exactly_one_ticket() {
    let sandbox = start_sandbox().await;
    let client = warmed(&sandbox).await;
    fault(
        &sandbox,
        json!({ "method": "POST", "path": TICKETS, "fault": "commit_then_drop" }),
    )
    .await;
    let created = client
        .create_ticket(
            &NewTicket {
                title: "Exactly once".into(),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap()
        .ticket;
    let posts: Vec<_> = requests(&sandbox)
        .await
        .into_iter()
        .filter(|r| r["method"] == "POST")
        .collect();
    assert_eq!(posts.len(), 2, "the create was retried");
    assert_eq!(
        posts[0]["idempotencyKey"], posts[1]["idempotencyKey"],
        "with the same key"
    );
    let page = client
        .list_tickets(&TicketQuery {
            search: Some("Exactly once".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.items[0].id, created.id);
}

#[tokio::test]
async fn trigger_test_is_never_repeated_once_sent() {
    let sandbox = start_sandbox().await;
    let client = warmed(&sandbox).await;
    fault(
        &sandbox,
        json!({ "path": "*/webhooks/trigger-test", "fault": "reset" }),
    )
    .await;
    let error = client
        .trigger_test_event("ticket.created")
        .await
        .unwrap_err();
    assert!(
        matches!(error, ApiError::Network { attempts: 1, .. }),
        "{error:?}"
    );
    assert_eq!(count_requests(&sandbox, "POST", "/trigger-test").await, 1);
}

#[tokio::test]
async fn an_unreachable_cstar_is_a_network_error() {
    let sandbox = start_sandbox().await;
    let base_url = sandbox.base_url();
    drop(sandbox);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let client = Client::new(fast_config(&base_url, Some(SECRET_TEST))).unwrap();
    let error = client.whoami().await.unwrap_err();
    assert!(
        matches!(error, ApiError::Network { attempts: 3, .. }),
        "{error:?}"
    );
}
