#!/usr/bin/env node
// A platform-specific package of the extension, with the server inside (as
// ruff and rust-analyzer ship theirs):
//
//   node scripts/package-platform.mjs <vscode-target> <path of the elexirion binary>
//   e.g. node scripts/package-platform.mjs linux-x64 ../../target/release/elexirion
//
// Copies the binary to server/elexirion (server/elexirion.exe for win32-*),
// runs `vsce package --target <target>` into elexirion-<target>.vsix, checks
// that the package holds extension/server/<binary> (executable, off Windows),
// and removes server/ again. The extension runs that binary when
// elexirion.server.path is not set (src/server.ts).

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

// VS Code's platform targets (`vsce package --help`), but `web`: it runs no binary.
const TARGETS = [
  "win32-x64", "win32-arm64",
  "linux-x64", "linux-arm64", "linux-armhf",
  "alpine-x64", "alpine-arm64",
  "darwin-x64", "darwin-arm64",
];

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function fail(message) {
  console.error(`package-platform: ${message}`);
  process.exit(1);
}

/** The entries of a zip file, from its central directory: name and Unix mode. */
function zipEntries(file) {
  const data = fs.readFileSync(file);
  let end = -1;
  for (let i = data.length - 22; i >= Math.max(0, data.length - 22 - 0xffff); i--) {
    if (data.readUInt32LE(i) === 0x06054b50) {
      end = i;
      break;
    }
  }
  if (end < 0) {
    fail(`${file} is not a zip file`);
  }
  const count = data.readUInt16LE(end + 10);
  let at = data.readUInt32LE(end + 16);
  const entries = [];
  for (let n = 0; n < count; n++) {
    if (data.readUInt32LE(at) !== 0x02014b50) {
      fail(`${file}: broken central directory`);
    }
    const madeBy = data.readUInt16LE(at + 4) >> 8; // 3: Unix, so the high bits of the attributes are a mode
    const size = data.readUInt32LE(at + 24);
    const nameLength = data.readUInt16LE(at + 28);
    const extraLength = data.readUInt16LE(at + 30);
    const commentLength = data.readUInt16LE(at + 32);
    const attributes = data.readUInt32LE(at + 38);
    const name = data.toString("utf8", at + 46, at + 46 + nameLength);
    entries.push({ name, size, mode: madeBy === 3 ? attributes >>> 16 : undefined });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

const [target, binary] = process.argv.slice(2);
if (!target || !binary) {
  fail(`usage: node scripts/package-platform.mjs <target> <elexirion binary>\n  targets: ${TARGETS.join(", ")}`);
}
if (!TARGETS.includes(target)) {
  fail(`unknown target "${target}"; one of ${TARGETS.join(", ")}`);
}
const source = path.resolve(binary);
if (!fs.existsSync(source) || !fs.statSync(source).isFile()) {
  fail(`no binary at ${source}`);
}

const windows = target.startsWith("win32-");
const name = windows ? "elexirion.exe" : "elexirion";
const serverDir = path.join(root, "server");
const output = `elexirion-${target}.vsix`;
const vsce = path.join(root, "node_modules", ".bin", process.platform === "win32" ? "vsce.cmd" : "vsce");
if (!fs.existsSync(vsce)) {
  fail(`${vsce} is missing: run \`npm ci\` first`);
}

fs.rmSync(serverDir, { recursive: true, force: true });
fs.mkdirSync(serverDir);
let bundledSize = fs.statSync(source).size;
try {
  const bundled = path.join(serverDir, name);
  fs.copyFileSync(source, bundled);
  fs.chmodSync(bundled, 0o755);
  // The release build keeps line tables for backtraces; users need none of
  // that, and it is most of the binary. Stripped when this host can.
  if (target.startsWith("linux-") && process.platform === "linux" && spawnSync("strip", ["--strip-debug", bundled]).status === 0) {
    bundledSize = fs.statSync(bundled).size;
    console.log(`package-platform: debug info stripped (${bundledSize} bytes)`);
  }
  console.log(`package-platform: ${source} -> server/${name}`);
  const result = spawnSync(
    vsce,
    ["package", "--target", target, "--skip-license", "--allow-missing-repository", "-o", output],
    { cwd: root, stdio: "inherit", shell: process.platform === "win32" },
  );
  if (result.status !== 0) {
    fail(`vsce package --target ${target} failed (${result.error?.message ?? `exit ${result.status}`})`);
  }
} finally {
  fs.rmSync(serverDir, { recursive: true, force: true });
}

const entries = zipEntries(path.join(root, output));
const dependencies = entries.filter((entry) => entry.name.startsWith("extension/node_modules/"));
for (const entry of entries.filter((entry) => !dependencies.includes(entry))) {
  console.log(`${String(entry.size).padStart(12)}  ${entry.mode === undefined ? "      " : (entry.mode & 0o7777).toString(8).padStart(6)}  ${entry.name}`);
}
console.log(`${" ".repeat(20)}(and ${dependencies.length} files under extension/node_modules/)`);
const server = entries.find((entry) => entry.name === `extension/server/${name}`);
if (!server) {
  fail(`${output} has no extension/server/${name}`);
}
if (server.size !== bundledSize) {
  fail(`${output}: extension/server/${name} is ${server.size} bytes, the binary ${bundledSize}`);
}
if (!windows && server.mode !== undefined && (server.mode & 0o111) === 0) {
  fail(`${output}: extension/server/${name} is not executable (mode ${(server.mode & 0o7777).toString(8)})`);
}
console.log(`package-platform: ${output} (${target}) holds extension/server/${name}`);
