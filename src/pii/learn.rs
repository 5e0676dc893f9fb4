//! Customer names noted while a request reads records. The egress runs
//! each request of a redacting server inside `learning`; the views of
//! tickets, messages and customers call `customer` as they are built, so
//! a name is known before the answer that shows it is redacted. Outside
//! `learning` (redaction off), `customer` does nothing.

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

/// Notes a customer's name for the request in progress, if it redacts.
pub fn customer(name: &str) {
    let _ = LEARNING.try_with(|table| table.learn_customer(name));
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
}
