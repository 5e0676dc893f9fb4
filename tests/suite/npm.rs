//! The npm launch path as a user meets it: the packages built from the
//! binary, packed, installed from the tarballs alone, and started through
//! `npx` with no Rust toolchain on PATH; and every documented client config
//! parsed and started.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

use super::harness::exits_cleanly;
use super::stdio::{by_id, initialize, request, session};

const BINARY: &str = env!("CARGO_BIN_EXE_cstar-mcp");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// PATH without cargo or rustup, as on a machine with only Node.
fn path_without_rust() -> String {
    std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .filter(|dir| !dir.contains(".cargo") && !dir.contains("rustup"))
        .collect::<Vec<_>>()
        .join(":")
}

fn run(program: &str, args: &[&str], dir: &Path) -> String {
    let output = std::process::Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("PATH", path_without_rust())
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Builds, packs and installs the packages into a fresh app folder.
fn install() -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let work = std::env::temp_dir().join(format!("cstar-mcp-npm-{}-{nanos}", std::process::id()));
    let (dist, tarballs, app) = (work.join("dist"), work.join("tarballs"), work.join("app"));
    for dir in [&tarballs, &app] {
        std::fs::create_dir_all(dir).unwrap();
    }
    let binary = format!("linux-x64={BINARY}");
    run(
        "node",
        &[
            "npm/build.mjs",
            "--out",
            dist.to_str().unwrap(),
            "--binary",
            &binary,
        ],
        Path::new(ROOT),
    );
    for package in ["cstar-mcp", "cstar-mcp-linux-x64"] {
        run(
            "npm",
            &[
                "pack",
                "--silent",
                "--pack-destination",
                tarballs.to_str().unwrap(),
            ],
            &dist.join(package),
        );
    }
    std::fs::write(
        app.join("package.json"),
        r#"{ "name": "app", "version": "1.0.0", "private": true }"#,
    )
    .unwrap();
    let version = env!("CARGO_PKG_VERSION");
    let main = tarballs.join(format!("cstar-mcp-{version}.tgz"));
    let platform = tarballs.join(format!("cstar-mcp-linux-x64-{version}.tgz"));
    run(
        "npm",
        &[
            "install",
            "--offline",
            "--no-audit",
            "--no-fund",
            platform.to_str().unwrap(),
            main.to_str().unwrap(),
        ],
        &app,
    );
    app
}

/// Starts `program args` in `dir` with `env`, and lists the tools over stdio.
async fn list_tools(program: &str, args: &[String], env: &[(String, String)], dir: &Path) -> Value {
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(dir)
        .env("PATH", path_without_rust())
        .env_remove("CSTAR_API_KEY")
        .env_remove("CSTAR_BASE_URL")
        .envs(env.iter().cloned())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = command.spawn().unwrap();
    let (lines, stderr, code) = session(
        child,
        &[
            initialize("2025-06-18"),
            json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }),
            request(2, "tools/list", json!({})),
        ],
    )
    .await;
    assert_eq!(code, Some(0), "{program} {args:?}: {stderr}");
    assert_eq!(
        by_id(&lines, 1)["result"]["serverInfo"]["name"],
        "cstar-mcp"
    );
    by_id(&lines, 2)["result"]["tools"].clone()
}

/// (command, args, env) of one configured server.
type Launch = (String, Vec<String>, Vec<(String, String)>);

fn launch_of(server: &Value) -> Launch {
    let strings = |v: &Value| {
        v.as_array()
            .map(|a| a.iter().map(|s| s.as_str().unwrap().to_owned()).collect())
            .unwrap_or_default()
    };
    let env = server["env"]
        .as_object()
        .map(|e| {
            e.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    (
        server["command"].as_str().unwrap().to_owned(),
        strings(&server["args"]),
        env,
    )
}

/// Every documented config: (file, launches).
fn documented_configs() -> Vec<(&'static str, Vec<Launch>)> {
    let read = |path: &str| std::fs::read_to_string(Path::new(ROOT).join(path)).unwrap();
    let json_servers = |path: &str, key: &str| -> Vec<Launch> {
        let config: Value =
            serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        config[key]
            .as_object()
            .unwrap()
            .values()
            .map(launch_of)
            .collect()
    };
    let continue_yaml: Value =
        serde_yaml::from_str(&read("examples/clients/continue.yaml")).expect("valid YAML");
    assert_eq!(continue_yaml["schema"], "v1");
    let continue_servers = continue_yaml["mcpServers"]
        .as_array()
        .unwrap()
        .iter()
        .map(launch_of)
        .collect();
    let line = read("examples/clients/claude-code.sh");
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(&words[..4], ["claude", "mcp", "add", "cstar"], "{line}");
    let split = words
        .iter()
        .position(|w| *w == "--")
        .expect("-- before the command");
    let env = words[..split]
        .windows(2)
        .filter(|pair| pair[0] == "-e")
        .map(|pair| {
            let (k, v) = pair[1].split_once('=').unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect();
    let claude_code = vec![(
        words[split + 1].to_owned(),
        words[split + 2..].iter().map(|w| w.to_string()).collect(),
        env,
    )];
    let codex: Value = toml::from_str(&read(CODEX_CONFIG)).expect("valid TOML");
    let codex_servers = vec![launch_of(&codex["mcp_servers"]["cstar"])];
    vec![
        (
            "mcp.json.example",
            json_servers("mcp.json.example", "mcpServers"),
        ),
        (
            "examples/clients/claude_desktop_config.json",
            json_servers("examples/clients/claude_desktop_config.json", "mcpServers"),
        ),
        (
            "examples/clients/vscode-mcp.json",
            json_servers("examples/clients/vscode-mcp.json", "servers"),
        ),
        ("examples/clients/continue.yaml", continue_servers),
        ("examples/clients/claude-code.sh", claude_code),
        (CODEX_CONFIG, codex_servers),
    ]
}

/// The Codex CLI `config.toml` the README shows.
const CODEX_CONFIG: &str = "examples/clients/codex-config.toml";

#[tokio::test]
async fn the_codex_config_requires_the_server_and_approves_exactly_its_write_tools() {
    let config: Value =
        toml::from_str(&std::fs::read_to_string(Path::new(ROOT).join(CODEX_CONFIG)).unwrap())
            .unwrap();
    let server = &config["mcp_servers"]["cstar"];
    assert_eq!(server["required"], true);
    let mut approved: Vec<&str> = server["tools"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, tool)| {
            assert_eq!(tool, &json!({ "approval_mode": "approve" }), "{name}");
            name.as_str()
        })
        .collect();
    let tools = list_tools(BINARY, &["--sandbox".into()], &[], Path::new(ROOT)).await;
    // Codex asks before every tool not marked read-only.
    let mut writes: Vec<&str> = tools
        .as_array()
        .unwrap()
        .iter()
        .filter(|tool| tool["annotations"]["readOnlyHint"] != true)
        .map(|tool| tool["name"].as_str().unwrap())
        .collect();
    approved.sort_unstable();
    writes.sort_unstable();
    assert_eq!(approved, writes);
}

#[test]
fn documented_configs_are_valid_and_in_the_readme() {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    for (file, launches) in documented_configs() {
        let text = std::fs::read_to_string(Path::new(ROOT).join(file)).unwrap();
        assert!(
            readme.contains(text.trim_end()),
            "README.md does not show {file} as it is"
        );
        assert!(!launches.is_empty(), "{file}");
        for (command, args, env) in launches {
            assert_eq!(
                (command.as_str(), &args[..2]),
                ("npx", &["-y".to_owned(), "cstar-mcp".to_owned()][..]),
                "{file}"
            );
            let sandbox = args.iter().any(|a| a == "--sandbox");
            let key = env
                .iter()
                .find(|(k, _)| k == "CSTAR_API_KEY")
                .map(|(_, v)| v.clone());
            assert!(
                sandbox || key.is_some(),
                "{file}: a real-account entry sets CSTAR_API_KEY in env"
            );
            assert!(
                !args
                    .iter()
                    .any(|a| a.starts_with("sk_") || a.starts_with("pk_")),
                "{file}: no key in args"
            );
        }
    }
    let vscode: Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(ROOT).join("examples/clients/vscode-mcp.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(vscode["inputs"][0]["password"], true);
    assert_eq!(
        vscode["servers"]["cstar"]["env"]["CSTAR_API_KEY"],
        "${input:cstar-api-key}"
    );
}

#[tokio::test]
async fn the_npm_packages_launch_through_npx_without_rust() {
    let node = std::process::Command::new("npm")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !node {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have Node.js and npm"
        );
        eprintln!("skipped: the npm launch-path test needs Node.js and npm on PATH");
        return;
    }
    let app = tokio::task::spawn_blocking(install).await.unwrap();
    let version = run("npx", &["--no-install", "cstar-mcp", "--version"], &app);
    assert_eq!(
        version.trim(),
        format!("cstar-mcp {}", env!("CARGO_PKG_VERSION"))
    );

    let tools = list_tools("npx", &["cstar-mcp".into(), "--sandbox".into()], &[], &app).await;
    assert_eq!(tools.as_array().unwrap().len(), 9);

    for (file, launches) in documented_configs() {
        for (command, args, env) in launches {
            let env: Vec<(String, String)> = env
                .into_iter()
                .map(|(k, v)| {
                    (
                        k,
                        v.replace(
                            "${input:cstar-api-key}",
                            "sk_test_typedIntoVsCodePrompt000000001",
                        ),
                    )
                })
                .collect();
            let tools = list_tools(&command, &args, &env, &app).await;
            assert_eq!(
                tools.as_array().unwrap().len(),
                9,
                "{file}: {command} {args:?}"
            );
        }
    }

    let bogus = std::process::Command::new("npx")
        .args(["--no-install", "cstar-mcp", "--bogus"])
        .current_dir(&app)
        .env("PATH", path_without_rust())
        .output()
        .unwrap();
    assert_eq!(bogus.status.code(), Some(2), "the exit code passes through");
    assert!(String::from_utf8_lossy(&bogus.stderr).contains("unexpected argument"));

    // Signals pass through the launcher, and its exit mirrors the binary's.
    let launcher = app.join("node_modules/cstar-mcp/bin/cstar-mcp.js");
    let mut child = Command::new("node")
        .arg(&launcher)
        .arg("--sandbox")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(format!("{}\n", initialize("2025-11-25")).as_bytes())
        .await
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(10), stdout.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(first.contains("cstar-mcp"));
    let pid = child.id().unwrap().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    exits_cleanly(
        &mut child,
        "SIGTERM reached the binary, which stopped cleanly",
    )
    .await;

    // A missing platform package is named.
    let platform = app.join("node_modules/cstar-mcp-linux-x64");
    let moved = app.join("cstar-mcp-linux-x64.moved");
    std::fs::rename(&platform, &moved).unwrap();
    let missing = std::process::Command::new("node")
        .arg(&launcher)
        .arg("--version")
        .output()
        .unwrap();
    std::fs::rename(&moved, &platform).unwrap();
    assert_eq!(missing.status.code(), Some(1));
    let message = String::from_utf8_lossy(&missing.stderr);
    assert!(
        message.contains("cstar-mcp-linux-x64") && message.contains("not installed"),
        "{message}"
    );
    let _ = std::fs::remove_dir_all(app.parent().unwrap());
}

#[test]
fn the_workflows_parse_and_build_every_npm_target() {
    let read = |path: &str| std::fs::read_to_string(Path::new(ROOT).join(path)).unwrap();
    let ci: Value =
        serde_yaml::from_str(&read(".github/workflows/ci.yml")).expect("ci.yml is YAML");
    let steps = ci["jobs"]["ci"]["steps"].as_array().unwrap();
    assert!(
        steps.iter().any(|s| s["run"] == "bash .ci/run"),
        "ci.yml runs .ci/run"
    );
    let release_text = read(".github/workflows/release.yml");
    let release: Value = serde_yaml::from_str(&release_text).expect("release.yml is YAML");
    let targets: Vec<&str> = release["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["npm"].as_str().unwrap())
        .collect();
    assert_eq!(
        targets,
        [
            "linux-x64",
            "linux-arm64",
            "darwin-x64",
            "darwin-arm64",
            "win32-x64"
        ]
    );
    let launcher = read("npm/cstar-mcp/package.json");
    for target in targets {
        assert!(
            release_text.contains(&format!("--binary {target}=")),
            "release.yml packs {target}"
        );
        assert!(
            launcher.contains(&format!("\"cstar-mcp-{target}\"")),
            "the launcher depends on {target}"
        );
    }
}
