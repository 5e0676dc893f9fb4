//! cStar's resources as this client reads them.
//!
//! Field names follow cStar's current camelCase; the older snake_case names
//! are accepted as aliases. Enumerated values that cStar may extend (status,
//! sentiment, …) are kept as strings on the way in, so a new value never
//! breaks decoding; the typed enums below are for the filters this client
//! sends. Fields this client does not know are kept in `extra`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Ticket status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    New,
    Open,
    Pending,
    Resolved,
    Closed,
}

/// Ticket priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    Normal,
    High,
    Urgent,
}

/// Customer status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CustomerStatus {
    Active,
    Inactive,
}

/// Customer sentiment: cStar's documentation uses two vocabularies
/// (positive/neutral/negative and happy/neutral/frustrated/angry); both are
/// accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sentiment {
    Positive,
    Neutral,
    Negative,
    Happy,
    Frustrated,
    Angry,
}

/// Article status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ArticleStatus {
    Draft,
    Published,
    Archived,
}

/// A support ticket. `messages` is present only on a single-ticket read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Ticket {
    /// Ticket id (`tkt_…`).
    pub id: String,
    /// Subject line.
    pub title: String,
    /// new, open, pending, resolved or closed.
    pub status: String,
    /// low, normal, high or urgent.
    pub priority: String,
    /// The customer's id (`cus_…`), if linked.
    #[serde(default, alias = "customer_id")]
    pub customer_id: Option<String>,
    /// The customer's display name.
    #[serde(default, alias = "customer_name")]
    pub customer_name: Option<String>,
    /// The assigned agent's id, if any.
    #[serde(default, alias = "assigned_to")]
    pub assigned_to: Option<String>,
    /// Tags on the ticket.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Internal notes, never shown to the customer.
    #[serde(default)]
    pub notes: Option<String>,
    /// Number of messages in the thread.
    #[serde(default, alias = "message_count")]
    pub message_count: Option<u64>,
    /// When the ticket was created (ISO 8601).
    #[serde(default, alias = "created_at")]
    pub created_at: Option<String>,
    /// When the ticket last changed (ISO 8601).
    #[serde(default, alias = "updated_at")]
    pub updated_at: Option<String>,
    /// When the ticket was closed, if it is.
    #[serde(default, alias = "closed_at")]
    pub closed_at: Option<String>,
    /// When the ticket was resolved (older field name for `closedAt`).
    #[serde(default, alias = "resolved_at")]
    pub resolved_at: Option<String>,
    /// The message thread, oldest first (single-ticket reads only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<Message>>,
    /// Other fields cStar sent (SLA deadlines, metadata, …), kept as-is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One message in a ticket thread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// Message id (`msg_…`).
    pub id: String,
    /// The message body, written by its sender.
    pub content: String,
    /// Who wrote it: customer, agent or system.
    pub sender: String,
    /// The sender's display name.
    #[serde(default, alias = "sender_name")]
    pub sender_name: Option<String>,
    /// True for internal notes that the customer never sees.
    #[serde(default, alias = "is_internal")]
    pub is_internal: bool,
    /// When it was written (ISO 8601).
    #[serde(default, alias = "created_at")]
    pub created_at: Option<String>,
}

/// A customer profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    /// Customer id (`cus_…`).
    pub id: String,
    /// Full name.
    pub name: String,
    /// Email address.
    #[serde(default)]
    pub email: Option<String>,
    /// active or inactive.
    #[serde(default)]
    pub status: Option<String>,
    /// positive/neutral/negative or happy/neutral/frustrated/angry.
    #[serde(default)]
    pub sentiment: Option<String>,
    /// Tags on the customer.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Internal notes.
    #[serde(default)]
    pub notes: Option<String>,
    /// Number of tickets this customer has opened.
    #[serde(default, alias = "ticket_count")]
    pub ticket_count: Option<u64>,
    /// Team-defined fields.
    #[serde(default, alias = "custom_fields")]
    pub custom_fields: Map<String, Value>,
    /// When the customer was created (ISO 8601).
    #[serde(default, alias = "created_at")]
    pub created_at: Option<String>,
    /// When the profile last changed (ISO 8601).
    #[serde(default, alias = "updated_at")]
    pub updated_at: Option<String>,
    /// Other fields cStar sent, kept as-is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A knowledge-base article.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Article {
    /// Article id (`art_…`).
    pub id: String,
    /// Title.
    pub title: String,
    /// URL slug in the public library.
    #[serde(default)]
    pub slug: Option<String>,
    /// Short summary.
    #[serde(default)]
    pub excerpt: Option<String>,
    /// Full Markdown body (only when requested).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Category name.
    #[serde(default)]
    pub category: Option<String>,
    /// Category id.
    #[serde(default, alias = "category_id")]
    pub category_id: Option<String>,
    /// draft, published or archived.
    #[serde(default)]
    pub status: Option<String>,
    /// Whether it is visible in the public knowledge base.
    #[serde(default, alias = "is_public")]
    pub is_public: Option<bool>,
    /// Tags on the article.
    #[serde(default)]
    pub tags: Vec<String>,
    /// How often it was viewed.
    #[serde(default, alias = "view_count")]
    pub view_count: Option<u64>,
    /// When it was published, if it is (ISO 8601).
    #[serde(default, alias = "published_at")]
    pub published_at: Option<String>,
    /// When it last changed (ISO 8601).
    #[serde(default, alias = "updated_at")]
    pub updated_at: Option<String>,
    /// Other fields cStar sent, kept as-is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A knowledge-base category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Category {
    /// Category id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// URL slug.
    #[serde(default)]
    pub slug: Option<String>,
    /// Whether it is visible in the public knowledge base.
    #[serde(default, alias = "is_public")]
    pub is_public: Option<bool>,
}

/// The team and key behind the configured API key.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WhoAmI {
    #[serde(alias = "team_id")]
    pub team_id: String,
    #[serde(default, alias = "team_name")]
    pub team_name: Option<String>,
    #[serde(default, alias = "team_slug")]
    pub team_slug: Option<String>,
    #[serde(default, alias = "key_type")]
    pub key_type: Option<String>,
    #[serde(default)]
    pub environment: Option<String>,
    /// Only the sandbox sends this: where it forwards webhook events.
    #[serde(default)]
    pub sandbox: Option<SandboxInfo>,
}

/// What the sandbox says about itself in whoami.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SandboxInfo {
    #[serde(default)]
    pub forwarding: Vec<Forwarding>,
}

/// A local endpoint the sandbox forwards every event to.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Forwarding {
    pub url: String,
    pub signing_secret: String,
}

/// The answer to a test trigger.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerResult {
    pub event: String,
    #[serde(default, alias = "event_id")]
    pub event_id: Option<String>,
    #[serde(alias = "delivered_to")]
    pub delivered_to: u64,
    #[serde(default)]
    pub environment: Option<String>,
    /// The sandbox's account of each endpoint's first attempt; real cStar
    /// sends none.
    #[serde(default)]
    pub deliveries: Option<Vec<DeliveryAttempt>>,
}

/// How one endpoint answered a delivery (the sandbox reports these).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryAttempt {
    #[serde(default)]
    pub webhook_id: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub duration_ms: Option<u64>,
    #[serde(default)]
    pub pending: bool,
}

/// The rate-limit headers of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub limit: u64,
    pub remaining: u64,
    /// Unix seconds at which the window resets.
    pub reset: Option<u64>,
    pub window_seconds: Option<u64>,
}

/// One page of a list, with cStar's pagination normalised.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: u32,
    pub page_size: u32,
    pub total: u64,
    pub has_more: bool,
}

/// Filters for `GET /tickets`. Absent (`None`) filters are left out of the
/// query string.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketQuery {
    pub status: Option<TicketStatus>,
    pub priority: Option<Priority>,
    pub customer_id: Option<String>,
    pub assigned_to: Option<String>,
    pub search: Option<String>,
    pub tag: Option<String>,
    pub page: Option<u32>,
    pub page_size: Option<u32>,
}

/// Filters for `GET /customers`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerQuery {
    pub status: Option<CustomerStatus>,
    pub sentiment: Option<Sentiment>,
    pub search: Option<String>,
    pub tag: Option<String>,
    pub page: Option<u32>,
    pub page_size: Option<u32>,
}

/// Filters for `GET /articles`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArticleQuery {
    pub status: Option<ArticleStatus>,
    /// Category name or id.
    pub category: Option<String>,
    pub is_public: Option<bool>,
    pub search: Option<String>,
    pub tag: Option<String>,
    pub page: Option<u32>,
    pub page_size: Option<u32>,
}

/// The body of `POST /tickets`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewTicket {
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<TicketStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_name: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_message: Option<String>,
}
