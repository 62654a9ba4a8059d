// VS Code settings -> the server's settings (the keys of elexirion.toml).
// Only values the user set are sent, so elexirion.toml keeps the rest.

/** Reads a setting; `undefined` when the user did not set it. */
export type Getter = (key: string) => unknown;

/** Setting (under `elexirion.`) -> [section, key] in the server's settings. */
export const MAPPING: Record<string, [string, string]> = {
  "rules.disable": ["rules", "disable"],
  "rules.maxParameters": ["rules", "max-parameters"],
  "rules.structFieldsLimit": ["rules", "struct-fields-limit"],
  "rules.maxElseClauses": ["rules", "max-else-clauses"],
  "pipelines.globs": ["pipelines", "globs"],
  "providers.claude": ["providers", "claude"],
  "providers.gemini": ["providers", "gemini"],
  "providers.models": ["providers", "models"],
  "providers.baseUrls": ["providers", "base-urls"],
  "providers.timeoutSeconds": ["providers", "timeout-seconds"],
  "providers.maxRetries": ["providers", "max-retries"],
  "store.mode": ["store", "mode"],
  "store.path": ["store", "path"],
  "store.enabled": ["store", "enabled"],
};

/** Settings read by the extension itself, not sent to the server. */
export const CLIENT_ONLY = ["server.path", "log.level"];

export function serverSettings(get: Getter): Record<string, Record<string, unknown>> {
  const settings: Record<string, Record<string, unknown>> = {};
  for (const [key, [section, name]] of Object.entries(MAPPING)) {
    const value = get(key);
    if (value !== undefined && value !== null) {
      (settings[section] ??= {})[name] = value;
    }
  }
  return settings;
}

/** API keys (from SecretStorage) and the log level, as the server's environment. */
export function serverEnvironment(base: NodeJS.ProcessEnv, keys: Record<string, string | undefined>, logLevel: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, ELEXIRION_LOG: logLevel };
  for (const [variable, value] of Object.entries(keys)) {
    if (value) {
      env[variable] = value;
    }
  }
  return env;
}

export const KEY_VARIABLES = ["ANTHROPIC_API_KEY", "GEMINI_API_KEY", "OPENAI_API_KEY"];
