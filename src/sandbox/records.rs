//! The sandbox's own records, serialised exactly as cStar puts them on the
//! wire. These types are independent of `crate::api::models` on purpose: a
//! field that the client misnames then fails the contract tests instead of
//! round-tripping unnoticed.

use serde::Serialize;
use serde_json::{Map, Value};

/// A resource id in both of cStar's forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ids {
    /// Prefixed form: `tkt_` + the UUID's 32 hex digits.
    pub prefixed: String,
    /// Dashed UUID.
    pub uuid: String,
}

impl Ids {
    pub fn from_u128(prefix: &str, value: u128) -> Self {
        let uuid = uuid::Uuid::from_u128(value);
        Ids {
            prefixed: format!("{prefix}{}", uuid.simple()),
            uuid: uuid.hyphenated().to_string(),
        }
    }

    /// True when `raw` names this resource in either form.
    pub fn matches(&self, raw: &str) -> bool {
        raw == self.prefixed || raw.eq_ignore_ascii_case(&self.uuid)
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketRecord {
    #[serde(skip)]
    pub ids: Ids,
    pub id: String,
    pub object: &'static str,
    pub title: String,
    pub status: String,
    pub priority: String,
    pub customer_id: Option<String>,
    pub customer_name: Option<String>,
    pub assigned_to: Option<String>,
    pub tags: Vec<String>,
    pub notes: Option<String>,
    pub message_count: usize,
    pub response_deadline: Option<String>,
    pub resolution_deadline: Option<String>,
    pub first_response_at: Option<String>,
    pub response_tier: Option<String>,
    pub resolution_tier: Option<String>,
    pub sla_paused: bool,
    pub metadata: Map<String, Value>,
    pub created_at: String,
    pub updated_at: String,
    pub closed_at: Option<String>,
    pub resolved_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageRecord {
    pub id: String,
    pub ticket_id: String,
    pub content: String,
    pub sender: &'static str,
    pub sender_name: String,
    pub is_internal: bool,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerRecord {
    #[serde(skip)]
    pub ids: Ids,
    pub id: String,
    pub object: &'static str,
    pub name: String,
    pub email: String,
    pub status: &'static str,
    pub sentiment: &'static str,
    pub tags: Vec<String>,
    pub notes: Option<String>,
    pub custom_fields: Map<String, Value>,
    pub ticket_count: usize,
    pub metadata: Map<String, Value>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArticleRecord {
    pub id: String,
    pub object: &'static str,
    pub title: String,
    pub slug: String,
    pub excerpt: String,
    pub content: String,
    pub category: String,
    pub category_id: String,
    pub status: &'static str,
    pub is_public: bool,
    pub tags: Vec<String>,
    pub notes: Option<String>,
    pub view_count: u64,
    pub use_count: u64,
    pub read_time: String,
    pub published_at: Option<String>,
    pub meta_description: Option<String>,
    pub metadata: Map<String, Value>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CategoryRecord {
    pub id: String,
    pub object: &'static str,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub icon: &'static str,
    pub color: &'static str,
    pub sort_order: u32,
    pub is_public: bool,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookRecord {
    pub id: String,
    pub name: String,
    pub url: String,
    pub events: Vec<String>,
    pub is_active: bool,
    /// The signing secret: cStar returns it from create only.
    #[serde(skip)]
    pub secret: String,
    pub created_at: String,
    pub updated_at: String,
}

impl WebhookRecord {
    /// Whether this webhook is subscribed to `event` (`*` and `ticket.*`
    /// wildcards included).
    pub fn subscribed_to(&self, event: &str) -> bool {
        self.events
            .iter()
            .any(|pattern| match pattern.strip_suffix('*') {
                Some(prefix) => event.starts_with(prefix),
                None => pattern == event,
            })
    }
}
