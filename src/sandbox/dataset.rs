//! One environment's data (live or test) and the queries the API serves
//! from it: filtering, searching, paging and creating tickets.

use std::collections::HashMap;

use serde_json::Map;

use super::records::{
    ArticleRecord, CategoryRecord, CustomerRecord, Ids, MessageRecord, TicketRecord, WebhookRecord,
};

#[derive(Debug, Clone)]
pub struct Dataset {
    /// The team's name and slug as this data has them (whoami, events, a
    /// path may use the slug); its id is the key's.
    pub team_name: String,
    pub team_slug: String,
    /// Newest first.
    pub tickets: Vec<TicketRecord>,
    /// Message threads by ticket UUID, oldest first.
    pub messages: HashMap<String, Vec<MessageRecord>>,
    pub customers: Vec<CustomerRecord>,
    pub categories: Vec<CategoryRecord>,
    pub articles: Vec<ArticleRecord>,
    pub webhooks: Vec<WebhookRecord>,
}

/// Ticket list filters, already validated.
#[derive(Debug, Default)]
pub struct TicketFilter {
    pub status: Option<String>,
    pub priority: Option<String>,
    pub customer: Option<String>,
    pub assigned_to: Option<String>,
    pub search: Option<String>,
    pub tag: Option<String>,
}

#[derive(Debug, Default)]
pub struct CustomerFilter {
    pub status: Option<String>,
    pub sentiment: Option<String>,
    pub search: Option<String>,
    pub tag: Option<String>,
}

#[derive(Debug, Default)]
pub struct ArticleFilter {
    pub status: Option<String>,
    pub category: Option<String>,
    pub is_public: Option<bool>,
    pub search: Option<String>,
    pub tag: Option<String>,
}

/// A validated ticket to create.
#[derive(Debug)]
pub struct TicketDraft {
    pub title: String,
    pub priority: String,
    pub status: String,
    pub customer: Option<(String, String)>,
    pub customer_name: Option<String>,
    pub tags: Vec<String>,
    pub notes: Option<String>,
    pub initial_message: Option<String>,
    pub metadata: Map<String, serde_json::Value>,
}

fn contains(haystack: &str, needle_lower: &str) -> bool {
    haystack.to_lowercase().contains(needle_lower)
}

impl Dataset {
    pub fn ticket(&self, raw_id: &str) -> Option<&TicketRecord> {
        self.tickets.iter().find(|t| t.ids.matches(raw_id))
    }

    pub fn thread(&self, ticket: &TicketRecord) -> &[MessageRecord] {
        self.messages
            .get(&ticket.ids.uuid)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    pub fn customer(&self, raw_id: &str) -> Option<&CustomerRecord> {
        self.customers.iter().find(|c| c.ids.matches(raw_id))
    }

    pub fn tickets_matching(&self, filter: &TicketFilter) -> Vec<&TicketRecord> {
        let search = filter.search.as_ref().map(|s| s.to_lowercase());
        let customer_id = filter
            .customer
            .as_ref()
            .map(|raw| self.customer(raw).map(|c| c.id.clone()).unwrap_or_default());
        self.tickets
            .iter()
            .filter(|t| filter.status.as_ref().is_none_or(|s| &t.status == s))
            .filter(|t| filter.priority.as_ref().is_none_or(|p| &t.priority == p))
            .filter(|t| {
                customer_id
                    .as_ref()
                    .is_none_or(|c| t.customer_id.as_ref() == Some(c))
            })
            .filter(|t| {
                filter
                    .assigned_to
                    .as_ref()
                    .is_none_or(|a| t.assigned_to.as_ref() == Some(a))
            })
            .filter(|t| filter.tag.as_ref().is_none_or(|tag| t.tags.contains(tag)))
            .filter(|t| {
                search.as_ref().is_none_or(|needle| {
                    contains(&t.title, needle)
                        || t.customer_name
                            .as_ref()
                            .is_some_and(|n| contains(n, needle))
                        || self.thread(t).iter().any(|m| contains(&m.content, needle))
                })
            })
            .collect()
    }

    pub fn customers_matching(&self, filter: &CustomerFilter) -> Vec<&CustomerRecord> {
        let search = filter.search.as_ref().map(|s| s.to_lowercase());
        self.customers
            .iter()
            .filter(|c| filter.status.as_ref().is_none_or(|s| c.status == s))
            .filter(|c| filter.sentiment.as_ref().is_none_or(|s| c.sentiment == s))
            .filter(|c| filter.tag.as_ref().is_none_or(|tag| c.tags.contains(tag)))
            .filter(|c| {
                search
                    .as_ref()
                    .is_none_or(|needle| contains(&c.name, needle) || contains(&c.email, needle))
            })
            .collect()
    }

    pub fn articles_matching(&self, filter: &ArticleFilter) -> Vec<&ArticleRecord> {
        let search = filter.search.as_ref().map(|s| s.to_lowercase());
        self.articles
            .iter()
            .filter(|a| filter.status.as_ref().is_none_or(|s| a.status == s))
            .filter(|a| {
                filter.category.as_ref().is_none_or(|c| {
                    a.category_id.eq_ignore_ascii_case(c) || a.category.eq_ignore_ascii_case(c)
                })
            })
            .filter(|a| filter.is_public.is_none_or(|p| a.is_public == p))
            .filter(|a| filter.tag.as_ref().is_none_or(|tag| a.tags.contains(tag)))
            .filter(|a| {
                search
                    .as_ref()
                    .is_none_or(|needle| contains(&a.title, needle) || contains(&a.content, needle))
            })
            .collect()
    }

    /// Adds a ticket (and its first message, if any) and returns it.
    pub fn create_ticket(
        &mut self,
        draft: TicketDraft,
        uuid_bits: u128,
        now: String,
    ) -> TicketRecord {
        let ids = Ids::from_u128("tkt_", uuid_bits);
        let (customer_id, customer_name) = match draft.customer {
            Some((id, name)) => (Some(id), Some(name)),
            None => (None, draft.customer_name),
        };
        let mut thread = Vec::new();
        if let Some(content) = draft.initial_message {
            thread.push(MessageRecord {
                id: format!(
                    "msg_{}",
                    uuid::Uuid::from_u128(uuid_bits.rotate_left(64)).simple()
                ),
                ticket_id: ids.prefixed.clone(),
                content,
                sender: "customer",
                sender_name: customer_name
                    .clone()
                    .unwrap_or_else(|| "Customer".to_owned()),
                is_internal: false,
                created_at: now.clone(),
            });
        }
        let closed = matches!(draft.status.as_str(), "resolved" | "closed").then(|| now.clone());
        let ticket = TicketRecord {
            id: ids.prefixed.clone(),
            ids,
            object: "ticket",
            title: draft.title,
            status: draft.status,
            priority: draft.priority,
            customer_id: customer_id.clone(),
            customer_name,
            assigned_to: None,
            tags: draft.tags,
            notes: draft.notes,
            message_count: thread.len(),
            response_deadline: None,
            resolution_deadline: None,
            first_response_at: None,
            response_tier: None,
            resolution_tier: None,
            sla_paused: false,
            metadata: draft.metadata,
            created_at: now.clone(),
            updated_at: now,
            closed_at: closed.clone(),
            resolved_at: closed,
        };
        if let Some(customer) =
            customer_id.and_then(|id| self.customers.iter_mut().find(|c| c.id == id))
        {
            customer.ticket_count += 1;
        }
        self.messages.insert(ticket.ids.uuid.clone(), thread);
        self.tickets.insert(0, ticket.clone());
        ticket
    }
}
