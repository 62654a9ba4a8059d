// Which documents the server gets: Elixir files, and YAML that is a pipeline
// (by place) — not every YAML file.

export const DOCUMENT_SELECTOR = [
  { scheme: "file", language: "elixir" },
  { scheme: "file", language: "yaml", pattern: "**/pipelines/*.{yaml,yml}" },
  { scheme: "file", language: "yaml", pattern: "**/*.pipeline.{yaml,yml}" },
];

/** The same decision for a path (used by tests and the globs setting). */
export function isPipelinePath(file: string): boolean {
  const normalized = file.replace(/\\/g, "/");
  return /\/pipelines\/[^/]+\.ya?ml$/.test(normalized) || /\.pipeline\.ya?ml$/.test(normalized);
}
