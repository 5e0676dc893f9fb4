//! Personal data kept out of what the server sends (`--redact-pii`).
//!
//! Every email, phone number, card number, IBAN, IP address and known
//! customer name in a message leaving the server becomes a typed, stable
//! pseudonym such as `[email 3f9a]`; a pseudonym the agent passes back in
//! an argument becomes the value again for the request to cStar.
//! - `detect`: where personal data is in a text, and what identifies it;
//! - `table`: one key's pseudonyms and learned customer names, bounded;
//! - `redact`: pseudonyms in and out of texts and JSON values;
//! - `learn`: customer names noted while a request reads records;
//! - `names`: how a customer's name is matched (which case counts).
//!
//! Pseudonyms are per API key: a key's table is found by a hash of the
//! key (the key itself is never kept), and each is an HMAC of the value
//! under a secret drawn when the process starts, so a short pseudonym
//! cannot be reversed by hashing guesses, nor matched across keys or
//! processes.

pub mod detect;
pub mod learn;
pub mod names;
pub mod redact;
pub mod table;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};

use crate::api::secret::ApiKey;
pub use detect::Kind;
pub use table::Table;

/// The most keys that get a table of their own. A key past it is still
/// redacted, each value to its bare type (`[email]`), without pseudonyms
/// to pass back: tables are never dropped, so no pseudonym changes meaning.
pub const MAX_KEYS: usize = 1_000;

/// The pseudonym tables of every key this process has served.
pub struct Pseudonyms {
    secret: [u8; 32],
    tables: Mutex<HashMap<[u8; 32], Arc<Table>>>,
}

impl Pseudonyms {
    /// Tables under a secret drawn from the system's random source; the
    /// detectors start loading in the background.
    pub fn new() -> anyhow::Result<Self> {
        let mut secret = [0_u8; 32];
        SystemRandom::new()
            .fill(&mut secret)
            .map_err(|_| anyhow::anyhow!("no random source for the pseudonym secret"))?;
        detect::warm_up();
        Ok(Self::with_secret(secret))
    }

    fn with_secret(secret: [u8; 32]) -> Self {
        Pseudonyms {
            secret,
            tables: Mutex::new(HashMap::new()),
        }
    }

    /// The table of the key a request is served with (`None`: no key).
    pub fn table_for(&self, key: Option<&ApiKey>) -> Arc<Table> {
        let id: [u8; 32] = Sha256::digest(key.map_or("", ApiKey::expose).as_bytes()).into();
        let mut tables = self
            .tables
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(table) = tables.get(&id) {
            return table.clone();
        }
        let mac = hmac::Key::new(
            hmac::HMAC_SHA256,
            hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &self.secret), &id).as_ref(),
        );
        if tables.len() >= MAX_KEYS {
            return Arc::new(Table::new(mac, 0));
        }
        let table = Arc::new(Table::new(mac, table::MAX_VALUES));
        tables.insert(id, table.clone());
        table
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_has_its_own_table_and_keys_past_the_cap_map_nothing() {
        let pseudonyms = Pseudonyms::with_secret([7; 32]);
        let one = ApiKey::new("sk_test_one");
        let two = ApiKey::new("sk_test_two");
        let a = pseudonyms.table_for(Some(&one));
        assert!(Arc::ptr_eq(&a, &pseudonyms.table_for(Some(&one))));
        let issued = a.pseudonym(Kind::Email, "x@y.example", "x@y.example");
        let b = pseudonyms.table_for(Some(&two));
        assert_eq!(b.value_of(&issued), None);
        assert_ne!(
            b.pseudonym(Kind::Email, "x@y.example", "x@y.example"),
            issued
        );
        for n in 0..MAX_KEYS {
            pseudonyms.table_for(Some(&ApiKey::new(format!("sk_test_{n}"))));
        }
        let late = pseudonyms.table_for(Some(&ApiKey::new("sk_test_late")));
        assert_eq!(late.pseudonym(Kind::Email, "x", "x"), "[email]");
        // The first keys keep theirs.
        assert_eq!(a.value_of(&issued).as_deref(), Some("x@y.example"));
    }

    #[test]
    fn two_processes_give_the_same_value_different_pseudonyms() {
        let key = ApiKey::new("sk_test_one");
        let first = Pseudonyms::with_secret([1; 32]).table_for(Some(&key));
        let second = Pseudonyms::with_secret([2; 32]).table_for(Some(&key));
        assert_ne!(
            first.pseudonym(Kind::Phone, "+442079460958", "x"),
            second.pseudonym(Kind::Phone, "+442079460958", "x")
        );
    }
}
