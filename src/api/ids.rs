//! Resource ids, checked before they go into a URL path.
//!
//! cStar accepts a prefixed id (`tkt_…`, `cus_…`) or the raw UUID. Anything
//! else is refused here, so a crafted id such as `../../auth/whoami` or
//! `tkt_1?x=y` never reaches the network.

/// The kinds of resource that are addressed by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdKind {
    Ticket,
    Customer,
    Article,
}

impl IdKind {
    pub fn prefix(self) -> &'static str {
        match self {
            IdKind::Ticket => "tkt_",
            IdKind::Customer => "cus_",
            IdKind::Article => "art_",
        }
    }

    pub fn noun(self) -> &'static str {
        match self {
            IdKind::Ticket => "ticket",
            IdKind::Customer => "customer",
            IdKind::Article => "article",
        }
    }
}

/// Why an id was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidId {
    pub kind: IdKind,
    pub message: String,
}

/// Checks that `raw` is `<prefix><1-64 alphanumerics>` or a UUID, and
/// returns it trimmed.
pub fn validate_id(kind: IdKind, raw: &str) -> Result<String, InvalidId> {
    let id = raw.trim();
    if is_prefixed_id(kind.prefix(), id) || is_uuid(id) {
        Ok(id.to_owned())
    } else {
        Err(InvalidId {
            kind,
            message: format!(
                "'{}' is not a valid {} id: expected '{}' followed by letters and digits, or a UUID",
                truncate_for_message(id),
                kind.noun(),
                kind.prefix()
            ),
        })
    }
}

/// True for `prefix` followed by 1-64 ASCII letters and digits, the shape
/// of every cStar id (`tkt_…`, `cus_…`, `mem_…`).
pub fn is_prefixed_id(prefix: &str, id: &str) -> bool {
    id.strip_prefix(prefix).is_some_and(|rest| {
        !rest.is_empty() && rest.len() <= 64 && rest.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// True for the canonical 8-4-4-4-12 hex form.
pub fn is_uuid(raw: &str) -> bool {
    let groups: Vec<&str> = raw.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn truncate_for_message(raw: &str) -> String {
    let mut shown: String = raw.chars().filter(|c| !c.is_control()).take(40).collect();
    if raw.chars().count() > 40 {
        shown.push('…');
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_prefixed_and_uuid_forms() {
        for raw in [
            "tkt_550e8400e29b41d4a716446655440000",
            "tkt_a1B2c3",
            "550e8400-e29b-41d4-a716-446655440000",
            " tkt_42 ",
        ] {
            assert!(validate_id(IdKind::Ticket, raw).is_ok(), "{raw}");
        }
    }

    #[test]
    fn refuses_path_injection_and_wrong_prefixes() {
        for raw in [
            "../../auth/whoami",
            "tkt_1?x=y",
            "%2e%2e",
            "tkt_",
            "cus_123",
            "tkt_1/messages",
            "tkt_1#frag",
            "",
            "tkt_ä",
        ] {
            assert!(validate_id(IdKind::Ticket, raw).is_err(), "{raw}");
        }
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn accepted_ids_are_safe_in_a_path(raw in "\\PC{0,80}") {
            if let Ok(id) = validate_id(IdKind::Ticket, &raw) {
                prop_assert!(id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'), "{}", id);
            }
        }

        #[test]
        fn prefixed_alphanumeric_ids_are_accepted(rest in "[a-zA-Z0-9]{1,64}") {
            let id = format!("cus_{rest}");
            prop_assert_eq!(validate_id(IdKind::Customer, &id), Ok(id.clone()));
        }
    }
}
