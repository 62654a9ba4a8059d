// Finding the elexirion binary: the setting, else the binary bundled in a
// platform-specific package (server/elexirion), else PATH, else a message
// saying what to do. Pure, so it is tested without VS Code.

import * as path from "path";

/** Where the command came from, for the output channel. */
export type ServerSource = "setting" | "bundled" | "path";

export type Resolution = { command: string; source: ServerSource } | { error: string };

export interface Environment {
  /** The PATH variable. */
  pathVariable: string | undefined;
  platform: NodeJS.Platform;
  /** Whether a file exists and is executable. */
  isExecutable: (file: string) => boolean;
  /** An absolute path inside the extension (VS Code's context.asAbsolutePath); absent: no bundled binary. */
  asAbsolutePath?: (relative: string) => string;
}

/** The binary's file name on a platform. */
export function binaryName(platform: NodeJS.Platform): string {
  return platform === "win32" ? "elexirion.exe" : "elexirion";
}

/** Where a platform package carries the server, relative to the extension. */
export function bundledServerPath(platform: NodeJS.Platform): string {
  return `server/${binaryName(platform)}`;
}

export function resolveServer(configured: string | undefined, env: Environment): Resolution {
  const name = binaryName(env.platform);
  if (configured && configured.trim() !== "") {
    return env.isExecutable(configured)
      ? { command: configured, source: "setting" }
      : { error: `elexirion.server.path is set to "${configured}", which is not an executable file.` };
  }
  if (env.asAbsolutePath) {
    const bundled = env.asAbsolutePath(bundledServerPath(env.platform));
    if (env.isExecutable(bundled)) {
      return { command: bundled, source: "bundled" };
    }
  }
  const separator = env.platform === "win32" ? ";" : ":";
  for (const dir of (env.pathVariable ?? "").split(separator).filter((d) => d !== "")) {
    const candidate = path.join(dir, name);
    if (env.isExecutable(candidate)) {
      return { command: candidate, source: "path" };
    }
  }
  return {
    error:
      "The elexirion language server was not found: this package of the extension has none bundled, and there is none on PATH. " +
      "Install the extension's package for your platform, build it with `cargo install --path server` " +
      "in the Elexirion repository, or set elexirion.server.path to the binary.",
  };
}

/** The output channel's line saying which server is used. */
export function describeResolution(resolved: { command: string; source: ServerSource }): string {
  const from = { setting: "from elexirion.server.path", bundled: "bundled with the extension", path: "found on PATH" }[resolved.source];
  return `Using the elexirion server ${from}: ${resolved.command}`;
}
