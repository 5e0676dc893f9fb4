//! Who is on the other end of stdin. A client pipes JSON-RPC in; a person
//! who ran the binary in a terminal gets a word on stderr about what the
//! process is waiting for, and a configuration problem stops it at once,
//! since they can read it there.

use std::io::IsTerminal as _;

/// Whether stdin is a terminal, that is, a person rather than a client.
pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

/// What a person sees on stderr when the server waits on their terminal,
/// `program` being the path of this binary.
fn greeting_for(program: &str) -> String {
    format!(
        "cstar-mcp is serving MCP on stdin/stdout and waiting for a client to send JSON-RPC. \
         It is meant to be started by an MCP client: add it to the client's mcpServers \
         configuration (see README.md), or try it in the MCP Inspector with \
         `npx @modelcontextprotocol/inspector {program} --sandbox`. Press Ctrl-C to quit.\n"
    )
}

/// The greeting to print, only when stdin is a terminal: a client's pipe
/// gets nothing extra.
pub fn greeting(stdin_is_terminal: bool) -> Option<String> {
    stdin_is_terminal.then(|| {
        let program = std::env::current_exe()
            .map(|path| path.display().to_string())
            .unwrap_or_else(|_| "cstar-mcp".to_owned());
        greeting_for(&program)
    })
}

/// Whether a configuration problem is served to a client as a
/// misconfigured session (a pipe: a client that would otherwise show only
/// "Failed to connect") rather than ending the process at once (a terminal:
/// the person reads stderr).
pub fn serve_the_problem(stdin_is_terminal: bool) -> bool {
    !stdin_is_terminal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_terminal_is_greeted_and_told_how_to_connect_and_a_pipe_is_not() {
        let text = greeting(true).unwrap();
        let program = std::env::current_exe().unwrap();
        let inspector = format!(
            "npx @modelcontextprotocol/inspector {} --sandbox",
            program.display()
        );
        for needle in ["stdin/stdout", "mcpServers", &inspector, "Ctrl-C"] {
            assert!(text.contains(needle), "the greeting lacks {needle}");
        }
        assert_eq!(greeting(false), None);
    }

    #[test]
    fn a_problem_is_served_to_a_pipe_and_ends_a_terminal_session() {
        assert!(serve_the_problem(false));
        assert!(!serve_the_problem(true));
    }
}
