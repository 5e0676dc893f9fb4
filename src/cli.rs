//! The command line: three commands (`serve`, `sandbox`, `doctor`), each
//! accepting only its own flags and with its own `--help`, parsed by clap
//! into a validated `Command` before anything runs.
//!
//! Variables are read through a lookup the caller passes, never from the
//! process: each flag's `env` name is turned into a hidden default from that
//! lookup before clap parses (a flag still wins over its variable). So the
//! parse is a pure function of the arguments and the environment, and is
//! table-tested.

use std::net::SocketAddr;
use std::time::Duration;

use clap::builder::{BoolishValueParser, PossibleValuesParser, TypedValueParser};
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use crate::api::DEFAULT_BASE_URL;
use crate::api::secret::{ApiKey, hide_keys};
use crate::sandbox::SeedData;
use crate::tools::exposure::ToolFilter;

/// What the binary was asked to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Serve MCP over stdio.
    Serve(ServeConfig),
    /// Serve MCP over streamable HTTP.
    ServeHttp(ServeConfig, HttpConfig),
    /// Run the sandbox standalone.
    Sandbox(SandboxConfig),
    /// Check the setup and print a report.
    Doctor(ServeConfig),
    /// Print this text to stdout and succeed (`--help`, `--version`).
    Print(String),
}

/// Where cStar is, which key to use and which tools to expose.
#[derive(Debug, Clone, PartialEq)]
pub struct ServeConfig {
    pub api_key: Option<ApiKey>,
    pub team_id: Option<String>,
    pub base_url: String,
    pub timeout: Duration,
    /// Start an in-process sandbox and use its demo key.
    pub sandbox: bool,
    /// With `sandbox`: the data it serves.
    pub sandbox_data: SeedData,
    /// With `sandbox`: local endpoints that receive every webhook event.
    pub forward_to: Vec<String>,
    /// Which tools to expose.
    pub filter: ToolFilter,
    /// List recent tickets and their customers in resources/list.
    pub recent_resources: bool,
    /// Replace personal data in everything sent to the client with
    /// pseudonyms (`crate::pii`).
    pub redact_pii: bool,
    pub log: LogConfig,
}

/// The shared server's address and what each client may take from it.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpConfig {
    pub addr: SocketAddr,
    /// Host names (and `host:port`s) accepted in `Host` headers, besides
    /// loopback.
    pub allowed_hosts: Vec<String>,
    /// Serve requests without a bearer key with the configured key.
    pub server_key: bool,
    pub limits: HttpLimits,
}

/// The standalone sandbox.
#[derive(Debug, Clone, PartialEq)]
pub struct SandboxConfig {
    pub port: u16,
    /// The data it serves.
    pub data: SeedData,
    /// Local endpoints that receive every webhook event.
    pub forward_to: Vec<String>,
    pub log: LogConfig,
}

/// Where logs go is fixed (stderr); this is what and how.
#[derive(Debug, Clone, PartialEq)]
pub struct LogConfig {
    /// An `EnvFilter` directive; `None` means `warn`.
    pub filter: Option<String>,
    pub format: LogFormat,
}

/// How log lines are written (always to stderr).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    // Plain lines.
    #[default]
    Text,
    // One JSON object per line, for log collectors.
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
    /// Worker threads, each with a single-threaded runtime (0: one per
    /// core).
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

impl Command {
    /// The log settings of a command that logs.
    pub fn log(&self) -> Option<&LogConfig> {
        match self {
            Command::Serve(config) | Command::ServeHttp(config, _) | Command::Doctor(config) => {
                Some(&config.log)
            }
            Command::Sandbox(config) => Some(&config.log),
            Command::Print(_) => None,
        }
    }
}

/// The access log is on by default over HTTP: one line per request.
const HTTP_LOG_FILTER: &str = "warn,cstar_mcp::http::access=info";

/// Parses arguments (without the program name), reading variables through
/// `env`. `Err` holds clap's rendered message (usage, and a suggestion for
/// a misspelt flag).
pub fn parse(args: &[String], env: impl Fn(&str) -> Option<String>) -> Result<Command, String> {
    let argv = std::iter::once("cstar-mcp".to_owned()).chain(args.iter().cloned());
    let matches = match defaults_from(Cli::command(), &env).try_get_matches_from(argv) {
        Ok(matches) => matches,
        Err(error) if is_print(error.kind()) => {
            return Ok(Command::Print(error.render().to_string()));
        }
        Err(error) => return Err(without_keys(&explain(&error, args), args, &env)),
    };
    let cli = Cli::from_arg_matches(&matches)
        .map_err(|error| without_keys(&error.render().to_string(), args, &env))?;
    Ok(match cli.command {
        None => serve(cli.serve, &env),
        Some(CommandArgs::Serve(args)) => serve(args, &env),
        Some(CommandArgs::Doctor(args)) => Command::Doctor(args.connection.into_config(&env, None)),
        Some(CommandArgs::Sandbox(args)) => Command::Sandbox(SandboxConfig {
            port: args.port,
            data: args.data,
            forward_to: args.forward_to,
            log: args.log.into_config(None),
        }),
    })
}

/// Whether arguments that failed to parse were meant for the stdio server
/// (no `sandbox` or `doctor` command, no `--http`): only that server has a
/// client on stdin to tell about the mistake.
pub fn meant_for_stdio(args: &[String]) -> bool {
    let command = args.first().map(String::as_str);
    let http = args
        .iter()
        .any(|arg| arg == "--http" || arg.starts_with("--http="));
    !matches!(command, Some("sandbox" | "doctor")) && !http
}

/// A refusal with the key hidden: clap quotes what it could not place,
/// which may be a key typed in the wrong spot.
fn without_keys(message: &str, args: &[String], env: &impl Fn(&str) -> Option<String>) -> String {
    let flag_values =
        args.iter()
            .enumerate()
            .filter_map(|(at, arg)| match arg.strip_prefix("--api-key") {
                Some("") => args.get(at + 1).cloned(),
                Some(inline) => inline.strip_prefix('=').map(str::to_owned),
                None => None,
            });
    let known: Vec<String> = flag_values
        .chain(env("CSTAR_API_KEY"))
        .chain(env("CSTAR_SECRET_KEY"))
        .collect();
    let known: Vec<&str> = known.iter().map(String::as_str).collect();
    hide_keys(message, &known)
}

/// clap's message, plus which variable held a bad value that no flag gave:
/// clap words such a value as if it came from the flag.
fn explain(error: &clap::Error, args: &[String]) -> String {
    let mut message = error.render().to_string();
    if !message.ends_with('\n') {
        message.push('\n');
    }
    let Some(ContextValue::String(arg)) = error.get(ContextKind::InvalidArg) else {
        return message;
    };
    let flag = arg.split_whitespace().next().unwrap_or_default();
    let given = args
        .iter()
        .any(|a| a == flag || a.starts_with(&format!("{flag}=")));
    if !given && let Some(name) = variable_of(&Cli::command(), flag) {
        let line = format!("  note: the value came from the environment variable {name}\n");
        let at = message.find('\n').map_or(message.len(), |end| end + 1);
        message.insert_str(at, &line);
    }
    message
}

/// The variable behind `--flag`, in any command.
fn variable_of(command: &clap::Command, flag: &str) -> Option<String> {
    let long = flag.strip_prefix("--")?;
    command
        .get_arguments()
        .find(|arg| arg.get_long() == Some(long))
        .and_then(|arg| arg.get_env())
        .map(|name| name.to_string_lossy().into_owned())
        .or_else(|| {
            command
                .get_subcommands()
                .find_map(|sub| variable_of(sub, flag))
        })
}

fn is_print(kind: ErrorKind) -> bool {
    matches!(kind, ErrorKind::DisplayHelp | ErrorKind::DisplayVersion)
}

/// Replaces every flag's `env` with a hidden default read through `env`,
/// in every command, so that clap itself never reads the process's
/// variables, and names the variable in the flag's help instead (never its
/// value, which may be a key). Blank values count as unset.
fn defaults_from(command: clap::Command, env: &impl Fn(&str) -> Option<String>) -> clap::Command {
    let names: Vec<String> = command
        .get_subcommands()
        .map(|sub| sub.get_name().to_owned())
        .collect();
    let mut command = command.mut_args(|arg| {
        let Some(name) = arg
            .get_env()
            .map(|name| name.to_string_lossy().into_owned())
        else {
            return arg;
        };
        let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
        let arg = arg.env(None::<&str>).help(format!("{help} [env: {name}]"));
        match env(&name).filter(|value| !value.trim().is_empty()) {
            Some(value) if arg.get_action().takes_values() => {
                arg.default_value(value).hide_default_value(true)
            }
            Some(value) => arg.default_value(value),
            None => arg,
        }
    });
    for name in names {
        command = command.mut_subcommand(name, |sub| defaults_from(sub, env));
    }
    command
}

fn serve(args: ServeArgs, env: &impl Fn(&str) -> Option<String>) -> Command {
    let Some(addr) = args.http.http else {
        return Command::Serve(args.connection.into_config(env, None));
    };
    let mut limits = HttpLimits::default();
    if let Some(timeout) = args.http.request_timeout {
        limits.header_timeout = timeout;
        limits.body_timeout = timeout;
    }
    limits.max_connections = args.http.max_connections.unwrap_or(limits.max_connections);
    limits.max_per_key = args.http.max_per_key.unwrap_or(limits.max_per_key);
    limits.workers = args.http.workers.unwrap_or(limits.workers);
    let http = HttpConfig {
        addr,
        allowed_hosts: list(args.http.allowed_hosts.as_deref()),
        server_key: args.http.server_key,
        limits,
    };
    Command::ServeHttp(
        args.connection.into_config(env, Some(HTTP_LOG_FILTER)),
        http,
    )
}

/// A comma-separated list, trimmed, without empty items.
fn list(raw: Option<&str>) -> Vec<String> {
    raw.into_iter()
        .flat_map(|text| text.split(','))
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

/// cstar-mcp: an MCP server for cStar (cstar.help). Without a command it
/// serves MCP over stdio.
#[derive(Parser, Debug)]
#[command(
    name = "cstar-mcp",
    version,
    after_help = "Logs go to stderr; stdout carries only MCP messages. Each command has its own --help.",
    args_conflicts_with_subcommands = true,
    disable_help_subcommand = true,
    max_term_width = 100
)]
struct Cli {
    #[command(subcommand)]
    command: Option<CommandArgs>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand, Debug)]
enum CommandArgs {
    /// Serve MCP over stdio (the default), or over streamable HTTP with --http
    #[command(visible_alias = "mcp-server")]
    Serve(ServeArgs),
    /// Run the cStar sandbox (an emulator of cStar's API with demo data) on 127.0.0.1
    Sandbox(SandboxArgs),
    /// Check the key, the team, the rate limit and the tools, and print a report
    Doctor(DoctorArgs),
}

#[derive(Args, Debug)]
struct ServeArgs {
    #[command(flatten)]
    connection: ConnectionArgs,
    #[command(flatten)]
    http: HttpArgs,
}

#[derive(Args, Debug)]
struct DoctorArgs {
    #[command(flatten)]
    connection: ConnectionArgs,
}

#[derive(Args, Debug)]
struct SandboxArgs {
    /// Port to listen on; 0 picks a free one
    #[arg(long, value_name = "N", default_value_t = 8787)]
    port: u16,
    /// The data to serve: demo, or hostile (adversarial text in every
    /// field, for testing what a client shows)
    #[arg(long, value_name = "SET", env = "CSTAR_SANDBOX_DATA", default_value = "demo", value_parser = seed_data())]
    data: SeedData,
    /// Deliver every webhook event, signed, to this loopback URL, e.g.
    /// http://127.0.0.1:3000/webhooks; repeatable
    #[arg(long = "forward-to", value_name = "URL", value_parser = loopback_url)]
    forward_to: Vec<String>,
    #[command(flatten)]
    log: LogArgs,
}

/// How to reach cStar, and what to expose (serve and doctor).
#[derive(Args, Debug)]
struct ConnectionArgs {
    /// cStar API key (then CSTAR_SECRET_KEY is read). Prefer the environment:
    /// flags show in `ps`
    #[arg(long, value_name = "KEY", env = "CSTAR_API_KEY")]
    api_key: Option<String>,
    /// Team UUID; discovered from the key when absent
    #[arg(long, value_name = "ID", env = "CSTAR_TEAM_ID")]
    team_id: Option<String>,
    /// cStar API host
    #[arg(long, value_name = "URL", env = "CSTAR_BASE_URL", default_value = DEFAULT_BASE_URL, value_parser = base_url)]
    base_url: String,
    /// Limit for one HTTP attempt to cStar, in seconds
    #[arg(long, value_name = "SECONDS", env = "CSTAR_TIMEOUT", default_value = "20", value_parser = seconds)]
    timeout: Duration,
    /// Start a built-in cStar sandbox with demo data and use its demo key;
    /// needs no account and no network
    #[arg(long)]
    sandbox: bool,
    /// With --sandbox: the data it serves, demo or hostile (adversarial text
    /// in every field)
    #[arg(long, value_name = "SET", env = "CSTAR_SANDBOX_DATA", default_value = "demo", requires = "sandbox", value_parser = seed_data())]
    sandbox_data: SeedData,
    /// With --sandbox: deliver every webhook event, signed, to this loopback
    /// URL; repeatable
    #[arg(long = "forward-to", value_name = "URL", requires = "sandbox", value_parser = loopback_url)]
    forward_to: Vec<String>,
    /// Expose only read-only tools
    #[arg(long, env = "CSTAR_READ_ONLY", action = clap::ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    read_only: bool,
    /// Expose only these tools
    #[arg(long, value_name = "A,B", env = "CSTAR_TOOLS")]
    tools: Option<String>,
    /// Never expose these tools; wins over --tools
    #[arg(long, value_name = "C,D", env = "CSTAR_EXCLUDE_TOOLS")]
    exclude_tools: Option<String>,
    /// List only articles as resources: no recent tickets or customers in
    /// the @ picker
    #[arg(long, env = "CSTAR_NO_RECENT_RESOURCES", action = clap::ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    no_recent_resources: bool,
    /// Replace emails, phone numbers, card numbers, IBANs, IP addresses and
    /// customer names in everything sent to the client with stable
    /// pseudonyms such as [email 3f9a], which tools accept back
    #[arg(long, env = "CSTAR_REDACT_PII", action = clap::ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    redact_pii: bool,
    #[command(flatten)]
    log: LogArgs,
}

#[derive(Args, Debug)]
struct LogArgs {
    /// Log filter for stderr, e.g. debug or cstar_mcp=trace [default: warn;
    /// over HTTP also cstar_mcp::http::access=info, one line per request]
    #[arg(long, value_name = "FILTER", env = "RUST_LOG")]
    log_level: Option<String>,
    /// Log lines as plain text, or as one JSON object per line
    #[arg(
        long,
        value_name = "F",
        env = "CSTAR_LOG_FORMAT",
        value_enum,
        default_value_t
    )]
    log_format: LogFormat,
}

#[derive(Args, Debug)]
#[command(next_help_heading = "Streamable HTTP (serve --http)")]
struct HttpArgs {
    /// Serve MCP over streamable HTTP on ADDR (path /mcp, plus /healthz,
    /// /readyz and /metrics) instead of stdio, e.g. 127.0.0.1:8080; each
    /// request sends its own key as 'Authorization: Bearer <key>'
    #[arg(long, value_name = "ADDR")]
    http: Option<SocketAddr>,
    /// Host names accepted besides loopback
    #[arg(
        long,
        value_name = "H,I",
        env = "CSTAR_ALLOWED_HOSTS",
        requires = "http"
    )]
    allowed_hosts: Option<String>,
    /// Serve requests without a bearer key with CSTAR_API_KEY
    #[arg(long, requires = "http")]
    server_key: bool,
    /// Seconds a client may take to send a request's headers, and again its
    /// body [default: 10]
    #[arg(long, value_name = "SECONDS", requires = "http", value_parser = seconds)]
    request_timeout: Option<Duration>,
    /// Open connections at once; more get 503 [default: 1024]
    #[arg(long, value_name = "N", requires = "http", value_parser = count)]
    max_connections: Option<usize>,
    /// Requests in progress per API key; more get 429 [default: 64]
    #[arg(long, value_name = "N", requires = "http", value_parser = count)]
    max_per_key: Option<usize>,
    /// Runtime threads [default: one per core]
    #[arg(long, value_name = "N", requires = "http", value_parser = count)]
    workers: Option<usize>,
}

impl ConnectionArgs {
    fn into_config(
        self,
        env: &impl Fn(&str) -> Option<String>,
        default_log: Option<&str>,
    ) -> ServeConfig {
        let api_key = self
            .api_key
            .or_else(|| env("CSTAR_SECRET_KEY"))
            .filter(|key| !key.trim().is_empty())
            .map(ApiKey::new);
        ServeConfig {
            api_key,
            team_id: self.team_id.filter(|id| !id.trim().is_empty()),
            base_url: self.base_url,
            timeout: self.timeout,
            sandbox: self.sandbox,
            sandbox_data: self.sandbox_data,
            forward_to: self.forward_to,
            filter: ToolFilter {
                read_only: self.read_only,
                allow: self.tools.map(|raw| list(Some(&raw))),
                exclude: list(self.exclude_tools.as_deref()),
            },
            recent_resources: !self.no_recent_resources,
            redact_pii: self.redact_pii,
            log: self.log.into_config(default_log),
        }
    }
}

impl LogArgs {
    fn into_config(self, default_filter: Option<&str>) -> LogConfig {
        LogConfig {
            filter: self.log_level.or_else(|| default_filter.map(str::to_owned)),
            format: self.log_format,
        }
    }
}

fn seconds(raw: &str) -> Result<Duration, String> {
    raw.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| *s > 0.0 && *s <= 600.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| "takes seconds between 0 and 600".to_owned())
}

fn count(raw: &str) -> Result<usize, String> {
    raw.trim()
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=1_000_000).contains(n))
        .ok_or_else(|| "takes a whole number from 1 to 1000000".to_owned())
}

fn base_url(raw: &str) -> Result<String, String> {
    let url = raw.trim().trim_end_matches('/');
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err("must start with https:// or http://".to_owned());
    }
    match reqwest::Url::parse(url) {
        Ok(_) => Ok(url.to_owned()),
        Err(error) => Err(format!("is not a URL: {error}")),
    }
}

/// The sandbox's data sets, by name; clap lists them in help and errors.
fn seed_data() -> impl TypedValueParser<Value = SeedData> {
    PossibleValuesParser::new(SeedData::NAMES).try_map(|name| name.parse::<SeedData>())
}

fn loopback_url(raw: &str) -> Result<String, String> {
    if crate::loopback::is_loopback(raw) {
        Ok(raw.to_owned())
    } else {
        Err("takes a loopback URL such as http://127.0.0.1:3000/webhooks (the sandbox delivers nowhere else)".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    fn parse_with(line: &str, vars: &[(&str, &str)]) -> Result<Command, String> {
        let lookup = |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        };
        parse(&args(line), lookup)
    }

    fn serve(line: &str, vars: &[(&str, &str)]) -> ServeConfig {
        match parse_with(line, vars) {
            Ok(Command::Serve(config)) => config,
            other => panic!("{line}: {other:?}"),
        }
    }

    fn serve_http(line: &str, vars: &[(&str, &str)]) -> (ServeConfig, HttpConfig) {
        match parse_with(line, vars) {
            Ok(Command::ServeHttp(config, http)) => (config, http),
            other => panic!("{line}: {other:?}"),
        }
    }

    fn refusal(line: &str) -> String {
        match parse_with(line, &[]) {
            Err(message) => message,
            other => panic!("{line} was accepted: {other:?}"),
        }
    }

    const KEY: &str = "sk_test_a1B2c3D4e5F6g7H8i9J0k-L2m3N4o5P6";

    fn key(config: &ServeConfig) -> Option<&str> {
        config.api_key.as_ref().map(ApiKey::expose)
    }

    #[test]
    fn the_command_line_is_well_formed_with_and_without_variables() {
        Cli::command().debug_assert();
        let every = |_: &str| Some("1".to_owned());
        defaults_from(Cli::command(), &every).debug_assert();
    }

    #[test]
    fn key_precedence_flag_then_env() {
        let flag = serve(
            &format!("--api-key {KEY}"),
            &[("CSTAR_API_KEY", "sk_live_other")],
        );
        assert_eq!(key(&flag), Some(KEY));
        let both = serve(
            "",
            &[("CSTAR_API_KEY", KEY), ("CSTAR_SECRET_KEY", "sk_live_x")],
        );
        assert_eq!(key(&both), Some(KEY));
        assert_eq!(key(&serve("", &[("CSTAR_SECRET_KEY", KEY)])), Some(KEY));
        assert_eq!(key(&serve("", &[("CSTAR_API_KEY", "  ")])), None);
        assert_eq!(serve("", &[]).api_key, None);
    }

    #[test]
    fn accepts_the_mcp_server_word_and_inline_values() {
        for line in [
            format!("mcp-server --api-key={KEY} --team-id t1 --timeout 2.5"),
            format!("serve --api-key={KEY} --team-id t1 --timeout 2.5"),
            format!("--api-key={KEY} --team-id t1 --timeout 2.5"),
        ] {
            let config = serve(&line, &[]);
            assert_eq!(config.team_id.as_deref(), Some("t1"), "{line}");
            assert_eq!(config.timeout, Duration::from_millis(2500));
            assert_eq!(config.base_url, DEFAULT_BASE_URL);
            assert_eq!(key(&config), Some(KEY));
        }
    }

    #[test]
    fn variables_fill_in_and_flags_win() {
        let vars = [
            ("CSTAR_BASE_URL", "http://127.0.0.1:9/"),
            ("CSTAR_TIMEOUT", "3"),
            ("CSTAR_TEAM_ID", "team-from-env"),
            ("CSTAR_LOG_FORMAT", "json"),
            ("RUST_LOG", "debug"),
        ];
        let config = serve("", &vars);
        assert_eq!(config.base_url, "http://127.0.0.1:9");
        assert_eq!(config.timeout, Duration::from_secs(3));
        assert_eq!(config.team_id.as_deref(), Some("team-from-env"));
        assert_eq!(
            config.log,
            LogConfig {
                filter: Some("debug".into()),
                format: LogFormat::Json
            }
        );
        let config = serve(
            "--base-url https://eu.cstar.help --timeout 1 --log-format text",
            &vars,
        );
        assert_eq!(config.base_url, "https://eu.cstar.help");
        assert_eq!(config.timeout, Duration::from_secs(1));
        assert_eq!(config.log.format, LogFormat::Text);
        // A bad variable is refused like a bad flag, and named.
        for (name, value) in [
            ("CSTAR_TIMEOUT", "soon"),
            ("CSTAR_LOG_FORMAT", "xml"),
            ("CSTAR_READ_ONLY", "maybe"),
            ("CSTAR_BASE_URL", "ftp://x"),
        ] {
            let message = parse_with("", &[(name, value)]).unwrap_err();
            assert!(message.contains(name), "{message}");
        }
        let flag = parse_with("--timeout soon", &[("CSTAR_TIMEOUT", "3")]).unwrap_err();
        assert!(!flag.contains("CSTAR_TIMEOUT"), "{flag}");
    }

    #[test]
    fn tool_filters_from_flags_and_variables() {
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
            &[
                ("CSTAR_READ_ONLY", "yes"),
                ("CSTAR_EXCLUDE_TOOLS", " x , y "),
            ],
        );
        assert!(config.filter.read_only);
        assert_eq!(config.filter.exclude, vec!["x".to_owned(), "y".to_owned()]);
        assert!(serve("", &[("CSTAR_READ_ONLY", "1")]).filter.read_only);
        assert!(!serve("", &[("CSTAR_READ_ONLY", "0")]).filter.read_only);
        assert!(!serve("", &[("CSTAR_READ_ONLY", "off")]).filter.read_only);
        assert!(parse_with("", &[("CSTAR_READ_ONLY", "maybe")]).is_err());
    }

    #[test]
    fn redact_pii_from_the_flag_or_the_variable_for_serve_and_doctor() {
        assert!(!serve("", &[]).redact_pii);
        assert!(serve("--redact-pii", &[]).redact_pii);
        assert!(serve("serve --redact-pii --sandbox", &[]).redact_pii);
        assert!(serve("", &[("CSTAR_REDACT_PII", "1")]).redact_pii);
        assert!(serve("", &[("CSTAR_REDACT_PII", "true")]).redact_pii);
        assert!(!serve("", &[("CSTAR_REDACT_PII", "0")]).redact_pii);
        assert!(!serve("", &[("CSTAR_REDACT_PII", "off")]).redact_pii);
        let (config, _) = serve_http("--http 127.0.0.1:0 --redact-pii", &[]);
        assert!(config.redact_pii);
        let (config, _) = serve_http("--http 127.0.0.1:0", &[("CSTAR_REDACT_PII", "yes")]);
        assert!(config.redact_pii);
        assert!(matches!(
            parse_with("doctor --sandbox --redact-pii", &[]),
            Ok(Command::Doctor(config)) if config.redact_pii
        ));
        let message = parse_with("", &[("CSTAR_REDACT_PII", "maybe")]).unwrap_err();
        assert!(message.contains("CSTAR_REDACT_PII"), "{message}");
        assert!(refusal("sandbox --redact-pii").contains("--redact-pii"));
    }

    #[test]
    fn http_flags_make_the_http_command() {
        let (config, http) = serve_http(
            "serve --http 127.0.0.1:8080 --allowed-hosts mcp.example.com,b:9 --server-key \
             --request-timeout 2 --max-connections 10 --max-per-key 3 --workers 1",
            &[],
        );
        assert_eq!(http.addr, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(http.allowed_hosts, ["mcp.example.com", "b:9"]);
        assert!(http.server_key);
        assert_eq!(
            http.limits,
            HttpLimits {
                header_timeout: Duration::from_secs(2),
                body_timeout: Duration::from_secs(2),
                max_connections: 10,
                max_per_key: 3,
                workers: 1,
            }
        );
        // The access log is on by default over HTTP, and RUST_LOG replaces it.
        assert_eq!(config.log.filter.as_deref(), Some(HTTP_LOG_FILTER));
        assert_eq!(serve("", &[]).log.filter, None);
        let (config, http) = serve_http(
            "--http [::1]:0",
            &[("RUST_LOG", "info"), ("CSTAR_ALLOWED_HOSTS", "a.example")],
        );
        assert_eq!(config.log.filter.as_deref(), Some("info"));
        assert_eq!(http.allowed_hosts, ["a.example"]);
        assert_eq!(http.limits, HttpLimits::default());
        // A team-wide variable does not break a stdio server.
        serve("", &[("CSTAR_ALLOWED_HOSTS", "a.example")]);
    }

    #[test]
    fn sandbox_forms() {
        assert!(serve("--sandbox", &[]).sandbox);
        let standalone = |line: &str| match parse_with(line, &[]) {
            Ok(Command::Sandbox(config)) => config,
            other => panic!("{line}: {other:?}"),
        };
        assert_eq!(standalone("sandbox --port 0").port, 0);
        assert_eq!(standalone("sandbox").port, 8787);
        assert_eq!(
            standalone("sandbox --log-level debug")
                .log
                .filter
                .as_deref(),
            Some("debug")
        );
        assert!(matches!(
            parse_with("doctor --sandbox", &[]),
            Ok(Command::Doctor(config)) if config.sandbox
        ));
    }

    #[test]
    fn forward_to_is_repeatable_loopback_and_needs_the_sandbox() {
        let hooks = "http://127.0.0.1:3000/hooks";
        assert_eq!(
            parse_with(
                &format!("sandbox --forward-to {hooks} --forward-to http://localhost:4000/"),
                &[]
            ),
            Ok(Command::Sandbox(SandboxConfig {
                port: 8787,
                data: SeedData::Demo,
                forward_to: vec![hooks.to_owned(), "http://localhost:4000/".to_owned()],
                log: LogConfig {
                    filter: None,
                    format: LogFormat::Text
                },
            }))
        );
        assert_eq!(
            serve(&format!("--sandbox --forward-to {hooks}"), &[]).forward_to,
            [hooks]
        );
        assert!(refusal("sandbox --forward-to https://hooks.example.com/x").contains("loopback"));
        assert!(refusal(&format!("--forward-to {hooks}")).contains("--sandbox"));
    }

    #[test]
    fn sandbox_data_from_flags_and_the_variable() {
        let standalone = |line: &str, vars: &[(&str, &str)]| match parse_with(line, vars) {
            Ok(Command::Sandbox(config)) => config.data,
            other => panic!("{line}: {other:?}"),
        };
        let hostile = [("CSTAR_SANDBOX_DATA", "hostile")];
        for (line, vars, data) in [
            ("sandbox", &[][..], SeedData::Demo),
            ("sandbox --data hostile", &[], SeedData::Hostile),
            ("sandbox --data=demo", &[], SeedData::Demo),
            ("sandbox", &hostile, SeedData::Hostile),
            ("sandbox --data demo", &hostile, SeedData::Demo),
        ] {
            assert_eq!(standalone(line, vars), data, "{line} {vars:?}");
        }
        for (line, vars, data) in [
            ("--sandbox", &[][..], SeedData::Demo),
            ("--sandbox --sandbox-data hostile", &[], SeedData::Hostile),
            (
                "serve --sandbox --sandbox-data=hostile",
                &[],
                SeedData::Hostile,
            ),
            ("--sandbox", &hostile, SeedData::Hostile),
            ("--sandbox --sandbox-data demo", &hostile, SeedData::Demo),
        ] {
            let config = serve(line, vars);
            assert!(config.sandbox, "{line}");
            assert_eq!(config.sandbox_data, data, "{line} {vars:?}");
        }
        assert!(matches!(
            parse_with("doctor --sandbox --sandbox-data hostile", &[]),
            Ok(Command::Doctor(config)) if config.sandbox_data == SeedData::Hostile
        ));
        // The variable alone does not ask for a sandbox, nor break a server
        // that talks to cStar.
        assert!(!serve("", &hostile).sandbox);
        assert!(refusal("--sandbox-data hostile").contains("--sandbox"));
        for line in ["sandbox --data evil", "--sandbox --sandbox-data Hostile"] {
            let message = refusal(line);
            assert!(
                message.contains("demo") && message.contains("hostile"),
                "{line}: {message}"
            );
        }
        let message = parse_with("sandbox", &[("CSTAR_SANDBOX_DATA", "evil")]).unwrap_err();
        assert!(message.contains("CSTAR_SANDBOX_DATA"), "{message}");
    }

    #[test]
    fn each_command_refuses_flags_that_are_not_its_own() {
        for (line, names) in [
            ("sandbox --read-only", "--read-only"),
            ("sandbox --api-key x", "--api-key"),
            ("sandbox --http 127.0.0.1:1", "--http"),
            ("sandbox --sandbox-data hostile", "--sandbox-data"),
            ("--data hostile", "--data"),
            ("doctor --data hostile", "--data"),
            ("doctor --http 127.0.0.1:1", "--http"),
            ("doctor --port 1", "--port"),
            ("--port 1", "--port"),
            ("serve --port 1", "--port"),
            ("--server-key", "--http"),
            ("--workers 2", "--http"),
            ("--max-per-key 2", "--http"),
            ("--request-timeout 2", "--http"),
            ("--sandbox sandbox", "sandbox"),
        ] {
            let message = refusal(line);
            assert!(message.contains(names), "{line}: {message}");
        }
    }

    #[test]
    fn refuses_bad_values_and_suggests_flags() {
        for line in [
            "--timeout 0",
            "--timeout abc",
            "--timeout 601",
            "--base-url ftp://x",
            "--base-url http://exa mple.com",
            "--base-url https://",
            "--api-key",
            "--http nowhere",
            "--http 127.0.0.1:1 --workers 0",
            "--http 127.0.0.1:1 --max-connections many",
            "--log-format xml",
            "sandbox --port 70000",
            "bogus-command",
        ] {
            refusal(line);
        }
        let message = refusal("--read-onyl");
        assert!(message.contains("--read-only"), "{message}");
        assert!(message.contains("unexpected argument"), "{message}");
    }

    #[test]
    fn a_refusal_never_quotes_the_key() {
        let secret = "not-shaped-like-a-key-0123";
        for (line, vars) in [
            (format!("--api-key {secret} --timeout {secret}"), vec![]),
            (format!("--timeout {KEY}"), vec![]),
            (KEY.to_owned(), vec![]),
            (format!("--api-key={secret} {secret}"), vec![]),
            (secret.to_owned(), vec![("CSTAR_API_KEY", secret)]),
            (secret.to_owned(), vec![("CSTAR_SECRET_KEY", secret)]),
        ] {
            let message = parse_with(&line, &vars).unwrap_err();
            assert!(message.contains("[redacted]"), "{line}: {message}");
            assert!(
                !message.contains(secret) && !message.contains(&KEY[8..]),
                "{line}: {message}"
            );
        }
    }

    #[test]
    fn refusals_meant_for_the_stdio_server_are_told_apart() {
        for (line, stdio) in [
            ("--bogus", true),
            ("serve --tools", true),
            ("mcp-server --timeout 0", true),
            ("--http 127.0.0.1:1 --bogus", false),
            ("serve --http=nowhere", false),
            ("sandbox --port 70000", false),
            ("doctor --bogus", false),
        ] {
            assert_eq!(meant_for_stdio(&args(line)), stdio, "{line}");
        }
    }

    #[test]
    fn help_and_version_are_printed_per_command() {
        let print = |line: &str, vars: &[(&str, &str)]| match parse_with(line, vars) {
            Ok(Command::Print(text)) => text,
            other => panic!("{line}: {other:?}"),
        };
        let top = print("--help", &[("CSTAR_API_KEY", KEY)]);
        for needle in ["--api-key", "CSTAR_API_KEY", "--http", "sandbox", "doctor"] {
            assert!(top.contains(needle), "--help lacks {needle}");
        }
        assert!(!top.contains(KEY), "help shows the key");
        let sandbox = print("sandbox --help", &[]);
        assert!(sandbox.contains("--port") && sandbox.contains("--forward-to"));
        assert!(sandbox.contains("--data") && sandbox.contains("hostile"));
        assert!(
            top.contains("--sandbox-data"),
            "--help lacks --sandbox-data"
        );
        assert!(!sandbox.contains("--api-key") && !sandbox.contains("--read-only"));
        let doctor = print("doctor -h", &[]);
        assert!(doctor.contains("--api-key") && !doctor.contains("--http"));
        assert_eq!(
            print("-V", &[]).trim(),
            format!("cstar-mcp {}", env!("CARGO_PKG_VERSION"))
        );
    }
}
