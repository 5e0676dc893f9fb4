//! What each record shows as a resource: a ticket and its thread, a
//! customer's profile, a knowledge-base article. Written only through
//! `markdown`, so every value from cStar is quoted or fenced, and cut to the
//! result budget.

use super::markdown::{Document, Line};
use crate::api::models::{Article, Customer};
use crate::tools::budget::{MAX_MESSAGE_CHARS, RESULT_BUDGET};
use crate::tools::views::{MessageView, TicketView};

/// Messages of a thread left out to fit: `from` to `to` of `length`.
#[derive(Debug, Clone, Copy)]
pub struct Omitted {
    pub from: usize,
    pub to: usize,
    pub length: usize,
}

/// A ticket and its (fitted) thread.
pub fn ticket(view: &TicketView, omitted: Option<Omitted>) -> String {
    let fields = &view.fields;
    let ticket = &fields.summary;
    let mut document = Document::new("Ticket", &ticket.title);
    document.item(Line::new("id: ").data(&ticket.id));
    document.item(Line::new("status: ").data(&ticket.status));
    document.item(Line::new("priority: ").data(&ticket.priority));
    let customer = match (&ticket.customer_name, &ticket.customer_id) {
        (Some(name), Some(id)) => Some(
            Line::new("customer: ")
                .data(name)
                .ours(" (")
                .data(id)
                .ours(")"),
        ),
        (Some(name), None) => Some(Line::new("customer: ").data(name)),
        (None, Some(id)) => Some(Line::new("customer: ").data(id)),
        (None, None) => None,
    };
    if let Some(line) = customer {
        document.item(line);
    }
    if let Some(agent) = &fields.assigned_to {
        document.item(Line::new("assigned to: ").data(agent));
    }
    if !ticket.tags.is_empty() {
        document.item(Line::new("tags: ").data_list(&ticket.tags));
    }
    for (label, at) in [
        ("created: ", &ticket.created_at),
        ("updated: ", &fields.updated_at),
        ("closed: ", &ticket.closed_at),
    ] {
        if let Some(at) = at {
            document.item(Line::new(label).data(at));
        }
    }
    if let Some(notes) = &fields.notes {
        document.heading(Line::new("Notes (internal)"));
        document.body("text", notes);
    }
    let messages = view.messages.as_deref().unwrap_or_default();
    for (index, message) in messages.iter().enumerate() {
        let number = match omitted {
            Some(o) if index >= 1 => index + 1 + (o.to - o.from + 1),
            _ => index + 1,
        };
        if let (Some(o), 1) = (omitted, index) {
            document.note(&format!(
                "Messages {}-{} of {} are left out to fit. Read them with cstar_get_ticket and fromMessage={}.",
                o.from, o.to, o.length, o.from
            ));
        }
        add_message(&mut document, number, message);
    }
    document.finish(RESULT_BUDGET)
}

/// One message: a heading saying who and when, then its text fenced.
fn add_message(document: &mut Document, number: usize, message: &MessageView) {
    let mut heading = Line::new(&format!("Message {number}: ")).data(&message.sender);
    if let Some(name) = &message.sender_name {
        heading = heading.ours(", ").data(name);
    }
    if message.is_internal {
        heading = heading.ours(" (internal note)");
    }
    if let Some(at) = &message.created_at {
        heading = heading.ours(" · ").data(at);
    }
    document.heading(heading);
    document.body("text", &message.content);
    if let Some(full) = message.full_length {
        document.note(&format!(
            "[cut at {MAX_MESSAGE_CHARS} of {full} characters]"
        ));
    }
}

/// A customer's profile; internal notes last, fenced.
pub fn customer(customer: &Customer) -> String {
    crate::pii::learn::customer(&customer.name);
    let mut document = Document::new("Customer", &customer.name);
    document.item(Line::new("id: ").data(&customer.id));
    for (label, value) in [
        ("email: ", customer.email.as_deref()),
        ("status: ", customer.status.as_deref()),
        ("sentiment: ", customer.sentiment.as_deref()),
    ] {
        if let Some(value) = value {
            document.item(Line::new(label).data(value));
        }
    }
    if !customer.tags.is_empty() {
        document.item(Line::new("tags: ").data_list(&customer.tags));
    }
    if let Some(count) = customer.ticket_count {
        document.item(Line::new(&format!(
            "tickets: {count} (cstar_list_tickets with customerId lists them)"
        )));
    }
    for (field, value) in &customer.custom_fields {
        let value = match value {
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        // Keys are spelled as the JSON results spell them, so `tier` and
        // `ti<U+200B>er` stay two fields.
        let field = crate::tools::sanitize::spelled(field);
        document.item(Line::new("").data(&field).ours(": ").data(&value));
    }
    if let Some(notes) = &customer.notes {
        document.heading(Line::new("Notes (internal)"));
        document.body("text", notes);
    }
    document.finish(RESULT_BUDGET)
}

/// An article: its fields, then its Markdown body fenced, without a first
/// line that repeats the title (the document's heading already shows it).
pub fn article(article: &Article) -> String {
    let mut document = Document::new("Article", &article.title);
    document.item(Line::new("id: ").data(&article.id));
    for (label, value) in [
        ("category: ", article.category.as_deref()),
        ("status: ", article.status.as_deref()),
    ] {
        if let Some(value) = value {
            document.item(Line::new(label).data(value));
        }
    }
    if !article.tags.is_empty() {
        document.item(Line::new("tags: ").data_list(&article.tags));
    }
    if let Some(updated) = &article.updated_at {
        document.item(Line::new("updated: ").data(updated));
    }
    let body = article
        .content
        .as_deref()
        .or(article.excerpt.as_deref())
        .unwrap_or_default();
    document.body("markdown", without_title(body, &article.title));
    document.finish(RESULT_BUDGET)
}

/// `body` without a first line `# {title}` and the blank lines after it.
fn without_title<'a>(body: &'a str, title: &str) -> &'a str {
    let start = body.trim_start();
    let (first, rest) = start.split_once('\n').unwrap_or((start, ""));
    match first.trim_end().strip_prefix("# ") {
        Some(heading) if heading.trim() == title.trim() => rest.trim_start_matches(['\r', '\n']),
        _ => body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_article_body_does_not_repeat_its_title() {
        assert_eq!(without_title("# Reset\n\nSteps.\n", "Reset"), "Steps.\n");
        assert_eq!(
            without_title("\r\n# Reset \r\n\r\nSteps.", "Reset"),
            "Steps."
        );
        assert_eq!(
            without_title("# Other\n\nSteps.", "Reset"),
            "# Other\n\nSteps."
        );
        assert_eq!(without_title("Steps.", "Reset"), "Steps.");
    }
}
