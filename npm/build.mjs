#!/usr/bin/env node
// Builds the npm packages from compiled binaries, with every version taken
// from Cargo.toml:
//
//   node npm/build.mjs --out npm/dist --binary linux-x64=target/release/cstar-mcp [--binary ...]
//
// Writes npm/dist/cstar-mcp (the launcher) and one cstar-mcp-<target>
// package per --binary, ready for `npm pack` or `npm publish`.
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const TARGETS = {
  "linux-x64": { os: "linux", cpu: "x64", exe: "cstar-mcp" },
  "linux-arm64": { os: "linux", cpu: "arm64", exe: "cstar-mcp" },
  "darwin-x64": { os: "darwin", cpu: "x64", exe: "cstar-mcp" },
  "darwin-arm64": { os: "darwin", cpu: "arm64", exe: "cstar-mcp" },
  "win32-x64": { os: "win32", cpu: "x64", exe: "cstar-mcp.exe" },
};

function cargoVersion() {
  const manifest = readFileSync(join(here, "..", "Cargo.toml"), "utf8");
  const pkg = manifest.split(/^\[/m).find((section) => section.startsWith("package]"));
  const match = pkg && pkg.match(/^version\s*=\s*"([^"]+)"/m);
  if (!match) throw new Error("no [package] version in Cargo.toml");
  return match[1];
}

function parseArgs(argv) {
  const options = { out: join(here, "dist"), binaries: {} };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--out") options.out = resolve(argv[++i]);
    else if (argv[i] === "--binary") {
      const [target, path] = argv[++i].split("=");
      if (!TARGETS[target]) throw new Error(`unknown target ${target}; known: ${Object.keys(TARGETS).join(", ")}`);
      options.binaries[target] = resolve(path);
    } else throw new Error(`unknown argument ${argv[i]}`);
  }
  return options;
}

const options = parseArgs(process.argv.slice(2));
const version = cargoVersion();
rmSync(options.out, { recursive: true, force: true });

const main = JSON.parse(readFileSync(join(here, "cstar-mcp", "package.json"), "utf8"));
main.version = version;
for (const name of Object.keys(main.optionalDependencies)) main.optionalDependencies[name] = version;
const mainDir = join(options.out, "cstar-mcp");
mkdirSync(join(mainDir, "bin"), { recursive: true });
writeFileSync(join(mainDir, "package.json"), JSON.stringify(main, null, 2) + "\n");
copyFileSync(join(here, "cstar-mcp", "README.md"), join(mainDir, "README.md"));
copyFileSync(join(here, "cstar-mcp", "bin", "cstar-mcp.js"), join(mainDir, "bin", "cstar-mcp.js"));
chmodSync(join(mainDir, "bin", "cstar-mcp.js"), 0o755);

for (const [target, binary] of Object.entries(options.binaries)) {
  const { os, cpu, exe } = TARGETS[target];
  const name = `cstar-mcp-${target}`;
  const dir = join(options.out, name);
  mkdirSync(join(dir, "bin"), { recursive: true });
  copyFileSync(binary, join(dir, "bin", exe));
  chmodSync(join(dir, "bin", exe), 0o755);
  const pkg = {
    name,
    version,
    description: `The cstar-mcp binary for ${os} ${cpu}. Install cstar-mcp instead; it picks this package.`,
    license: main.license,
    os: [os],
    cpu: [cpu],
    files: [`bin/${exe}`],
    preferUnplugged: true,
  };
  writeFileSync(join(dir, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
  writeFileSync(join(dir, "README.md"), `# ${name}\n\nThe prebuilt \`cstar-mcp\` binary for ${os} ${cpu}. Install \`cstar-mcp\`, which uses it.\n`);
}
console.log(`built cstar-mcp ${version} with ${Object.keys(options.binaries).join(", ") || "no binaries"} in ${options.out}`);
