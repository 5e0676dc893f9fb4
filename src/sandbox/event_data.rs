//! The `data` of webhook events, in the snake_case shape cStar delivers
//! (contract §5): for a real write, the stored record; for `trigger-test`,
//! a realistic event of the asked type drawn from the caller's own data.

use serde_json::{Value, json};

use super::dataset::Dataset;
use super::records::{ArticleRecord, CustomerRecord, TicketRecord};
use super::seed::Team;

/// `data` for a ticket event: the ticket and, when linked, its customer.
pub fn ticket(ticket: &TicketRecord, dataset: &Dataset) -> Value {
    let number = dataset.tickets.len()
        - dataset
            .tickets
            .iter()
            .position(|t| t.id == ticket.id)
            .unwrap_or(0);
    let mut data = json!({
        "ticket": {
            "id": ticket.id,
            "prefixed_id": format!("CST-{}", 1000 + number),
            "title": ticket.title,
            "status": ticket.status,
            "priority": ticket.priority,
            "channel": "api",
            "customer_id": ticket.customer_id,
            "customer_name": ticket.customer_name,
            "assigned_to": ticket.assigned_to,
            "tags": ticket.tags,
            "created_at": ticket.created_at,
            "updated_at": ticket.updated_at,
            "dashboard_url": format!("https://www.cstar.help/team/{}/tickets?selected={}", dataset.team_slug, ticket.id),
        }
    });
    let customer = ticket
        .customer_id
        .as_deref()
        .and_then(|id| dataset.customers.iter().find(|c| c.id == id));
    if let Some(customer) = customer {
        data["customer"] =
            json!({ "id": customer.id, "name": customer.name, "email": customer.email });
    }
    data
}

fn customer(customer: &CustomerRecord) -> Value {
    json!({ "customer": {
        "id": customer.id,
        "name": customer.name,
        "email": customer.email,
        "status": customer.status,
        "sentiment": customer.sentiment,
        "tags": customer.tags,
        "created_at": customer.created_at,
        "updated_at": customer.updated_at,
    } })
}

fn article(article: &ArticleRecord) -> Value {
    json!({ "article": {
        "id": article.id,
        "title": article.title,
        "slug": article.slug,
        "status": article.status,
        "is_public": article.is_public,
        "category": article.category,
        "published_at": article.published_at,
        "updated_at": article.updated_at,
    } })
}

/// A realistic `data` for a test event of `event_type`.
pub fn synthetic(event_type: &str, dataset: &Dataset, team: &Team, now: &str) -> Value {
    let some_ticket = dataset.tickets.first();
    let some_customer = dataset.customers.first();
    let some_article = dataset.articles.first();
    let (resource, action) = event_type.split_once('.').unwrap_or((event_type, ""));
    let mut data = match (resource, some_ticket, some_customer, some_article) {
        ("ticket", Some(found), _, _) => ticket(found, dataset),
        ("customer", _, Some(found), _) => customer(found),
        ("article", _, _, Some(found)) => article(found),
        ("customer_group", _, _, _) => json!({ "customer_group": {
            "id": "grp_8c1f2d3e4a5b6c7d8e9f0a1b2c3d4e5f", "name": "Enterprise accounts", "member_count": 12 } }),
        ("team", _, _, _) => {
            json!({ "team": { "id": team.id, "name": dataset.team_name, "slug": dataset.team_slug },
            "changes": { "business_hours": { "from": "09:00-17:00", "to": "08:00-18:00" } } })
        }
        ("agent", _, _, _) => {
            json!({ "agent": { "id": "mem_5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c", "name": "Riley Chen" },
            "changes": { "notifications": { "from": "all", "to": "mentions" } } })
        }
        ("boss", _, _, _) => {
            json!({ "boss": { "id": "boss_ticket_hydra", "name": "The Ticket Hydra",
            "max_hp": 500, "hp": if action == "defeated" { 0 } else { 340 } } })
        }
        ("player", _, _, _) => {
            json!({ "player": { "id": "mem_5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c", "name": "Riley Chen",
            "level": 12, "xp": 4820 }, "detail": action })
        }
        ("social", _, _, _) => {
            json!({ "from": { "id": "mem_5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c", "name": "Riley Chen" },
            "to": { "id": "mem_0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d", "name": "Sam Okafor" } })
        }
        ("community_post", _, _, _) => {
            json!({ "post": { "id": "post_3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b",
            "title": "Dark mode for the help widget", "status": "under_review", "votes": 42 } })
        }
        ("survey", _, _, _) => {
            json!({ "survey": { "id": "srv_1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d", "rating": 5,
            "comment": "Quick and friendly, thanks!" },
            "ticket_id": some_ticket.map(|t| t.id.clone()) })
        }
        _ => json!({}),
    };
    match event_type {
        "ticket.updated" => {
            let from = some_ticket.map_or("open", |t| t.status.as_str());
            data["changes"] = json!({ "status": { "from": from, "to": "pending" } });
        }
        "ticket.message_added" => {
            data["message"] = json!({ "id": "msg_7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a", "sender": "customer",
                "content": "Any update on this?", "created_at": now });
        }
        "ticket.assigned" => {
            data["assigned_to"] =
                json!({ "id": "mem_5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c", "name": "Riley Chen" });
        }
        _ => {}
    }
    data
}
