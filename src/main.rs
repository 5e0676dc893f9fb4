//! The `cstar-mcp` binary: parse arguments, send logs to stderr, run.

use std::process::ExitCode;

use cstar_mcp::cli::{self, Command, HELP, LogFormat};
use cstar_mcp::serve;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match cli::parse(&args, |name| std::env::var(name).ok()) {
        Ok(command) => command,
        Err(message) => {
            eprintln!("cstar-mcp: {message}");
            return ExitCode::from(2);
        }
    };
    let (log_level, log_format) = match &command {
        Command::Serve(config) | Command::Doctor(config) => {
            (config.log_level.clone(), config.log_format)
        }
        _ => (std::env::var("RUST_LOG").ok(), LogFormat::Text),
    };
    init_logging(log_level.as_deref(), log_format);
    let runtime = match runtime_for(&command).enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cstar-mcp: could not start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = match command {
        Command::Help => {
            print!("{HELP}");
            Ok(())
        }
        Command::Version => {
            println!("cstar-mcp {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Command::Sandbox { port, forward_to } => {
            runtime.block_on(serve::run_sandbox(port, &forward_to))
        }
        Command::Doctor(config) => runtime.block_on(serve::run_doctor(config)),
        Command::Serve(config) => runtime.block_on(serve::serve_stdio(config)),
    };
    // Do not wait for stdin readers or idle connections to wind down.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("cstar-mcp: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// One thread for a stdio session: it is one pipe, and the benchmark shows
/// a single-threaded runtime starts faster, uses less memory and CPU per
/// call, and still serves more calls per second (BENCHMARKS.md). The
/// shared HTTP server runs on every core, so one slow request never
/// holds up the others.
fn runtime_for(command: &Command) -> tokio::runtime::Builder {
    match command {
        Command::Serve(config) if config.http.is_some() => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            if config.limits.workers > 0 {
                builder.worker_threads(config.limits.workers);
            }
            builder
        }
        _ => tokio::runtime::Builder::new_current_thread(),
    }
}

/// Logs go to stderr only: stdout is the MCP channel.
fn init_logging(filter: Option<&str>, format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter.unwrap_or("warn"))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false);
    match format {
        LogFormat::Text => logs.init(),
        // One object per line, with the fields of the enclosing spans (the
        // tool and the MCP request id) beside the event's own.
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
}
