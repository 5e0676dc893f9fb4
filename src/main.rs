//! The `cstar-mcp` binary: parse arguments, send logs to stderr, run the
//! one command asked for.

use std::process::ExitCode;

use cstar_mcp::cli::{self, Command, LogConfig, LogFormat};
use cstar_mcp::{doctor, http, process, sandbox, stdio};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match cli::parse(&args, |name| std::env::var(name).ok()) {
        // `--help` and `--version` answer and exit before any server starts,
        // so nothing else can be writing MCP to stdout.
        Ok(Command::Print(text)) => {
            return match process::write_stdout(&text) {
                Ok(()) => ExitCode::SUCCESS,
                Err(_) => ExitCode::FAILURE,
            };
        }
        Ok(command) => command,
        Err(message) => {
            eprint!("{message}");
            // A client launched the stdio server: tell it, where it shows
            // errors, before exiting (see `stdio::misconfigured`).
            if cli::meant_for_stdio(&args)
                && stdio::terminal::serve_the_problem(stdio::terminal::stdin_is_terminal())
            {
                let problem = stdio::SetupProblem::command_line(&message);
                if let Ok(runtime) = runtime() {
                    runtime.block_on(stdio::serve_problem(problem));
                    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
                }
            }
            return ExitCode::from(2);
        }
    };
    if let Some(log) = command.log() {
        init_logging(log);
    }
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cstar-mcp: could not start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match command {
            Command::Serve(config) => stdio::serve(config).await,
            Command::ServeHttp(config, http) => http::serve(config, http).await,
            Command::Sandbox(config) => {
                sandbox::run_standalone(config.port, &config.forward_to, config.data).await
            }
            Command::Doctor(config) => doctor::run(config).await,
            Command::Print(_) => Ok(()),
        }
    });
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

/// A single-threaded runtime for every command. A stdio session is one
/// pipe, and the benchmark shows this starts faster, uses less memory and
/// CPU per call, and serves more calls per second (BENCHMARKS.md); the
/// HTTP server adds one such runtime per worker thread itself.
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// Logs go to stderr only: stdout is the MCP channel.
fn init_logging(log: &LogConfig) {
    let filter = tracing_subscriber::EnvFilter::try_new(log.filter.as_deref().unwrap_or("warn"))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false);
    match log.format {
        LogFormat::Text => logs.init(),
        // One object per line, with the fields of the enclosing spans (the
        // tool and the MCP request id) beside the event's own.
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
}
