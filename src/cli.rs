//! Command-line arguments and environment variables, parsed into a
//! validated `Command` before anything runs. Parsing is a pure function of
//! the arguments and an environment lookup, so it is table-tested.

use std::net::SocketAddr;
use std::time::Duration;

use crate::tools::exposure::ToolFilter;

use crate::api::DEFAULT_BASE_URL;
use crate::api::secret::ApiKey;

/// What the binary was asked to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Serve MCP over stdio.
    Serve(ServeConfig),
    /// Run the sandbox standalone.
    Sandbox {
        port: u16,
        /// Local endpoints that receive every webhook event.
        forward_to: Vec<String>,
    },
    /// Check the setup and print a report.
    Doctor(ServeConfig),
    Help,
    Version,
}

/// Settings for serving MCP.
#[derive(Debug, Clone, PartialEq)]
pub struct ServeConfig {
    pub api_key: Option<ApiKey>,
    pub team_id: Option<String>,
    pub base_url: String,
    pub timeout: Duration,
    /// Start an in-process sandbox and use its demo key.
    pub sandbox: bool,
    /// With `sandbox`: local endpoints that receive every webhook event.
    pub forward_to: Vec<String>,
    /// The log filter; logs always go to stderr.
    pub log_level: Option<String>,
    /// Plain lines, or one JSON object per line.
    pub log_format: LogFormat,
    /// Which tools to expose.
    pub filter: ToolFilter,
    /// Serve MCP over streamable HTTP on this address instead of stdio.
    pub http: Option<SocketAddr>,
    /// Host names (and `host:port`s) accepted in HTTP `Host` headers,
    /// besides loopback.
    pub allowed_hosts: Vec<String>,
    /// Over HTTP, serve requests without a bearer key with the configured key.
    pub server_key: bool,
    /// Over HTTP: how long a client may take, and how much it may hold.
    pub limits: HttpLimits,
}

/// How log lines are written (always to stderr).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// What one HTTP client may take from a shared server.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HttpLimits {
    /// From a connection's first byte to the end of a request's headers.
    pub header_timeout: Duration,
    /// From the end of the headers to the end of the body.
    pub body_timeout: Duration,
    /// Open connections at once; more are answered 503 and closed.
    pub max_connections: usize,
    /// Requests in progress per API key; more are answered 429.
    pub max_per_key: usize,
    /// Runtime worker threads (0: one per core).
    pub workers: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            max_connections: 1024,
            max_per_key: 64,
            workers: 0,
        }
    }
}

pub const HELP: &str = "\
cstar-mcp: an MCP server for cStar (cstar.help) over stdio

USAGE:
    cstar-mcp [mcp-server] [OPTIONS]    serve MCP over stdio (the default)
    cstar-mcp sandbox [--port N]        run the cStar sandbox (API emulator) on 127.0.0.1
    cstar-mcp doctor [OPTIONS]          check the key, the team, the rate limit and the tools
    cstar-mcp --help | --version

OPTIONS:
    --api-key KEY       cStar API key. Prefer the environment: flags show in `ps`.
                        [env: CSTAR_API_KEY, then CSTAR_SECRET_KEY]
    --team-id ID        team UUID; discovered from the key when absent [env: CSTAR_TEAM_ID]
    --base-url URL      cStar API host [env: CSTAR_BASE_URL] [default: https://www.cstar.help]
    --timeout SECONDS   limit for one HTTP attempt [env: CSTAR_TIMEOUT] [default: 20]
    --log-level FILTER  stderr log filter, e.g. debug or cstar_mcp=trace [env: RUST_LOG] [default: warn;
                        over HTTP also cstar_mcp::http::access=info, one line per request]
    --log-format F      text or json (one object per line) [env: CSTAR_LOG_FORMAT] [default: text]
    --sandbox           start a built-in cStar sandbox with demo data and use its demo key;
                        needs no account and no network
    --read-only         expose only read-only tools [env: CSTAR_READ_ONLY=1]
    --tools A,B         expose only these tools [env: CSTAR_TOOLS]
    --exclude-tools C   never expose these tools; wins over --tools [env: CSTAR_EXCLUDE_TOOLS]
    --http ADDR         serve MCP over streamable HTTP on ADDR (path /mcp, plus /healthz)
                        instead of stdio, e.g. 127.0.0.1:8080; each request sends its own
                        key as 'Authorization: Bearer <key>'
    --allowed-hosts H,I Host names accepted over HTTP besides loopback [env: CSTAR_ALLOWED_HOSTS]
    --server-key        over HTTP, serve requests without a bearer key with CSTAR_API_KEY
    --request-timeout S over HTTP, seconds a client may take to send headers, and again
                        to send the body [default: 10]
    --max-connections N over HTTP, open connections at once; more get 503 [default: 1024]
    --max-per-key N     over HTTP, requests in progress per API key; more get 429 [default: 64]
    --workers N         over HTTP, runtime threads [default: one per core]
    --port N            (sandbox command) port to listen on; 0 picks a free one [default: 8787]
    --forward-to URL    (sandbox, or with --sandbox) deliver every webhook event, signed, to
                        this loopback URL, e.g. http://127.0.0.1:3000/webhooks; repeatable
    -h, --help          print this help
    -V, --version       print the version

Logs go to stderr; stdout carries only MCP messages.
";

/// Parses arguments (without the program name), reading variables through `env`.
pub fn parse(args: &[String], env: impl Fn(&str) -> Option<String>) -> Result<Command, String> {
    let mut rest = args;
    let mut sandbox_command = false;
    let mut doctor = false;
    match rest.first().map(String::as_str) {
        Some("mcp-server") | Some("serve") => rest = &rest[1..],
        Some("sandbox") => {
            sandbox_command = true;
            rest = &rest[1..];
        }
        Some("doctor") => {
            doctor = true;
            rest = &rest[1..];
        }
        _ => {}
    }
    let mut api_key = None;
    let mut team_id = None;
    let mut base_url = None;
    let mut timeout = None;
    let mut log_level = None;
    let mut sandbox = false;
    let mut port: Option<u16> = None;
    let mut read_only = false;
    let mut tools: Option<String> = None;
    let mut exclude_tools: Option<String> = None;
    let mut http: Option<String> = None;
    let mut allowed_hosts: Option<String> = None;
    let mut server_key = false;
    let mut limits = HttpLimits::default();
    let mut http_tuning = false;
    let mut forward_to: Vec<String> = Vec::new();
    let mut log_format: Option<String> = None;
    let mut index = 0;
    while index < rest.len() {
        let arg = rest[index].as_str();
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_owned())),
            _ => (arg, None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            if let Some(value) = inline.clone() {
                return Ok(value);
            }
            index += 1;
            rest.get(index)
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "--api-key" => api_key = Some(value(flag)?),
            "--team-id" => team_id = Some(value(flag)?),
            "--base-url" => base_url = Some(value(flag)?),
            "--timeout" => timeout = Some(value(flag)?),
            "--log-level" => log_level = Some(value(flag)?),
            "--log-format" => log_format = Some(value(flag)?),
            "--port" => {
                let raw = value(flag)?;
                port =
                    Some(raw.parse().map_err(|_| {
                        format!("--port takes a number from 0 to 65535, not '{raw}'")
                    })?);
            }
            "--sandbox" => sandbox = true,
            "--read-only" => read_only = true,
            "--tools" => tools = Some(value(flag)?),
            "--exclude-tools" => exclude_tools = Some(value(flag)?),
            "--http" => http = Some(value(flag)?),
            "--allowed-hosts" => allowed_hosts = Some(value(flag)?),
            "--server-key" => server_key = true,
            "--forward-to" => {
                let url = value(flag)?;
                if !crate::sandbox::is_loopback(&url) {
                    return Err(format!(
                        "--forward-to takes a loopback URL such as http://127.0.0.1:3000/webhooks (the sandbox delivers nowhere else), not '{url}'"
                    ));
                }
                forward_to.push(url);
            }
            "--request-timeout" => {
                let raw = value(flag)?;
                let seconds = raw
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|s| *s > 0.0 && *s <= 600.0)
                    .ok_or_else(|| {
                        format!("--request-timeout takes seconds between 0 and 600, not '{raw}'")
                    })?;
                limits.header_timeout = Duration::from_secs_f64(seconds);
                limits.body_timeout = Duration::from_secs_f64(seconds);
                http_tuning = true;
            }
            "--max-connections" | "--max-per-key" | "--workers" => {
                let raw = value(flag)?;
                let number = raw
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=1_000_000).contains(n))
                    .ok_or_else(|| format!("{flag} takes a whole number from 1, not '{raw}'"))?;
                match flag {
                    "--max-connections" => limits.max_connections = number,
                    "--max-per-key" => limits.max_per_key = number,
                    _ => limits.workers = number,
                }
                http_tuning = true;
            }
            other => return Err(format!("unknown argument '{other}' (see --help)")),
        }
        index += 1;
    }
    if sandbox_command {
        return Ok(Command::Sandbox {
            port: port.unwrap_or(8787),
            forward_to,
        });
    }
    if !forward_to.is_empty() && !sandbox {
        return Err("--forward-to needs the sandbox: cstar-mcp --sandbox --forward-to URL, or cstar-mcp sandbox --forward-to URL".into());
    }
    if port.is_some() {
        return Err("--port belongs to the sandbox command: cstar-mcp sandbox --port N".into());
    }
    let timeout = match timeout.or_else(|| env("CSTAR_TIMEOUT")) {
        None => Duration::from_secs(20),
        Some(raw) => match raw.trim().parse::<f64>() {
            Ok(seconds) if seconds > 0.0 && seconds <= 600.0 => Duration::from_secs_f64(seconds),
            _ => {
                return Err(format!(
                    "--timeout takes seconds between 0 and 600, not '{raw}'"
                ));
            }
        },
    };
    let base_url = base_url
        .or_else(|| env("CSTAR_BASE_URL"))
        .filter(|url| !url.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
    if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
        return Err(format!(
            "--base-url must start with https:// or http://, not '{base_url}'"
        ));
    }
    let api_key = api_key
        .or_else(|| env("CSTAR_API_KEY"))
        .or_else(|| env("CSTAR_SECRET_KEY"))
        .filter(|key| !key.trim().is_empty())
        .map(ApiKey::new);
    let list = |raw: Option<String>| -> Vec<String> {
        raw.iter()
            .flat_map(|text| text.split(','))
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let read_only = read_only
        || env("CSTAR_READ_ONLY").is_some_and(|v| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "1" | "true" | "yes" | "on"
            )
        });
    let allow = tools
        .or_else(|| env("CSTAR_TOOLS"))
        .map(|raw| list(Some(raw)));
    let filter = ToolFilter {
        read_only,
        allow,
        exclude: list(exclude_tools.or_else(|| env("CSTAR_EXCLUDE_TOOLS"))),
    };
    let http =
        match http {
            None => None,
            Some(raw) => Some(raw.parse::<SocketAddr>().map_err(|_| {
                format!("--http takes an address such as 127.0.0.1:8080, not '{raw}'")
            })?),
        };
    if server_key && http.is_none() {
        return Err("--server-key applies to --http only".into());
    }
    if http_tuning && http.is_none() {
        return Err("--request-timeout, --max-connections, --max-per-key and --workers apply to --http only".into());
    }
    let log_format = match log_format
        .or_else(|| env("CSTAR_LOG_FORMAT"))
        .as_deref()
        .map(str::trim)
    {
        None | Some("text") => LogFormat::Text,
        Some("json") => LogFormat::Json,
        Some(other) => return Err(format!("--log-format takes text or json, not '{other}'")),
    };
    let log_level = log_level.or_else(|| env("RUST_LOG")).or_else(|| {
        http.is_some()
            .then(|| "warn,cstar_mcp::http::access=info".to_owned())
    });
    let config = ServeConfig {
        api_key,
        team_id: team_id
            .or_else(|| env("CSTAR_TEAM_ID"))
            .filter(|t| !t.trim().is_empty()),
        base_url: base_url.trim().trim_end_matches('/').to_owned(),
        timeout,
        sandbox,
        forward_to,
        log_level,
        log_format,
        filter,
        http,
        allowed_hosts: list(allowed_hosts.or_else(|| env("CSTAR_ALLOWED_HOSTS"))),
        server_key,
        limits,
    };
    Ok(if doctor {
        Command::Doctor(config)
    } else {
        Command::Serve(config)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    fn serve(line: &str, vars: &[(&str, &str)]) -> ServeConfig {
        let lookup = |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        };
        match parse(&args(line), lookup) {
            Ok(Command::Serve(config)) => config,
            other => panic!("{line}: {other:?}"),
        }
    }

    const KEY: &str = "sk_test_a1B2c3D4e5F6g7H8i9J0k-L2m3N4o5P6";

    #[test]
    fn key_precedence_flag_then_env() {
        let config = serve(
            &format!("--api-key {KEY}"),
            &[("CSTAR_API_KEY", "sk_live_other")],
        );
        assert_eq!(
            config.api_key.map(|k| k.expose().to_owned()).as_deref(),
            Some(KEY)
        );
        let config = serve(
            "",
            &[("CSTAR_API_KEY", KEY), ("CSTAR_SECRET_KEY", "sk_live_x")],
        );
        assert_eq!(
            config.api_key.map(|k| k.expose().to_owned()).as_deref(),
            Some(KEY)
        );
        let config = serve("", &[("CSTAR_SECRET_KEY", KEY)]);
        assert_eq!(
            config.api_key.map(|k| k.expose().to_owned()).as_deref(),
            Some(KEY)
        );
        assert_eq!(serve("", &[]).api_key, None);
    }

    #[test]
    fn accepts_the_mcp_server_word_and_inline_values() {
        let config = serve(
            &format!("mcp-server --api-key={KEY} --team-id t1 --timeout 2.5"),
            &[],
        );
        assert_eq!(config.team_id.as_deref(), Some("t1"));
        assert_eq!(config.timeout, Duration::from_millis(2500));
        assert_eq!(config.base_url, DEFAULT_BASE_URL);
    }

    #[test]
    fn base_url_from_env_and_trimmed() {
        let config = serve("", &[("CSTAR_BASE_URL", "http://127.0.0.1:9/")]);
        assert_eq!(config.base_url, "http://127.0.0.1:9");
    }

    #[test]
    fn tool_filters_and_http() {
        let config = serve("--read-only --tools a,b --exclude-tools c", &[]);
        assert_eq!(
            config.filter,
            ToolFilter {
                read_only: true,
                allow: Some(vec!["a".into(), "b".into()]),
                exclude: vec!["c".into()]
            }
        );
        let config = serve(
            "",
            &[("CSTAR_READ_ONLY", "1"), ("CSTAR_EXCLUDE_TOOLS", " x , y ")],
        );
        assert!(config.filter.read_only);
        assert_eq!(config.filter.exclude, vec!["x".to_owned(), "y".to_owned()]);
        assert!(!serve("", &[("CSTAR_READ_ONLY", "0")]).filter.read_only);
        let config = serve(
            "serve --http 127.0.0.1:8080 --allowed-hosts mcp.example.com --server-key",
            &[],
        );
        assert_eq!(config.http, Some("127.0.0.1:8080".parse().unwrap()));
        assert_eq!(config.allowed_hosts, vec!["mcp.example.com".to_owned()]);
        assert!(config.server_key);
        assert!(parse(&args("--http nowhere"), |_| None).is_err());
        assert!(parse(&args("--server-key"), |_| None).is_err());
    }

    #[test]
    fn sandbox_forms() {
        assert!(serve("--sandbox", &[]).sandbox);
        assert_eq!(
            parse(&args("sandbox --port 0"), |_| None),
            Ok(Command::Sandbox {
                port: 0,
                forward_to: vec![]
            })
        );
        assert_eq!(
            parse(&args("sandbox"), |_| None),
            Ok(Command::Sandbox {
                port: 8787,
                forward_to: vec![]
            })
        );
    }

    #[test]
    fn forward_to_is_repeatable_loopback_and_needs_the_sandbox() {
        let hooks = "http://127.0.0.1:3000/hooks";
        assert_eq!(
            parse(
                &args(&format!(
                    "sandbox --forward-to {hooks} --forward-to http://localhost:4000/"
                )),
                |_| None
            ),
            Ok(Command::Sandbox {
                port: 8787,
                forward_to: vec![hooks.to_owned(), "http://localhost:4000/".to_owned()]
            })
        );
        assert_eq!(
            serve(&format!("--sandbox --forward-to {hooks}"), &[]).forward_to,
            [hooks]
        );
        let elsewhere = parse(
            &args("sandbox --forward-to https://hooks.example.com/x"),
            |_| None,
        );
        assert!(elsewhere.unwrap_err().contains("loopback"));
        let without_sandbox = parse(&args(&format!("--forward-to {hooks}")), |_| None);
        assert!(without_sandbox.unwrap_err().contains("--sandbox"));
    }

    #[test]
    fn refuses_bad_input() {
        for line in [
            "--bogus",
            "--timeout 0",
            "--timeout abc",
            "--base-url ftp://x",
            "--api-key",
            "sandbox --port 70000",
            "--port 1",
        ] {
            assert!(parse(&args(line), |_| None).is_err(), "{line}");
        }
        assert_eq!(parse(&args("--help"), |_| None), Ok(Command::Help));
        assert!(
            matches!(parse(&args("doctor --sandbox"), |_| None), Ok(Command::Doctor(c)) if c.sandbox)
        );
        assert_eq!(parse(&args("-V"), |_| None), Ok(Command::Version));
    }
}
