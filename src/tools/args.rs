//! Argument checks shared by the tools, made before any request: paging
//! bounds and text lengths. Enum values are checked by serde when the
//! arguments are parsed.

use super::errors::ToolError;

/// The most items one page may hold (cStar's own limit).
pub const MAX_PAGE_SIZE: u32 = 100;
/// Longest search text.
pub const MAX_SEARCH: usize = 200;
/// Longest short text: ids, names, tags, titles.
pub const MAX_SHORT: usize = 500;
/// Longest long text: notes and message bodies.
pub const MAX_LONG: usize = 20_000;

/// Checks `page` (from 1) and `pageSize` (1 to 100).
pub fn paging(
    page: Option<u32>,
    page_size: Option<u32>,
) -> Result<(Option<u32>, Option<u32>), ToolError> {
    if page == Some(0) {
        return Err(ToolError::invalid_argument(
            "page",
            "pages count from 1",
            "Omit page for the first page.",
        ));
    }
    match page_size {
        Some(size) if size == 0 || size > MAX_PAGE_SIZE => Err(ToolError::invalid_argument(
            "pageSize",
            format!("{size} is outside 1..={MAX_PAGE_SIZE}"),
            format!("Use at most {MAX_PAGE_SIZE} and follow hasMore with the page argument."),
        )),
        _ => Ok((page, page_size)),
    }
}

/// Checks an optional text's length and drops it when blank.
pub fn text(name: &str, value: Option<String>, max: usize) -> Result<Option<String>, ToolError> {
    match value {
        Some(text) if text.trim().is_empty() => Ok(None),
        Some(text) if text.chars().count() > max => Err(ToolError::invalid_argument(
            name,
            format!(
                "{} characters is more than the {max} allowed",
                text.chars().count()
            ),
            "Shorten it and call again.",
        )),
        other => Ok(other.map(|t| t.trim().to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_bounds() {
        assert!(paging(None, None).is_ok());
        assert!(paging(Some(3), Some(100)).is_ok());
        assert!(paging(Some(0), None).is_err());
        assert!(paging(None, Some(0)).is_err());
        let error = paging(None, Some(500)).unwrap_err();
        assert!(error.message.contains("pageSize"), "{}", error.message);
    }

    #[test]
    fn text_bounds() {
        assert_eq!(text("search", Some("  ".into()), 10).unwrap(), None);
        assert_eq!(
            text("search", Some(" a ".into()), 10).unwrap(),
            Some("a".into())
        );
        assert!(text("search", Some("x".repeat(11)), 10).is_err());
    }
}
