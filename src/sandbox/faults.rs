//! Injected faults: what the control API queues and how a matching request
//! is spoiled. Each fault applies to the next `times` requests whose method
//! and path match.

use serde::{Deserialize, Serialize};

/// What happens to a request that a fault matches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "fault", rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer with this status and cStar's error body for it.
    Status {
        status: u16,
        /// Error code; defaults to the usual one for the status.
        #[serde(default)]
        code: Option<String>,
        /// For 429 and 503: the `Retry-After` seconds (default 1).
        #[serde(default, rename = "retryAfter")]
        retry_after: Option<u64>,
        /// The error's message; `{authorization}` stands for the request's
        /// `Authorization` header, as a careless upstream might echo it.
        #[serde(default)]
        message: Option<String>,
    },
    /// A proxy's HTML 502 page instead of JSON.
    Html502,
    /// Wait this long, then serve the request normally.
    Delay { ms: u64 },
    /// 200 with a body that is not valid JSON.
    MalformedJson,
    /// The real answer, cut off half way with the connection closed.
    TruncatedBody,
    /// Close the connection without answering.
    Reset,
    /// Serve the request (a create commits), then close the connection
    /// without sending the answer.
    CommitThenDrop,
    /// The real answer with invisible text (zero-width, bidi, tag and
    /// variation-selector characters) added to every string in it, as a
    /// hostile customer could write it.
    HiddenText,
    /// The real answer with a lone UTF-16 surrogate escape (`\ud83d`, what
    /// JavaScript leaves when it cuts a string mid-emoji) ending every
    /// string in it.
    LoneSurrogate,
    /// The real answer with `text` added to every string in it (ids
    /// aside), as a hostile writer could: Markdown that forges a heading,
    /// closes a fence or opens a tag, say.
    AppendText { text: String },
}

/// A queued fault, as posted to `POST /_sandbox/faults`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRule {
    /// HTTP method to match; any when absent.
    #[serde(default)]
    pub method: Option<String>,
    /// Path pattern; `*` matches any run of characters, `/` included.
    #[serde(default = "any_path")]
    pub path: String,
    /// How many matching requests it spoils.
    #[serde(default = "one")]
    pub times: u32,
    /// Spoil each matching request with this probability (0 to 1) instead
    /// of every one; the draw is seeded, so a run repeats exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    #[serde(flatten)]
    pub kind: FaultKind,
}

fn any_path() -> String {
    "*".to_owned()
}

fn one() -> u32 {
    1
}

impl FaultRule {
    pub fn matches(&self, method: &str, path: &str) -> bool {
        self.times > 0
            && self
                .method
                .as_ref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && glob_match(&self.path, path)
    }
}

/// Takes the first live rule that matches and counts it down. `draw` gives
/// a number in `[0, 1)` for rules with a probability.
pub fn take_matching(
    rules: &mut Vec<FaultRule>,
    method: &str,
    path: &str,
    draw: impl FnOnce() -> f64,
) -> Option<FaultKind> {
    let index = rules.iter().position(|rule| rule.matches(method, path))?;
    let rule = &mut rules[index];
    if let Some(probability) = rule.probability
        && draw() >= probability
    {
        return None;
    }
    rule.times -= 1;
    let kind = rule.kind.clone();
    if rule.times == 0 {
        rules.remove(index);
    }
    Some(kind)
}

/// `*` matches any sequence, everything else matches itself.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let [first, middle @ .., last] = parts.as_slice() else {
        return pattern == text;
    };
    if parts.len() == 1 {
        return pattern == text;
    }
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("*", "/api/v1/auth/whoami"));
        assert!(glob_match(
            "/api/v1/teams/*/tickets",
            "/api/v1/teams/abc/tickets"
        ));
        assert!(!glob_match(
            "/api/v1/teams/*/tickets",
            "/api/v1/teams/abc/tickets/tkt_1"
        ));
        assert!(glob_match(
            "/api/v1/teams/*/tickets*",
            "/api/v1/teams/abc/tickets/tkt_1"
        ));
        assert!(glob_match("*/whoami", "/api/v1/auth/whoami"));
        assert!(!glob_match("/api/v1/auth/whoami", "/api/v1/auth/whoami/x"));
    }

    #[test]
    fn rules_count_down_and_expire() {
        let mut rules = vec![FaultRule {
            method: Some("POST".into()),
            path: "*/tickets".into(),
            times: 2,
            probability: None,
            kind: FaultKind::Reset,
        }];
        let always = || 0.0;
        assert_eq!(take_matching(&mut rules, "GET", "/x/tickets", always), None);
        let reset = Some(FaultKind::Reset);
        assert_eq!(
            take_matching(&mut rules, "post", "/x/tickets", always),
            reset
        );
        assert_eq!(
            take_matching(&mut rules, "POST", "/x/tickets", always),
            reset
        );
        assert_eq!(
            take_matching(&mut rules, "POST", "/x/tickets", always),
            None
        );
        assert!(rules.is_empty());
    }

    #[test]
    fn probability_spares_some_requests_without_counting_them() {
        let mut rules = vec![FaultRule {
            method: None,
            path: "*".into(),
            times: 1,
            probability: Some(0.3),
            kind: FaultKind::Reset,
        }];
        assert_eq!(take_matching(&mut rules, "GET", "/a", || 0.5), None);
        assert_eq!(rules[0].times, 1);
        let reset = Some(FaultKind::Reset);
        assert_eq!(take_matching(&mut rules, "GET", "/a", || 0.1), reset);
        assert!(rules.is_empty());
    }

    #[test]
    fn parses_control_api_bodies() {
        let rule: FaultRule =
            serde_json::from_str(r#"{"path":"*","fault":"status","status":503,"times":3}"#)
                .unwrap();
        assert_eq!(rule.times, 3);
        assert!(matches!(rule.kind, FaultKind::Status { status: 503, .. }));
        let rule: FaultRule = serde_json::from_str(r#"{"fault":"delay","ms":1500}"#).unwrap();
        assert_eq!((rule.path.as_str(), rule.times), ("*", 1));
    }
}
