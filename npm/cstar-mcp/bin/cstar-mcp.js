#!/usr/bin/env node
// Runs the prebuilt cstar-mcp binary for this platform, installed as an
// optional dependency (cstar-mcp-<platform>-<arch>). Arguments, stdio, the
// exit code and signals pass straight through; nothing is downloaded.
"use strict";

const { spawn } = require("node:child_process");
const { version } = require("../package.json");

const PACKAGES = {
  "linux x64": "cstar-mcp-linux-x64",
  "linux arm64": "cstar-mcp-linux-arm64",
  "darwin x64": "cstar-mcp-darwin-x64",
  "darwin arm64": "cstar-mcp-darwin-arm64",
  "win32 x64": "cstar-mcp-win32-x64",
};

function fail(message) {
  process.stderr.write(`cstar-mcp: ${message}\n`);
  process.exit(1);
}

function binaryPath() {
  if (process.env.CSTAR_MCP_BINARY) {
    return process.env.CSTAR_MCP_BINARY;
  }
  const platform = `${process.platform} ${process.arch}`;
  const pkg = PACKAGES[platform];
  if (!pkg) {
    fail(
      `no prebuilt binary for ${platform}. Prebuilt: ${Object.keys(PACKAGES).join(", ")}. ` +
        "Build from source instead: cargo install cstar-mcp",
    );
  }
  const exe = process.platform === "win32" ? "cstar-mcp.exe" : "cstar-mcp";
  try {
    return require.resolve(`${pkg}/bin/${exe}`);
  } catch {
    fail(
      `the package ${pkg}, which holds the binary for ${platform}, is not installed. ` +
        "It is an optional dependency of cstar-mcp: install without --no-optional or --omit=optional, " +
        `or add it directly: npm install ${pkg}@${version}`,
    );
  }
}

const child = spawn(binaryPath(), process.argv.slice(2), { stdio: "inherit", windowsHide: true });

const forwarded = ["SIGINT", "SIGTERM", "SIGHUP"];
for (const signal of forwarded) {
  process.on(signal, () => child.kill(signal));
}

child.on("error", (error) => fail(`could not start the binary: ${error.message}`));
child.on("exit", (code, signal) => {
  if (signal) {
    // End the same way the binary did, so the caller sees the signal.
    for (const forwardedSignal of forwarded) process.removeAllListeners(forwardedSignal);
    process.kill(process.pid, signal);
    return;
  }
  process.exit(code ?? 1);
});
