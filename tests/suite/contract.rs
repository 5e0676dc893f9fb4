//! The client against the sandbox: every endpoint the tools use, filters,
//! pagination and the documented error bodies.

use cstar_mcp::api::models::{
    ArticleQuery, ArticleStatus, CustomerQuery, NewTicket, Priority, Sentiment, TicketQuery,
    TicketStatus,
};
use cstar_mcp::api::{ApiError, Client};
use cstar_mcp::sandbox::{TEAM_ID, TEAM_NAME, TEAM_SLUG};
use reqwest::Method;
use serde_json::{Value, json};

use super::harness::*;

fn status_of(error: ApiError) -> (u16, String) {
    match error {
        ApiError::Status(status) => (status.status, status.code.unwrap_or_default()),
        other => panic!("expected an HTTP error, got {other:?}"),
    }
}

#[tokio::test]
async fn whoami_names_the_team_and_key() {
    let sandbox = start_sandbox().await;
    let team = client(&sandbox, SECRET_TEST).whoami().await.unwrap();
    assert_eq!(team.whoami.team_id, TEAM_ID);
    assert_eq!(team.whoami.team_name.as_deref(), Some(TEAM_NAME));
    assert_eq!(team.whoami.team_slug.as_deref(), Some(TEAM_SLUG));
    assert_eq!(team.whoami.key_type.as_deref(), Some("secret"));
    assert_eq!(team.whoami.environment.as_deref(), Some("test"));
    let limit = team.rate_limit.unwrap();
    assert_eq!(
        (limit.limit, limit.remaining, limit.window_seconds),
        (1000, 999, Some(3600))
    );
    let team = client(&sandbox, PUBLISHABLE_TEST).whoami().await.unwrap();
    assert_eq!(team.whoami.key_type.as_deref(), Some("publishable"));
    assert_eq!(team.rate_limit.unwrap().limit, 100);
}

#[tokio::test]
async fn team_is_discovered_once_and_requests_carry_documented_headers() {
    let sandbox = start_sandbox().await;
    let client = client(&sandbox, SECRET_TEST);
    for _ in 0..3 {
        client.list_tickets(&TicketQuery::default()).await.unwrap();
    }
    assert_eq!(count_requests(&sandbox, "GET", "/auth/whoami").await, 1);
    assert_eq!(count_requests(&sandbox, "GET", "/tickets").await, 3);
    let log = requests(&sandbox).await;
    assert_eq!(log.len(), 4);
    for entry in &log {
        assert_eq!(entry["cstarVersion"], "2026-03-01", "{entry}");
        let agent = entry["userAgent"].as_str().unwrap_or_default();
        assert_eq!(
            agent,
            concat!("cstar-mcp/", env!("CARGO_PKG_VERSION")),
            "{entry}"
        );
    }
    let serialized = serde_json::to_string(&log).unwrap();
    assert!(
        !serialized.contains(SECRET_TEST) && !serialized.contains(&SECRET_TEST[8..]),
        "the log holds no key"
    );
}

#[tokio::test]
async fn category_lookups_follow_every_page() {
    use axum::extract::Query;
    use axum::routing::get;
    use std::collections::HashMap;
    // A canned upstream whose categories come two pages of one.
    let app = axum::Router::new().route(
        "/api/v1/teams/{team}/categories",
        get(|Query(query): Query<HashMap<String, String>>| async move {
            let page: u32 = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
            let (name, more) = if page == 1 {
                ("Billing", true)
            } else {
                ("Shipping", false)
            };
            axum::Json(json!({ "success": true,
                "data": [{ "id": format!("cat_{page}"), "name": name }],
                "pagination": { "page": page, "pageSize": 1, "total": 2, "hasMore": more } }))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let mut config = fast_config(&base, Some(SECRET_TEST));
    config.team_id = Some(TEAM_ID.to_owned());
    let categories = Client::new(config)
        .unwrap()
        .list_categories()
        .await
        .unwrap();
    let names: Vec<&str> = categories.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["Billing", "Shipping"]);
}

#[tokio::test]
async fn tickets_paginate_with_has_more() {
    let sandbox = start_sandbox().await;
    let client = client(&sandbox, SECRET_TEST);
    let first = client.list_tickets(&TicketQuery::default()).await.unwrap();
    assert_eq!(
        (first.page, first.page_size, first.total, first.has_more),
        (1, 20, 200, true)
    );
    assert_eq!(first.items.len(), 20);
    assert!(
        every(&first.items, |t| t.messages.is_none()),
        "lists carry no threads"
    );
    let last = client
        .list_tickets(&TicketQuery {
            page: Some(2),
            page_size: Some(100),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((last.items.len(), last.has_more), (100, false));
    let past = client
        .list_tickets(&TicketQuery {
            page: Some(9),
            page_size: Some(100),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(past.items.is_empty());
    let clamped = client
        .list_tickets(&TicketQuery {
            page_size: Some(500),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(clamped.page_size, 100);
}

#[tokio::test]
async fn ticket_filters_narrow_the_list() {
    let sandbox = start_sandbox().await;
    let client = client(&sandbox, SECRET_TEST);
    let query = TicketQuery {
        status: Some(TicketStatus::Open),
        priority: Some(Priority::Urgent),
        page_size: Some(100),
        ..Default::default()
    };
    let page = client.list_tickets(&query).await.unwrap();
    assert!(page.total > 0 && page.total < 200);
    assert!(every(&page.items, |t| t.status == "open"
        && t.priority == "urgent"));

    let some = client
        .list_tickets(&TicketQuery::default())
        .await
        .unwrap()
        .items[0]
        .clone();
    let customer = some.customer_id.clone().unwrap();
    let customer_uuid = {
        let hex = customer.trim_start_matches("cus_");
        format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        )
    };
    for id in [customer.clone(), customer_uuid] {
        let page = client
            .list_tickets(&TicketQuery {
                customer_id: Some(id),
                page_size: Some(100),
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(page.total >= 1);
        assert!(every(&page.items, |t| t.customer_id.as_deref()
            == Some(customer.as_str())));
    }

    let tag = some.tags[0].clone();
    let page = client
        .list_tickets(&TicketQuery {
            tag: Some(tag.clone()),
            page_size: Some(100),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(every(&page.items, |t| t.tags.contains(&tag)));

    let page = client
        .list_tickets(&TicketQuery {
            search: Some("PASSWORD".into()),
            page_size: Some(100),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(page.total > 0 && page.total < 200);

    let agent = client
        .list_tickets(&TicketQuery {
            status: Some(TicketStatus::Open),
            ..Default::default()
        })
        .await
        .unwrap()
        .items[0]
        .assigned_to
        .clone()
        .unwrap();
    let page = client
        .list_tickets(&TicketQuery {
            assigned_to: Some(agent.clone()),
            page_size: Some(100),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        page.total > 0
            && page
                .items
                .iter()
                .all(|t| t.assigned_to.as_deref() == Some(agent.as_str()))
    );
}

#[tokio::test]
async fn a_ticket_is_read_by_either_id_with_its_thread_in_order() {
    let sandbox = start_sandbox().await;
    let client = client(&sandbox, SECRET_TEST);
    let open = client
        .list_tickets(&TicketQuery {
            status: Some(TicketStatus::Closed),
            ..Default::default()
        })
        .await
        .unwrap()
        .items[0]
        .clone();
    let ticket = client.get_ticket(&open.id).await.unwrap();
    let messages = ticket.messages.clone().unwrap();
    assert_eq!(messages.len() as u64, open.message_count.unwrap());
    assert!(
        messages
            .windows(2)
            .all(|w| w[0].created_at <= w[1].created_at)
    );
    assert_eq!(messages[0].sender, "customer");
    assert!(messages.iter().any(|m| m.sender == "agent"));
    assert!(messages.iter().any(|m| m.sender == "system"));
    assert!(ticket.closed_at.is_some() && ticket.resolved_at.is_some());
    assert!(
        ticket.extra.contains_key("slaPaused"),
        "unknown fields are kept"
    );

    let hex = open.id.trim_start_matches("tkt_");
    let uuid = format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    );
    assert_eq!(client.get_ticket(&uuid).await.unwrap().id, open.id);
    assert_eq!(
        client.list_ticket_messages(&open.id).await.unwrap(),
        messages
    );
}

#[tokio::test]
async fn a_missing_ticket_is_a_404_with_request_id() {
    let sandbox = start_sandbox().await;
    let error = client(&sandbox, SECRET_TEST)
        .get_ticket("tkt_00000000000000000000000000000000")
        .await
        .unwrap_err();
    let ApiError::Status(status) = error else {
        panic!("{error:?}")
    };
    assert_eq!(
        (status.status, status.code.as_deref()),
        (404, Some("resource_missing"))
    );
    assert_eq!(status.error_type.as_deref(), Some("not_found_error"));
    assert!(status.request_id.unwrap().starts_with("req_"));
}

#[tokio::test]
async fn invalid_ids_are_refused_before_the_network() {
    let sandbox = start_sandbox().await;
    let client = client(&sandbox, SECRET_TEST);
    for id in ["../../auth/whoami", "tkt_1?x=y", "%2e%2e", "tkt_1/messages"] {
        assert!(
            matches!(
                client.get_ticket(id).await,
                Err(ApiError::InvalidInput { .. })
            ),
            "{id}"
        );
    }
    assert!(matches!(
        client.get_customer("tkt_1").await,
        Err(ApiError::InvalidInput { .. })
    ));
    assert_eq!(
        count_requests(&sandbox, "GET", "").await,
        0,
        "nothing was sent"
    );
}

#[tokio::test]
async fn create_ticket_returns_201_with_defaults_and_links_the_customer() {
    let sandbox = start_sandbox().await;
    let client = client(&sandbox, SECRET_TEST);
    let customer = client
        .list_customers(&CustomerQuery::default())
        .await
        .unwrap()
        .items[0]
        .clone();
    let created = client
        .create_ticket(
            &NewTicket {
                title: "Printer on fire".into(),
                customer_id: Some(customer.id.clone()),
                tags: vec!["hardware".into()],
                initial_message: Some("It is really on fire.".into()),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap()
        .ticket;
    assert!(created.id.starts_with("tkt_"));
    assert_eq!(
        (created.status.as_str(), created.priority.as_str()),
        ("new", "normal")
    );
    assert_eq!(
        created.customer_name.as_deref(),
        Some(customer.name.as_str())
    );
    assert_eq!(created.message_count, Some(1));
    let read = client.get_ticket(&created.id).await.unwrap();
    assert_eq!(read.messages.unwrap()[0].content, "It is really on fire.");
    let log = requests(&sandbox).await;
    let post = log.iter().find(|r| r["method"] == "POST").unwrap();
    assert!(
        post["idempotencyKey"]
            .as_str()
            .unwrap()
            .starts_with("cstar-mcp-")
    );
    assert_eq!(post["status"], 201);
    let total = client
        .list_tickets(&TicketQuery::default())
        .await
        .unwrap()
        .total;
    assert_eq!(total, 201);
}

#[tokio::test]
async fn idempotency_key_replays_and_refuses_a_changed_body() {
    let sandbox = start_sandbox().await;
    let path = format!("/api/v1/teams/{TEAM_ID}/tickets");
    let send = |body: Value| {
        let sandbox = &sandbox;
        let path = path.clone();
        async move {
            let response = raw(sandbox, Method::POST, &path, Some(SECRET_TEST))
                .await
                .header("Idempotency-Key", "key-1")
                .json(&body)
                .send()
                .await
                .unwrap();
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap(),
            )
        }
    };
    let (status, first) = send(json!({ "title": "Once" })).await;
    assert_eq!(status, 201);
    let (status, again) = send(json!({ "title": "Once" })).await;
    assert_eq!(status, 201);
    assert_eq!(first["data"]["id"], again["data"]["id"]);
    let (status, conflict) = send(json!({ "title": "Twice" })).await;
    assert_eq!(status, 409);
    assert_eq!(conflict["error"]["code"], "idempotency_key_reused");
    let total = client(&sandbox, SECRET_TEST)
        .list_tickets(&TicketQuery::default())
        .await
        .unwrap()
        .total;
    assert_eq!(total, 201);
}

#[tokio::test]
async fn create_validates_its_body() {
    let sandbox = start_sandbox().await;
    let path = format!("/api/v1/teams/{TEAM_ID}/tickets");
    let cases = [
        (json!({}), 400, "parameter_missing", Some("title")),
        (
            json!({ "title": "" }),
            400,
            "parameter_invalid",
            Some("title"),
        ),
        (
            json!({ "title": "x", "priority": "critical" }),
            400,
            "parameter_invalid",
            Some("priority"),
        ),
        (
            json!({ "title": "x", "customerId": "cus_nope" }),
            400,
            "parameter_invalid",
            Some("customerId"),
        ),
        (
            json!({ "title": "x", "tags": "one" }),
            400,
            "parameter_invalid",
            Some("tags"),
        ),
    ];
    for (body, status, code, param) in cases {
        let response = raw(&sandbox, Method::POST, &path, Some(SECRET_TEST))
            .await
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{body}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["code"], code, "{body}");
        assert_eq!(error["error"]["param"].as_str(), param, "{body}");
        assert_eq!(error["success"], false);
        assert!(error["error"]["doc_url"].as_str().unwrap().ends_with(code));
    }
    let response = raw(&sandbox, Method::POST, &path, Some(SECRET_TEST))
        .await
        .body("{not json")
        .send()
        .await
        .unwrap();
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["code"], "invalid_json");
}

#[tokio::test]
async fn keys_are_checked_as_documented() {
    let sandbox = start_sandbox().await;
    let whoami = "/api/v1/auth/whoami";
    let cases = [
        (None, "authentication_required"),
        (
            Some("xk_live_a1B2c3D4e5F6g7H8i9J0k-L2m3N4o5P6"),
            "invalid_key_format",
        ),
        (Some(UNKNOWN_KEY), "invalid_api_key"),
    ];
    for (key, code) in cases {
        let response = raw(&sandbox, Method::GET, whoami, key)
            .await
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 401);
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            (
                body["error"]["type"].as_str(),
                body["error"]["code"].as_str()
            ),
            (Some("authentication_error"), Some(code))
        );
    }
    let (status, code) = status_of(client(&sandbox, UNKNOWN_KEY).whoami().await.unwrap_err());
    assert_eq!((status, code.as_str()), (401, "invalid_api_key"));
    let malformed = Client::new(fast_config(&sandbox.base_url(), Some("not-a-key"))).unwrap();
    assert_eq!(
        malformed.whoami().await.unwrap_err(),
        ApiError::MalformedKey
    );
    let missing = Client::new(fast_config(&sandbox.base_url(), None)).unwrap();
    assert_eq!(
        missing
            .list_tickets(&TicketQuery::default())
            .await
            .unwrap_err(),
        ApiError::MissingKey
    );
}

#[tokio::test]
async fn publishable_keys_read_but_never_write() {
    let sandbox = start_sandbox().await;
    let client = client(&sandbox, PUBLISHABLE_TEST);
    assert!(client.list_tickets(&TicketQuery::default()).await.is_ok());
    let error = client
        .create_ticket(
            &NewTicket {
                title: "x".into(),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap_err()
        .error;
    assert_eq!(status_of(error), (403, "publishable_key_write".into()));
    let error = client
        .trigger_test_event("ticket.created")
        .await
        .unwrap_err();
    assert_eq!(status_of(error), (403, "publishable_key_write".into()));
    let response = raw(
        &sandbox,
        Method::GET,
        &format!("/api/v1/teams/{TEAM_ID}/webhooks"),
        Some(PUBLISHABLE_TEST),
    )
    .await
    .send()
    .await
    .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "insufficient_permissions");
}

#[tokio::test]
async fn another_team_in_the_path_is_refused() {
    let sandbox = start_sandbox().await;
    let response = raw(
        &sandbox,
        Method::GET,
        "/api/v1/teams/00000000-0000-4000-8000-000000000000/tickets",
        Some(SECRET_TEST),
    )
    .await
    .send()
    .await
    .unwrap();
    assert_eq!(response.status().as_u16(), 403);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "team_access_denied");
}

#[tokio::test]
async fn bad_query_values_are_400_parameter_invalid() {
    let sandbox = start_sandbox().await;
    for query in [
        "status=bogus",
        "page=0",
        "page=x",
        "pageSize=many",
        "priority=critical",
    ] {
        let response = raw(
            &sandbox,
            Method::GET,
            &format!("/api/v1/teams/{TEAM_ID}/tickets?{query}"),
            Some(SECRET_TEST),
        )
        .await
        .send()
        .await
        .unwrap();
        assert_eq!(response.status().as_u16(), 400, "{query}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "parameter_invalid", "{query}");
    }
}

#[tokio::test]
async fn pagination_is_sent_in_both_documented_places() {
    let sandbox = start_sandbox().await;
    let body: Value = raw(
        &sandbox,
        Method::GET,
        &format!("/api/v1/teams/{TEAM_SLUG}/customers?pageSize=7&page=2"),
        Some(SECRET_TEST),
    )
    .await
    .send_json()
    .await;
    let expected =
        json!({ "page": 2, "pageSize": 7, "total": 60, "totalPages": 9, "hasMore": true });
    assert_eq!(body["pagination"], expected);
    assert_eq!(body["meta"]["pagination"], expected);
    assert!(
        body["meta"]["requestId"]
            .as_str()
            .unwrap()
            .starts_with("req_")
    );
    assert_eq!(body["data"][0]["object"], "customer");
}

#[tokio::test]
async fn customers_filter_and_read() {
    let sandbox = start_sandbox().await;
    let client = client(&sandbox, SECRET_TEST);
    let all = client
        .list_customers(&CustomerQuery {
            page_size: Some(100),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.total, 60);
    let inactive = client
        .list_customers(&CustomerQuery {
            status: Some(cstar_mcp::api::models::CustomerStatus::Inactive),
            page_size: Some(100),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        inactive.total > 0
            && inactive
                .items
                .iter()
                .all(|c| c.status.as_deref() == Some("inactive"))
    );
    let negative = client
        .list_customers(&CustomerQuery {
            sentiment: Some(Sentiment::Angry),
            page_size: Some(100),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        negative.total > 0
            && negative
                .items
                .iter()
                .all(|c| c.sentiment.as_deref() == Some("negative"))
    );
    let one = &all.items[5];
    let email = one.email.clone().unwrap();
    let found = client
        .list_customers(&CustomerQuery {
            search: Some(email.to_uppercase()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(found.items[0].id, one.id);
    let read = client.get_customer(&one.id).await.unwrap();
    assert_eq!(read.name, one.name);
    assert!(read.ticket_count.is_some());
    let (status, _) = status_of(client.get_customer("cus_0000").await.unwrap_err());
    assert_eq!(status, 404);
}

#[tokio::test]
async fn articles_filter_by_category_name_or_id_and_visibility() {
    let sandbox = start_sandbox().await;
    let client = client(&sandbox, SECRET_TEST);
    let categories = client.list_categories().await.unwrap();
    assert_eq!(categories.len(), 6);
    let billing = categories.iter().find(|c| c.name == "Billing").unwrap();
    for category in [billing.name.clone(), billing.id.clone()] {
        let page = client
            .list_articles(&ArticleQuery {
                category: Some(category),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(page.total, 5);
        assert!(every(&page.items, |a| a.category.as_deref() == Some("Billing")));
    }
    let internal = client
        .list_articles(&ArticleQuery {
            is_public: Some(false),
            page_size: Some(100),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(every(&internal.items, |a| a.is_public == Some(false)));
    let drafts = client
        .list_articles(&ArticleQuery {
            status: Some(ArticleStatus::Draft),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        drafts.total > 0
            && drafts
                .items
                .iter()
                .all(|a| a.status.as_deref() == Some("draft"))
    );
    let found = client
        .list_articles(&ArticleQuery {
            search: Some("webhook".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(found.total >= 3);
    assert!(found.items[0].content.as_deref().unwrap().starts_with("# "));
}

#[tokio::test]
async fn trigger_test_reaches_the_subscribed_active_webhooks_and_counts_what_they_accepted() {
    let sandbox = start_sandbox().await;
    let client = client(&sandbox, SECRET_TEST);
    let reached = |result: &cstar_mcp::api::models::TriggerResult| {
        let attempts = result.deliveries.clone().unwrap_or_default();
        (attempts.len(), result.delivered_to)
    };
    // Slack, CRM sync and Analytics; the seeded URLs are off loopback, so
    // none of them is delivered to.
    let created = client.trigger_test_event("ticket.created").await.unwrap();
    assert_eq!(created.event, "ticket.created");
    assert_eq!(reached(&created), (3, 0));
    assert!(created.event_id.unwrap().starts_with("evt_ticket_created_"));
    assert_eq!(created.environment.as_deref(), Some("test"));
    let spawned = client.trigger_test_event("boss.spawned").await.unwrap();
    assert_eq!(reached(&spawned), (1, 0), "Analytics (*) alone");
    let (status, code) = status_of(
        client
            .trigger_test_event("ticket.exploded")
            .await
            .unwrap_err(),
    );
    assert_eq!((status, code.as_str()), (400, "parameter_invalid"));
}

#[tokio::test]
async fn live_and_test_data_never_mix() {
    let sandbox = start_sandbox().await;
    let test = client(&sandbox, SECRET_TEST);
    let live = client(&sandbox, SECRET_LIVE);
    let created = test
        .create_ticket(
            &NewTicket {
                title: "Test only".into(),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap()
        .ticket;
    assert_eq!(
        status_of(live.get_ticket(&created.id).await.unwrap_err()).0,
        404
    );
    assert_eq!(
        live.list_tickets(&TicketQuery::default())
            .await
            .unwrap()
            .total,
        200
    );
    assert_ne!(
        live.list_tickets(&TicketQuery::default())
            .await
            .unwrap()
            .items[0]
            .id,
        test.list_tickets(&TicketQuery::default())
            .await
            .unwrap()
            .items[1]
            .id
    );
}

#[tokio::test]
async fn reset_restores_the_seed_data() {
    let sandbox = start_sandbox().await;
    let client = client(&sandbox, SECRET_TEST);
    let first = client
        .list_tickets(&TicketQuery::default())
        .await
        .unwrap()
        .items[0]
        .clone();
    client
        .create_ticket(
            &NewTicket {
                title: "Gone after reset".into(),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    control(&sandbox, "reset", json!({})).await;
    let page = client.list_tickets(&TicketQuery::default()).await.unwrap();
    assert_eq!((page.total, page.items[0].id.clone()), (200, first.id));
    assert_eq!(requests(&sandbox).await.len(), 1, "the log was cleared too");
}

#[tokio::test]
async fn a_key_only_ever_sees_its_own_team() {
    let sandbox = start_sandbox().await;
    let globex = client(&sandbox, GLOBEX_TEST);
    let team = globex.whoami().await.unwrap();
    assert_eq!(team.whoami.team_name.as_deref(), Some("Globex Help"));
    let acme_first = client(&sandbox, SECRET_TEST)
        .list_tickets(&TicketQuery::default())
        .await
        .unwrap()
        .items[0]
        .id
        .clone();
    assert_eq!(
        status_of(globex.get_ticket(&acme_first).await.unwrap_err()).0,
        404
    );
    let response = raw(
        &sandbox,
        Method::GET,
        &format!("/api/v1/teams/{TEAM_ID}/tickets"),
        Some(GLOBEX_TEST),
    )
    .await
    .send()
    .await
    .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "team_access_denied");
}

/// A tool's input schema, as `tools/list` publishes it.
fn input_schema(tool: &str) -> Value {
    cstar_mcp::tools::CstarServer::tool_router()
        .list_all()
        .into_iter()
        .map(|t| serde_json::to_value(t).unwrap())
        .find(|t| t["name"] == tool)
        .unwrap()["inputSchema"]
        .clone()
}

/// Free-text properties of a schema (strings with a `maxLength` and no
/// `enum`), with that limit.
fn text_limits(schema: &Value) -> Vec<(String, usize)> {
    schema["properties"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, p)| p["type"] == "string" && p.get("enum").is_none())
        .filter_map(|(name, p)| Some((name.clone(), p["maxLength"].as_u64()? as usize)))
        .collect()
}

/// `count` characters of two bytes each: limits count characters.
fn chars(count: usize) -> String {
    "é".repeat(count)
}

/// Status, error code and `param` of an answer.
async fn outcome(response: reqwest::Response) -> (u16, Value, Value) {
    outcome_and_message(response).await.0
}

/// Status, error code and `param` of an answer, and its error message.
async fn outcome_and_message(response: reqwest::Response) -> ((u16, Value, Value), String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    let error = &body["error"];
    (
        (status, error["code"].clone(), error["param"].clone()),
        error["message"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn ticket_create_accepts_each_limit_the_create_tool_publishes_and_refuses_one_more() {
    let sandbox = start_sandbox().await;
    let path = format!("/api/v1/teams/{TEAM_ID}/tickets");
    let create = |body: Value, idempotency_key: Option<String>| {
        let (sandbox, path) = (&sandbox, path.clone());
        async move {
            let mut request = raw(sandbox, Method::POST, &path, Some(SECRET_TEST))
                .await
                .json(&body);
            if let Some(key) = idempotency_key {
                request = request.header("Idempotency-Key", key);
            }
            outcome_and_message(request.send().await.unwrap()).await
        }
    };
    let refused = |param: &str| (400, json!("parameter_invalid"), json!(param));
    let schema = input_schema("cstar_create_ticket");
    let texts = text_limits(&schema);
    assert!(texts.len() >= 5, "{texts:?}");
    for (name, max) in texts {
        let (fits, over) = match name.as_str() {
            // A header, and a header value is ASCII.
            "idempotencyKey" => {
                let send = |length| create(json!({ "title": "t" }), Some("k".repeat(length)));
                (send(max).await, send(max + 1).await)
            }
            _ => {
                let with = |value: String| {
                    let mut body = json!({ "title": "t" });
                    body[name.as_str()] = json!(value);
                    create(body, None)
                };
                (with(chars(max)).await, with(chars(max + 1)).await)
            }
        };
        let param = match name.as_str() {
            "idempotencyKey" => "Idempotency-Key",
            other => other,
        };
        assert_eq!(over.0, refused(param), "{name}: {max} + 1 characters");
        assert!(
            over.1.contains(&format!("at most {max}")),
            "{name}: {over:?}"
        );
        match name.as_str() {
            // Short enough, but no such customer.
            "customerId" => assert!(fits.1.starts_with("No customer"), "{fits:?}"),
            _ => assert_eq!(fits.0.0, 201, "{name}: {max} characters: {fits:?}"),
        }
    }
    let tags = &schema["properties"]["tags"];
    let (most, longest) = (
        tags["maxItems"].as_u64().unwrap() as usize,
        tags["items"]["maxLength"].as_u64().unwrap() as usize,
    );
    let with_tags = |tags: Vec<String>| create(json!({ "title": "t", "tags": tags }), None);
    assert_eq!(with_tags(vec![chars(longest); most]).await.0.0, 201);
    assert_eq!(with_tags(vec![chars(1); most + 1]).await.0, refused("tags"));
    assert_eq!(with_tags(vec![chars(longest + 1)]).await.0, refused("tags"));
}

#[tokio::test]
async fn list_filters_accept_each_limit_the_list_tools_publish_and_refuse_one_more() {
    let sandbox = start_sandbox().await;
    let mut checked = Vec::new();
    for (tool, resource) in [
        ("cstar_list_tickets", "tickets"),
        ("cstar_list_customers", "customers"),
        ("cstar_list_articles", "articles"),
    ] {
        for (name, max) in text_limits(&input_schema(tool)) {
            let get = |value: String| {
                let (sandbox, name) = (&sandbox, name.clone());
                async move {
                    let path = format!("/api/v1/teams/{TEAM_ID}/{resource}");
                    let request = raw(sandbox, Method::GET, &path, Some(SECRET_TEST)).await;
                    outcome(request.query(&[(name, value)]).send().await.unwrap()).await
                }
            };
            assert_eq!(get(chars(max)).await.0, 200, "{resource}?{name}: {max}");
            assert_eq!(
                get(chars(max + 1)).await,
                (400, json!("parameter_invalid"), json!(name)),
                "{resource}?{name}: {max} + 1"
            );
            checked.push(format!("{resource}?{name}"));
        }
    }
    assert_eq!(checked.len(), 9, "{checked:?}");
}

#[tokio::test]
async fn ticket_metadata_is_bounded() {
    let sandbox = start_sandbox().await;
    let path = format!("/api/v1/teams/{TEAM_ID}/tickets");
    let create = |metadata: Value| {
        let (sandbox, path) = (&sandbox, path.clone());
        async move {
            let request = raw(sandbox, Method::POST, &path, Some(SECRET_TEST)).await;
            outcome(
                request
                    .json(&json!({ "title": "t", "metadata": metadata }))
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let keys = |count: usize| -> Value {
        (0..count)
            .map(|i| (format!("key{i}"), json!(i)))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let refused = (400, json!("parameter_invalid"), json!("metadata"));
    assert_eq!(create(keys(50)).await.0, 201);
    assert_eq!(create(keys(51)).await, refused);
    let fits = json!({ chars(40): chars(500), "n": 1.5, "b": true, "gone": null });
    assert_eq!(create(fits).await.0, 201);
    assert_eq!(create(json!({ chars(41): "v" })).await, refused);
    assert_eq!(create(json!({ "k": chars(501) })).await, refused);
    assert_eq!(create(json!({ "k": { "nested": "v" } })).await, refused);
    assert_eq!(create(json!({ "k": ["v"] })).await, refused);
}

#[tokio::test]
async fn a_refused_value_is_never_echoed_whole() {
    let sandbox = start_sandbox().await;
    let long = "x".repeat(30_000);
    let team = format!("/api/v1/teams/{TEAM_ID}");
    let cases = [
        (
            Method::POST,
            format!("{team}/webhooks/trigger-test"),
            Some(json!({ "event": long })),
            "event",
        ),
        (
            Method::POST,
            format!("{team}/webhooks/trigger-test"),
            Some(json!({ "event": [long] })),
            "event",
        ),
        (
            Method::POST,
            format!("{team}/tickets"),
            Some(json!({ "title": "t", "priority": long })),
            "priority",
        ),
        (
            Method::GET,
            format!("{team}/tickets?status={long}"),
            None,
            "status",
        ),
        (
            Method::GET,
            format!("{team}/customers?sentiment={long}"),
            None,
            "sentiment",
        ),
        (
            Method::GET,
            format!("{team}/tickets?page={long}"),
            None,
            "page",
        ),
        (
            Method::GET,
            format!("{team}/tickets?pageSize={long}"),
            None,
            "pageSize",
        ),
        (
            Method::GET,
            format!("{team}/articles?isPublic={long}"),
            None,
            "isPublic",
        ),
    ];
    for (method, path, body, param) in cases {
        let mut request = raw(&sandbox, method, &path, Some(SECRET_TEST)).await;
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), 400, "{param}");
        let text = response.text().await.unwrap();
        assert!(text.len() < 1_000, "{param}: {} bytes", text.len());
        let error: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(error["error"]["param"], param);
        assert!(
            error["error"]["message"]
                .as_str()
                .unwrap()
                .contains("xxxxxxxxxx…"),
            "{param}: quotes a prefix: {text}"
        );
    }
}

#[tokio::test]
async fn the_request_log_keeps_at_most_2_kib_of_each_text() {
    let sandbox = start_sandbox().await;
    let long = "é".repeat(5_000);
    let path = format!("/api/v1/teams/{TEAM_ID}/tickets/{}", "t".repeat(5_000));
    raw(&sandbox, Method::GET, &path, Some(SECRET_TEST))
        .await
        .query(&[("search", &long)])
        .header("User-Agent", "u".repeat(5_000))
        .header("CStar-Version", "v".repeat(5_000))
        .header("Idempotency-Key", "k".repeat(5_000))
        .send()
        .await
        .unwrap();
    let entry = requests(&sandbox).await.remove(0);
    for field in [
        "path",
        "query",
        "userAgent",
        "cstarVersion",
        "idempotencyKey",
    ] {
        let text = entry[field].as_str().unwrap();
        assert!(
            text.len() <= 2_048 && text.ends_with('…'),
            "{field}: {} bytes",
            text.len()
        );
    }
}
