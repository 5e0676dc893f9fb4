//! Whether a URL is on this machine's loopback. The sandbox delivers
//! webhooks nowhere else, and no client here sends loopback traffic
//! through a proxy: a proxy's loopback is not ours, so a request for
//! `127.0.0.1` sent through one reaches the wrong machine (Go's net/http
//! never proxies loopback either).

/// Whether `url` is an http(s) URL on a loopback host.
pub fn is_loopback(url: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(url) else {
        return false;
    };
    if !matches!(url.scheme(), "http" | "https") {
        return false;
    }
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_urls() {
        for url in [
            "http://127.0.0.1:3000/hook",
            "http://localhost/x",
            "https://[::1]:8443/",
            "http://127.9.9.9/",
        ] {
            assert!(is_loopback(url), "{url}");
        }
        for url in [
            "https://hooks.example.com/slack",
            "http://10.0.0.1/",
            "ftp://127.0.0.1/",
            "nonsense",
            "http://localhost.example.com/",
        ] {
            assert!(!is_loopback(url), "{url}");
        }
    }
}
