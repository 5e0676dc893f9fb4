//! Customer names noted while a request reads records. The egress runs
//! each request of a redacting server inside `learning`; the views of
//! tickets, messages and customers call `customer` as they are built, so
//! a name is known before the answer that shows it is redacted. Outside
//! `learning` (redaction off), `customer` does nothing.
//!
//! Text that is cut before it reaches the egress (a Markdown value shown
//! up to 500 characters, a name in the `@` picker) is redacted where it
//! is cut, with `redacted`: a value cut in half could no longer be found.

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;

use super::table::Table;

tokio::task_local! {
    static LEARNING: Arc<Table>;
}

/// Runs `work` with customer names it sees learned into `table`.
pub async fn learning<F: Future>(table: Arc<Table>, work: F) -> F::Output {
    LEARNING.scope(table, work).await
}

/// Notes a customer's name for the request in progress, if it redacts:
/// as the egress will see it, cleaned, since it redacts cleaned text.
pub fn customer(name: &str) {
    let _ = LEARNING.try_with(|table| table.learn_customer(&crate::tools::sanitize::clean(name)));
}

/// `text` with its personal data redacted now, when the request in
/// progress redacts; as it is otherwise.
pub fn redacted(text: &str) -> Cow<'_, str> {
    LEARNING
        .try_with(|table| super::redact::text(table, text).into_owned())
        .map_or(Cow::Borrowed(text), Cow::Owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::hmac;

    #[tokio::test]
    async fn names_are_learned_only_inside_a_learning_request() {
        let table = Arc::new(Table::new(hmac::Key::new(hmac::HMAC_SHA256, b"k"), 10));
        customer("Outside Name");
        assert!(table.customers().is_none());
        learning(table.clone(), async { customer("Jane Doe") }).await;
        assert!(table.customers().unwrap().is_match("jane doe"));
        assert!(!table.customers().unwrap().is_match("outside name"));
    }

    #[tokio::test]
    async fn text_is_redacted_early_only_inside_a_learning_request() {
        let table = Arc::new(Table::new(hmac::Key::new(hmac::HMAC_SHA256, b"k"), 10));
        let text = "call +44 20 7946 0958";
        assert_eq!(redacted(text), text);
        let inside = learning(table, async { redacted(text).into_owned() }).await;
        assert!(inside.starts_with("call [phone "), "{inside}");
    }
}
