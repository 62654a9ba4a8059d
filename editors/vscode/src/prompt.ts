// "Show the optimized prompt for a step": which step the cursor is on in a
// pipeline file, and the server's answer as a Markdown document.

export interface StepRef {
  pipeline: string;
  step: string;
}

/** The workflow's name and the step whose `- name:` is nearest above `line`. */
export function stepAtLine(lines: string[], line: number): Partial<StepRef> {
  const unquote = (value: string) => value.trim().replace(/^["']|["']$/g, "");
  let pipeline: string | undefined;
  for (const text of lines) {
    const match = /^ {1,2}name:\s*(\S.*)$/.exec(text);
    if (match) {
      pipeline = unquote(match[1]);
      break;
    }
  }
  let step: string | undefined;
  for (let i = Math.min(line, lines.length - 1); i >= 0; i--) {
    const match = /^\s*-\s+name:\s*(\S.*)$/.exec(lines[i]);
    if (match) {
      step = unquote(match[1]);
      break;
    }
  }
  return { pipeline, step };
}

/** What `elexirion/optimizedPrompt` answers. */
export interface OptimizedPrompt {
  version: number;
  source: string;
  demos: number;
  notes?: string | null;
  createdAt?: string;
  record: { runs: number; accepted: number; edited: number; rejected: number; mean_latency_ms: number };
  prompt: string;
}

export function formatPrompt(ref: StepRef, answer: OptimizedPrompt | null): string {
  if (!answer) {
    return `# ${ref.pipeline} / ${ref.step}\n\nThe store has no optimized prompt for this step yet: it runs with the prompt written in the pipeline.\n`;
  }
  const r = answer.record;
  const lines = [
    `# ${ref.pipeline} / ${ref.step}: version ${answer.version} (${answer.source})`,
    "",
    `${answer.demos} demos · ${r.runs} runs · ${r.accepted + r.edited} accepted · ${r.rejected} rejected · mean latency ${Math.round(r.mean_latency_ms)} ms`,
  ];
  if (answer.notes) {
    lines.push("", answer.notes);
  }
  lines.push("", "```text", answer.prompt.replace(/```/g, "``\u200b`"), "```", "");
  return lines.join("\n");
}
