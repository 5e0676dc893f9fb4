//! The API key, held so that it cannot leak by accident.
//!
//! `ApiKey` never prints its value: `Debug` and `Display` show only the
//! public prefix (`sk_test_…`). The one way to read it is [`ApiKey::expose`],
//! which the client calls when it writes the `Authorization` header.

use std::fmt;

use super::lenient::REDACTED;

/// Whether a key may write (`secret`) or only read (`publishable`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Secret,
    Publishable,
}

/// Which data set a key sees; live and test data never mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Environment {
    Live,
    Test,
}

impl KeyType {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::Secret => "secret",
            KeyType::Publishable => "publishable",
        }
    }
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Live => "live",
            Environment::Test => "test",
        }
    }
}

/// The four documented key prefixes and what each one means.
pub const KEY_PREFIXES: [(&str, KeyType, Environment); 4] = [
    ("sk_live_", KeyType::Secret, Environment::Live),
    ("sk_test_", KeyType::Secret, Environment::Test),
    ("pk_live_", KeyType::Publishable, Environment::Live),
    ("pk_test_", KeyType::Publishable, Environment::Test),
];

/// What a key's prefix says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyKind {
    pub prefix: &'static str,
    pub key_type: KeyType,
    pub environment: Environment,
}

/// Reads the kind of a key from its prefix, if the rest of it is a plausible
/// token (base64url characters only, at least 16 of them).
pub fn key_kind(raw: &str) -> Option<KeyKind> {
    let (prefix, key_type, environment) = KEY_PREFIXES
        .iter()
        .copied()
        .find(|(prefix, _, _)| raw.starts_with(prefix))?;
    let token = &raw[prefix.len()..];
    let plausible = token.len() >= 16
        && token.len() <= 128
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    plausible.then_some(KeyKind {
        prefix,
        key_type,
        environment,
    })
}

/// A cStar API key. Its value is never formatted.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(raw: impl Into<String>) -> Self {
        ApiKey(raw.into().trim().to_owned())
    }

    /// The raw key, for the `Authorization` header and nothing else.
    /// A SHA-256 digest of the key, to find what is remembered about it
    /// without keeping the key itself.
    pub fn digest(&self) -> [u8; 32] {
        use sha2::Digest;
        sha2::Sha256::digest(self.expose().as_bytes()).into()
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The key's kind, or `None` when it is not in cStar's format.
    pub fn kind(&self) -> Option<KeyKind> {
        key_kind(&self.0)
    }

    fn redacted(&self) -> &'static str {
        match self.kind() {
            Some(kind) => kind.prefix,
            None => "",
        }
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({}[redacted])", self.redacted())
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[redacted]", self.redacted())
    }
}

/// `text` with every known key value, and anything that starts like a
/// cStar key (`sk_live_...` and the other prefixes), replaced by
/// `[redacted]`: for messages that quote what a person typed, such as a
/// command-line error.
pub fn hide_keys(text: &str, known: &[&str]) -> String {
    let mut text = known
        .iter()
        .map(|key| key.trim())
        .filter(|key| key.len() >= 8)
        .fold(text.to_owned(), |text, key| text.replace(key, REDACTED));
    for (prefix, _, _) in KEY_PREFIXES {
        let mut from = 0;
        while let Some(at) = text[from..].find(prefix).map(|at| from + at) {
            let rest = &text[at + prefix.len()..];
            let token = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                .unwrap_or(rest.len());
            let end = at + prefix.len() + token;
            text.replace_range(at..end, &format!("{prefix}{REDACTED}"));
            from = at + prefix.len() + REDACTED.len();
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk_test_a1B2c3D4e5F6g7H8i9J0k-L2m3N4o5P6";

    #[test]
    fn hide_keys_hides_known_values_and_anything_shaped_like_a_key() {
        let text = format!(
            "invalid value '{KEY}' for '--timeout'; also pk_live_x and 'my-own-secret-value'"
        );
        let hidden = hide_keys(&text, &["my-own-secret-value", " ", "short"]);
        assert_eq!(
            hidden,
            "invalid value 'sk_test_[redacted]' for '--timeout'; also pk_live_[redacted] and '[redacted]'"
        );
        assert_eq!(hide_keys("no key here", &[]), "no key here");
    }

    #[test]
    fn debug_and_display_never_show_the_key() {
        let key = ApiKey::new(KEY);
        for text in [
            format!("{key:?}"),
            format!("{key}"),
            format!("{:#?}", Some(&key)),
        ] {
            assert!(!text.contains("a1B2c3"), "{text}");
            assert!(text.contains("sk_test_"), "{text}");
        }
    }

    #[test]
    fn reads_kind_from_prefix() {
        let kind = key_kind(KEY).map(|k| (k.key_type, k.environment));
        assert_eq!(kind, Some((KeyType::Secret, Environment::Test)));
        let kind = key_kind("pk_live_a1B2c3D4e5F6g7H8i9J0k-L2m3N4o5P6")
            .map(|k| (k.key_type, k.environment));
        assert_eq!(kind, Some((KeyType::Publishable, Environment::Live)));
    }

    #[test]
    fn rejects_malformed_keys() {
        for raw in [
            "",
            "sk_test_",
            "sk_test_short",
            "xk_test_a1B2c3D4e5F6g7H8i9J0",
            "sk_test_a1B2c3D4e5F6g7H8 i9J0",
            "Bearer sk_test_a1B2c3D4e5F6g7H8i9J0",
        ] {
            assert_eq!(key_kind(raw), None, "{raw}");
        }
    }
}
