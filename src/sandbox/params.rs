//! Query parameters of the list endpoints, checked the way cStar does:
//! strict enums (400 `parameter_invalid` naming the parameter), texts
//! bounded (`crate::limits`, the numbers the list tools publish), `page`
//! from 1 and `pageSize` clamped to 1..=100. A refused value is quoted,
//! never echoed whole.

use std::collections::HashMap;

use super::wire::ApiFailure;
use crate::limits::{MAX_PAGE_SIZE, QUOTED, exceeds, quote};

pub const TICKET_STATUSES: [&str; 5] = ["new", "open", "pending", "resolved", "closed"];
pub const PRIORITIES: [&str; 4] = ["low", "normal", "high", "urgent"];
pub const CUSTOMER_STATUSES: [&str; 2] = ["active", "inactive"];
pub const SENTIMENTS: [&str; 6] = [
    "positive",
    "neutral",
    "negative",
    "happy",
    "frustrated",
    "angry",
];
pub const ARTICLE_STATUSES: [&str; 3] = ["draft", "published", "archived"];

/// Reads an optional enum filter, refusing values outside `allowed`.
pub fn enum_param(
    params: &HashMap<String, String>,
    name: &str,
    allowed: &[&str],
) -> Result<Option<String>, ApiFailure> {
    match params.get(name) {
        None => Ok(None),
        Some(value) if allowed.contains(&value.as_str()) => Ok(Some(value.clone())),
        Some(value) => Err(ApiFailure::invalid(
            name,
            format!(
                "Invalid value '{}' for '{name}'. Expected one of: {}.",
                quote(value, QUOTED),
                allowed.join(", ")
            ),
        )),
    }
}

pub fn bool_param(
    params: &HashMap<String, String>,
    name: &str,
) -> Result<Option<bool>, ApiFailure> {
    match params.get(name).map(String::as_str) {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(other) => Err(ApiFailure::invalid(
            name,
            format!(
                "Invalid value '{}' for '{name}'. Expected true or false.",
                quote(other, QUOTED)
            ),
        )),
    }
}

/// An optional text filter of at most `max` characters; blank is absent.
pub fn text_param(
    params: &HashMap<String, String>,
    name: &str,
    max: usize,
) -> Result<Option<String>, ApiFailure> {
    match params.get(name) {
        Some(value) if exceeds(value, max) => Err(ApiFailure::invalid(
            name,
            format!("'{name}' must be at most {max} characters."),
        )),
        value => Ok(value.filter(|v| !v.trim().is_empty()).cloned()),
    }
}

/// `page` (>= 1, default 1) and `pageSize` (clamped to 1..=`MAX_PAGE_SIZE`,
/// default 20).
pub fn paging(params: &HashMap<String, String>) -> Result<(u32, u32), ApiFailure> {
    let page = match params.get("page") {
        None => 1,
        Some(raw) => match raw.parse::<u32>() {
            Ok(page) if page >= 1 => page,
            _ => {
                return Err(ApiFailure::invalid(
                    "page",
                    format!(
                        "'page' must be an integer of at least 1, not '{}'.",
                        quote(raw, QUOTED)
                    ),
                ));
            }
        },
    };
    let page_size = match params.get("pageSize") {
        None => 20,
        Some(raw) => match raw.parse::<i64>() {
            Ok(size) => size.clamp(1, i64::from(MAX_PAGE_SIZE)) as u32,
            Err(_) => {
                return Err(ApiFailure::invalid(
                    "pageSize",
                    format!(
                        "'pageSize' must be an integer, not '{}'.",
                        quote(raw, QUOTED)
                    ),
                ));
            }
        },
    };
    Ok((page, page_size))
}
