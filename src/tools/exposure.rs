//! Which tools a server exposes: `--read-only`, `--tools` and
//! `--exclude-tools`, and read-only for publishable keys. Decided once at
//! startup from each tool's own `readOnlyHint`, as a pure function.

use crate::limits::quote;

/// What the configuration asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolFilter {
    /// Hide every tool that is not read-only.
    pub read_only: bool,
    /// Expose only these tools, when given.
    pub allow: Option<Vec<String>>,
    /// Never expose these tools; wins over `allow`.
    pub exclude: Vec<String>,
}

/// The decision: hidden tools, and why the server is read-only, if it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exposure {
    pub hidden: Vec<String>,
    pub read_only_reason: Option<String>,
    /// What it was decided from, to say which setting hides a tool.
    filter: ToolFilter,
}

/// Decides from `tools` as (name, readOnlyHint). Unknown names in the
/// filter are an error that lists the valid ones.
pub fn decide(
    tools: &[(String, bool)],
    filter: &ToolFilter,
    publishable_key: bool,
) -> Result<Exposure, String> {
    let known = |name: &String| tools.iter().any(|(tool, _)| tool == name);
    let named = filter.allow.iter().flatten().chain(&filter.exclude);
    let unknown: Vec<&String> = named.filter(|name| !known(name)).collect();
    if !unknown.is_empty() {
        let valid: Vec<&str> = tools.iter().map(|(name, _)| name.as_str()).collect();
        return Err(format!(
            "unknown tool name{} {}; valid names: {}",
            if unknown.len() == 1 { "" } else { "s" },
            unknown
                .iter()
                .map(|n| format!("'{n}'"))
                .collect::<Vec<_>>()
                .join(", "),
            valid.join(", ")
        ));
    }
    let read_only_reason = if filter.read_only {
        Some("read-only mode (--read-only or CSTAR_READ_ONLY)".to_owned())
    } else if publishable_key {
        Some("the API key is publishable (pk_), which can only read".to_owned())
    } else {
        None
    };
    let hidden = tools
        .iter()
        .filter(|(name, read_only)| {
            filter
                .allow
                .as_ref()
                .is_some_and(|allow| !allow.contains(name))
                || filter.exclude.contains(name)
                || (read_only_reason.is_some() && !read_only)
        })
        .map(|(name, _)| name.clone())
        .collect();
    Ok(Exposure {
        hidden,
        read_only_reason,
        filter: filter.clone(),
    })
}

impl Exposure {
    /// Whether the tool called `name` is hidden.
    pub fn hides(&self, name: &str) -> bool {
        self.hidden.iter().any(|hidden| hidden == name)
    }

    /// The setting that hides the tool called `name`, as a person would
    /// change it; `None` when it is not hidden.
    pub fn hidden_by(&self, name: &str) -> Option<String> {
        if !self.hides(name) {
            return None;
        }
        let named = |list: &[String]| list.iter().any(|tool| tool == name);
        Some(if named(&self.filter.exclude) {
            format!("--exclude-tools (CSTAR_EXCLUDE_TOOLS) names {name}")
        } else if self
            .filter
            .allow
            .as_deref()
            .is_some_and(|allow| !named(allow))
        {
            format!("--tools (CSTAR_TOOLS) does not name {name}")
        } else {
            format!(
                "{name} changes data and this server is read-only because {}",
                self.read_only_reason
                    .as_deref()
                    .unwrap_or("of its settings")
            )
        })
    }

    /// Why a call to `name` is refused, for the model: the reason a tool
    /// it names is hidden (`read_only` is that tool's hint), or that no
    /// such tool exists, with the `visible` ones.
    pub fn refusal(&self, name: &str, read_only: Option<bool>, visible: &[&str]) -> String {
        let name = quote(name, 60);
        match (read_only, &self.read_only_reason) {
            (Some(false), Some(reason)) => format!(
                "Tool '{name}' is not available: it changes data, and this server is read-only \
                 because {reason}. Writes need a secret key (sk_live_ or sk_test_) without \
                 --read-only."
            ),
            (Some(_), _) => format!(
                "Tool '{name}' is not available: this server's --tools or --exclude-tools \
                 settings hide it. Its tools: {}.",
                visible.join(", ")
            ),
            (None, _) => format!(
                "Unknown tool '{name}'. This server's tools: {}.",
                visible.join(", ")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tools() -> Vec<(String, bool)> {
        [
            ("list", true),
            ("get", true),
            ("create", false),
            ("trigger", false),
        ]
        .into_iter()
        .map(|(n, r)| (n.to_owned(), r))
        .collect()
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn decision_table() {
        let cases: Vec<(ToolFilter, bool, Vec<&str>)> = vec![
            (ToolFilter::default(), false, vec![]),
            (
                ToolFilter {
                    read_only: true,
                    ..Default::default()
                },
                false,
                vec!["create", "trigger"],
            ),
            (ToolFilter::default(), true, vec!["create", "trigger"]),
            (
                ToolFilter {
                    allow: Some(names(&["list", "create"])),
                    ..Default::default()
                },
                false,
                vec!["get", "trigger"],
            ),
            (
                ToolFilter {
                    allow: Some(names(&["list", "create"])),
                    exclude: names(&["list"]),
                    ..Default::default()
                },
                false,
                vec!["get", "trigger", "list"],
            ),
            (
                ToolFilter {
                    read_only: true,
                    allow: Some(names(&["create", "get"])),
                    exclude: vec![],
                },
                false,
                vec!["list", "create", "trigger"],
            ),
        ];
        for (filter, publishable, hidden) in cases {
            let mut got = decide(&tools(), &filter, publishable).unwrap().hidden;
            let mut want = names(&hidden);
            got.sort();
            want.sort();
            assert_eq!(got, want, "{filter:?} publishable={publishable}");
        }
    }

    #[test]
    fn unknown_names_list_the_valid_ones() {
        let filter = ToolFilter {
            exclude: names(&["delete"]),
            ..Default::default()
        };
        let error = decide(&tools(), &filter, false).unwrap_err();
        assert!(
            error.contains("'delete'") && error.contains("list, get, create, trigger"),
            "{error}"
        );
    }

    #[test]
    fn says_which_setting_hides_a_tool() {
        let filter = ToolFilter {
            read_only: true,
            allow: Some(names(&["list", "get", "trigger"])),
            exclude: names(&["get"]),
        };
        let exposure = decide(&tools(), &filter, false).unwrap();
        assert_eq!(exposure.hidden_by("list"), None);
        let why = |name| exposure.hidden_by(name).unwrap();
        assert!(why("get").starts_with("--exclude-tools"), "{}", why("get"));
        assert!(why("create").starts_with("--tools"), "{}", why("create"));
        assert!(
            why("trigger").contains("read-only mode"),
            "{}",
            why("trigger")
        );
    }

    #[test]
    fn says_why_it_is_read_only() {
        let reason = decide(&tools(), &ToolFilter::default(), true)
            .unwrap()
            .read_only_reason
            .unwrap();
        assert!(reason.contains("publishable"));
    }
}
