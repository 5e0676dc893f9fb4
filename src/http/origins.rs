//! Which `Host` and `Origin` values the HTTP server accepts (loopback, plus
//! `--allowed-hosts`, each a host or `host:port`), and the CORS answers a
//! browser client on an accepted origin needs.

use axum::http::{HeaderMap, HeaderValue, header};

const LOOPBACK: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// Accepted hosts, as given; an entry without a port accepts any port.
#[derive(Debug, Clone)]
pub struct AllowedHosts {
    hosts: Vec<String>,
}

impl AllowedHosts {
    pub fn new(extra: &[String]) -> Self {
        let hosts = LOOPBACK
            .iter()
            .map(|host| host.to_string())
            .chain(extra.iter().map(|host| host.trim().to_ascii_lowercase()))
            .filter(|host| !host.is_empty())
            .collect();
        AllowedHosts { hosts }
    }

    /// For rmcp's `Host` check, which takes `host` and `host:port` entries.
    pub fn hosts(&self) -> Vec<String> {
        self.hosts.clone()
    }

    /// For rmcp's `Origin` check: `scheme://host:port` with `*` for any port.
    pub fn origins(&self) -> Vec<String> {
        self.hosts
            .iter()
            .flat_map(|entry| {
                let (host, port) = split_port(entry);
                let host = bracketed(host);
                let port = port.map_or("*".to_owned(), |p| p.to_string());
                ["http", "https"].map(|scheme| format!("{scheme}://{host}:{port}"))
            })
            .collect()
    }

    /// Whether a browser `Origin` header names an accepted host.
    pub fn allows_origin(&self, origin: &str) -> bool {
        let Some((scheme, authority)) = origin.trim().split_once("://") else {
            return false;
        };
        if !matches!(scheme, "http" | "https") || authority.contains('/') {
            return false;
        }
        let (host, port) = split_port(authority);
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        self.hosts.iter().any(|entry| {
            let (allowed, allowed_port) = split_port(entry);
            let allowed = allowed.trim_start_matches('[').trim_end_matches(']');
            allowed == host && allowed_port.is_none_or(|p| Some(p) == port)
        })
    }
}

/// `host:port` into its parts; a bare IPv6 address has no port.
fn split_port(entry: &str) -> (&str, Option<u16>) {
    if let Some(rest) = entry.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((host, tail)) => (
                &entry[..host.len() + 2],
                tail.strip_prefix(':').and_then(|p| p.parse().ok()),
            ),
            None => (entry, None),
        };
    }
    match entry.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => match port.parse() {
            Ok(port) => (host, Some(port)),
            Err(_) => (entry, None),
        },
        _ => (entry, None),
    }
}

fn bracketed(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// The headers that let a browser on an accepted origin read an answer.
pub fn expose_to(origin: &HeaderValue, headers: &mut HeaderMap) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("mcp-session-id, mcp-protocol-version, www-authenticate"),
    );
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
}

/// The answer to a CORS preflight from an accepted origin.
pub fn preflight(origin: &HeaderValue, headers: &mut HeaderMap) {
    expose_to(origin, headers);
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, DELETE, OPTIONS"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(
            "authorization, content-type, accept, mcp-protocol-version, mcp-session-id, last-event-id, mcp-method, mcp-name",
        ),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_with_ports_make_exact_origins() {
        let allowed = AllowedHosts::new(&["mcp.example.com:8443".into(), "team.example".into()]);
        let origins = allowed.origins();
        assert!(
            origins.contains(&"https://mcp.example.com:8443".to_owned()),
            "{origins:?}"
        );
        assert!(origins.contains(&"https://team.example:*".to_owned()));
        assert!(origins.contains(&"http://[::1]:*".to_owned()));
        assert!(allowed.allows_origin("https://mcp.example.com:8443"));
        assert!(!allowed.allows_origin("https://mcp.example.com:9999"));
        assert!(allowed.allows_origin("https://team.example:1234"));
        assert!(allowed.allows_origin("http://localhost:6274"));
        assert!(allowed.allows_origin("http://[::1]:3000"));
        assert!(!allowed.allows_origin("https://evil.example"));
        assert!(!allowed.allows_origin("null"));
    }
}
