// What became of a pipeline run: the result of `elexirion.runPipeline`
// (answered when the run is over) as the message to show.

import { fileURLToPath } from "node:url";

export type Outcome = "applied" | "declined" | "findings" | "shown" | "refused" | "failed" | "cancelled";

export interface RunResult {
  runId?: string;
  outcome: Outcome;
  message?: string | null;
  count?: number;
  uri?: string;
  notes?: string[];
}

export interface RunMessage {
  severity: "information" | "error";
  text: string;
}

const pathOf = (uri: unknown): unknown => {
  try {
    return typeof uri === "string" ? fileURLToPath(uri) : uri;
  } catch {
    return uri;
  }
};

const detail = (base: string, more: unknown) => (typeof more === "string" && more !== "" ? `${base}: ${more}` : base);

/** Each outcome's sentence and severity; a cancelled run says nothing (the user cancelled it). */
const FORMATS: Record<Exclude<Outcome, "cancelled">, (r: RunResult) => RunMessage> = {
  applied: (r) => ({ severity: "information", text: detail("applied", r.message) }),
  declined: () => ({ severity: "information", text: "declined; nothing changed" }),
  findings: (r) => ({ severity: "information", text: `${r.message || "findings"}, shown as diagnostics` }),
  shown: (r) => ({ severity: "information", text: detail("opened", pathOf(r.uri)) }),
  refused: (r) => ({ severity: "error", text: detail("not applied", r.message) }),
  failed: (r) => ({ severity: "error", text: detail("failed", r.message) }),
};

/** The message for a run's result, or undefined when there is nothing to say. */
export function runMessage(pipeline: string | undefined, result: unknown): RunMessage | undefined {
  if (typeof result !== "object" || result === null) {
    return undefined;
  }
  const run = result as RunResult;
  const format = Object.prototype.hasOwnProperty.call(FORMATS, run.outcome) ? FORMATS[run.outcome as keyof typeof FORMATS] : undefined;
  if (!format) {
    return undefined;
  }
  const { severity, text } = format(run);
  const notes = Array.isArray(run.notes) && run.notes.length > 0 ? `\nThe answer also suggests:\n${run.notes.map((n) => `- ${n}`).join("\n")}` : "";
  return { severity, text: `Elexirion: ${pipeline ?? "pipeline"} ${text}${notes}` };
}

/** The pipeline named in a runPipeline command's arguments. */
export function pipelineOf(args: unknown[] | undefined): string | undefined {
  const first = args?.[0];
  return typeof first === "object" && first !== null && typeof (first as { pipeline?: unknown }).pipeline === "string" ? (first as { pipeline: string }).pipeline : undefined;
}
