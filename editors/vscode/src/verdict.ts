// "Judge the last AI edit": the server remembers, per document, the run
// whose edit was applied to it (`elexirion.lastAiEdit`); the verdict goes to
// that run by its id, or the user is told there is none. Nothing here needs
// VS Code, so it is tested with node's runner.

export type VerdictName = "accepted" | "edited" | "rejected";

/** The answer to `elexirion.lastAiEdit {uri}`. */
export interface LastAiEdit {
  runId: string | null;
  pipeline?: string;
  step?: string | null;
  verdict?: VerdictName | null;
  startedAt?: string | null;
  file?: string;
  /** Why there is no run to judge, when `runId` is null. */
  message?: string;
}

/** The run to judge, or the sentence saying why there is none. */
export function runToJudge(answer: unknown): { run: LastAiEdit & { runId: string } } | { none: string } {
  const last = (typeof answer === "object" && answer !== null ? answer : {}) as LastAiEdit;
  if (typeof last.runId === "string" && last.runId !== "") {
    return { run: last as LastAiEdit & { runId: string } };
  }
  return { none: `Elexirion: ${last.message ?? "no AI edit was applied to this file in this session, so there is nothing of it to judge"}` };
}

/** The question the verdict picker asks: which run, which step, judged how so far. */
export function verdictQuestion(run: LastAiEdit & { runId: string }): string {
  const step = run.step ? ` (step ${run.step})` : "";
  const soFar = run.verdict ? `, now ${run.verdict}` : "";
  return `How did the ${run.pipeline ?? "pipeline"} edit of ${run.file ?? "this file"} turn out? Run ${run.runId}${step}${soFar}`;
}

/**
 * The `elexirion.recordVerdict` argument: the run by its id and the
 * document it edited (the server refuses if that document's last AI edit
 * is another run); for `edited`, that document's text as the final result.
 */
export function verdictArgument(run: { runId: string }, uri: string, verdict: VerdictName, documentText: string): Record<string, string> {
  const argument: Record<string, string> = { invocation: run.runId, uri, verdict };
  if (verdict === "edited") {
    argument.finalText = documentText;
  }
  return argument;
}

/** What the server said it judged ("run … of …: rewrite: accepted → edited"). */
export function verdictMessage(result: unknown): string {
  const message = typeof result === "object" && result !== null ? (result as { message?: unknown }).message : undefined;
  return `Elexirion: ${typeof message === "string" && message !== "" ? message : "verdict recorded"}`;
}
