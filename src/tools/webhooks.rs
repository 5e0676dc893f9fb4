//! Webhook tools: fire a test event, and the event catalogue.

use super::result::Json;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::CstarServer;
use super::args::{self, Parameters};
use super::errors::{ToolError, Write};
use crate::events::{self, CATALOGUE, CATEGORIES};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TriggerWebhookParams {
    /// The event type to fire, e.g. ticket.created (see cstar_list_events).
    #[schemars(length(max = args::MAX_EVENT))]
    pub event: String,
}

/// What the test trigger reached.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TriggeredEvent {
    pub event: String,
    // The synthetic event's id (evt_...), as receivers see it in X-Event-ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    // How many webhooks it was delivered to: answered 2xx when cStar
    // answered (a refused, failed or pending delivery does not count).
    pub delivered_to: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    // Against the sandbox only: how each endpoint answered its first attempt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deliveries: Option<Vec<DeliveryView>>,
}

/// One endpoint's first delivery attempt, as the sandbox saw it.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    // The receiver's HTTP status: 2xx accepted; 401 often means a bad signature check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    // Why no status came back (refused, timed out, not a loopback URL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    // True when the receiver had not answered yet.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub pending: bool,
}

/// An event category.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventCategory {
    Tickets,
    Customers,
    Articles,
    Team,
    Gamification,
    Community,
    Surveys,
}

impl EventCategory {
    fn as_str(self) -> &'static str {
        match self {
            EventCategory::Tickets => "tickets",
            EventCategory::Customers => "customers",
            EventCategory::Articles => "articles",
            EventCategory::Team => "team",
            EventCategory::Gamification => "gamification",
            EventCategory::Community => "community",
            EventCategory::Surveys => "surveys",
        }
    }
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListEventsParams {
    /// Category.
    pub category: Option<EventCategory>,
}

/// One webhook event type.
#[derive(Debug, Serialize, JsonSchema)]
pub struct EventInfo {
    pub name: String,
    pub description: String,
}

/// The event types of one category.
#[derive(Debug, Serialize, JsonSchema)]
pub struct EventGroup {
    pub category: String,
    pub events: Vec<EventInfo>,
}

/// The webhook event catalogue, by category in cStar's order.
#[derive(Debug, Serialize, JsonSchema)]
pub struct EventCatalogue {
    // Event types listed.
    pub count: usize,
    pub categories: Vec<EventGroup>,
}

#[tool_router(router = webhook_tools, vis = "pub(super)")]
impl CstarServer {
    /// Send a test webhook event (e.g. ticket.created) to every subscribed endpoint, to check a receiver and its signature check. Returns how many accepted it. Needs a secret key.
    #[tool(
        name = "cstar_trigger_webhook",
        title = "Trigger a test webhook event",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = true
        )
    )]
    async fn trigger_webhook(
        &self,
        Parameters(params): Parameters<TriggerWebhookParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<TriggeredEvent>, ToolError> {
        let client = self.client_for(&context);
        let wanted = params.event.trim();
        if events::find(wanted).is_none() {
            return Err(ToolError::invalid_argument(
                "event",
                format!(
                    "'{}' is not a cStar event type",
                    crate::limits::quote(wanted, crate::limits::QUOTED)
                ),
                format!(
                    "Closest valid types: {}. cstar_list_events lists all 35.",
                    events::closest(wanted, 3).join(", ")
                ),
            ));
        }
        // Team discovery fails before anything is triggered: its errors
        // must not say the event may have been delivered.
        self.call(&context, self.context(None, None), client.team_id())
            .await?;
        let result = self
            .call(
                &context,
                self.write_context(Write::Trigger),
                client.trigger_test_event(wanted),
            )
            .await?;
        Ok(Json(TriggeredEvent {
            event: result.event,
            event_id: result.event_id,
            delivered_to: result.delivered_to,
            environment: result.environment,
            deliveries: result.deliveries.map(|attempts| {
                attempts
                    .into_iter()
                    .map(|attempt| DeliveryView {
                        webhook_id: attempt.webhook_id,
                        url: attempt.url,
                        status: attempt.status,
                        error: attempt.error,
                        duration_ms: attempt.duration_ms,
                        pending: attempt.pending,
                    })
                    .collect()
            }),
        }))
    }

    /// All 35 cStar webhook event types by category, with what each means; no network call.
    #[tool(
        name = "cstar_list_events",
        title = "List webhook event types",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn list_events(
        &self,
        Parameters(params): Parameters<ListEventsParams>,
    ) -> Json<EventCatalogue> {
        let wanted = params.category.map(EventCategory::as_str);
        let categories: Vec<EventGroup> = CATEGORIES
            .iter()
            .filter(|category| wanted.is_none_or(|wanted| wanted == **category))
            .map(|category| EventGroup {
                category: category.to_string(),
                events: CATALOGUE
                    .iter()
                    .filter(|event| event.category == *category)
                    .map(|event| EventInfo {
                        name: event.name.to_owned(),
                        description: event.description.to_owned(),
                    })
                    .collect(),
            })
            .collect();
        Json(EventCatalogue {
            count: categories.iter().map(|group| group.events.len()).sum(),
            categories,
        })
    }
}
