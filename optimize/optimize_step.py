#!/usr/bin/env python3
"""Optimize one pipeline step's prompt with DSPy, from the examples
Elexirion recorded, and import the result back into its store.

    python optimize/optimize_step.py --pipeline fix_otp_antipatterns --step rewrite \
        --model anthropic/claude-sonnet-4-5

1. `elexirion store export-examples` gives the step's judged examples
   (or pass --trainset FILE.jsonl); accepted and edited ones are the trainset.
2. A `dspy.Predict` over the examples' fields (inputs -> the output field),
   with the step's current instructions, is compiled with BootstrapFewShot
   (or MIPROv2) against a metric comparing answers to the accepted results.
3. The compiled program is saved with `Module.save` (JSON) and imported with
   `elexirion store import-dspy`, so optimized and hybrid modes can serve it.

--dummy-lm compiles offline with DSPy's DummyLM answering the accepted
results; it exercises the whole loop without a model (used by the tests).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

# litellm would fetch its model price list from the network on import.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import dspy  # noqa: E402
from dspy.utils.dummies import DummyLM  # noqa: E402

ACCEPTED = {"accepted", "edited"}


def token_f1(answer, expected):
    a, b = set(answer.split()), set(expected.split())
    if not a and not b:
        return 1.0
    common = len(a & b)
    if common == 0:
        return 0.0
    precision, recall = common / len(a), common / len(b)
    return 2 * precision * recall / (precision + recall)


METRICS = {
    "token_f1": token_f1,
    "exact_match": lambda answer, expected: float(answer.strip() == expected.strip()),
    "contains": lambda answer, expected: float(expected.strip() in answer),
}


def run(command):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr}")
    return result.stdout


def load_rows(args):
    if args.trainset:
        with open(args.trainset, encoding="utf-8") as handle:
            text = handle.read()
    else:
        command = [args.elexirion, "store", "export-examples", "--pipeline", args.pipeline, "--step", args.step, "--output-field", args.output_field]
        if args.store:
            command += ["--store", args.store]
        text = run(command)
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    return [row for row in rows if row.get("verdict") in ACCEPTED]


def current_instructions(args):
    """The instructions of the version the store serves now, to start from."""
    command = [args.elexirion, "store", "versions", "--pipeline", args.pipeline, "--step", args.step, "--json"]
    if args.store:
        command += ["--store", args.store]
    versions = json.loads(run(command))
    return versions[-1]["objective"] if versions else ""


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pipeline", required=True)
    parser.add_argument("--step", required=True)
    parser.add_argument("--trainset", help="JSONL from `elexirion store export-examples` (default: export now)")
    parser.add_argument("--output-field", default="response")
    parser.add_argument("--metric", choices=sorted(METRICS), default="token_f1")
    parser.add_argument("--threshold", type=float, default=0.5, help="a bootstrapped demo must score at least this")
    parser.add_argument("--optimizer", choices=["bootstrap", "mipro"], default="bootstrap")
    parser.add_argument("--max-demos", type=int, default=3)
    parser.add_argument("--instructions", help="start from these instead of the store's current version")
    parser.add_argument("--model", help="a litellm model name, e.g. anthropic/claude-sonnet-4-5 (keys from the environment)")
    parser.add_argument("--dummy-lm", action="store_true", help="compile offline with DSPy's DummyLM")
    parser.add_argument("--output", help="where to save the program (default: a temporary file)")
    parser.add_argument("--no-import", action="store_true", help="save the program but do not import it")
    parser.add_argument("--elexirion", default=os.environ.get("ELEXIRION", "elexirion"), help="the elexirion binary")
    parser.add_argument("--store", help="the store's path (default: elexirion's)")
    args = parser.parse_args()
    if not args.model and not args.dummy_lm:
        parser.error("give --model (a real model) or --dummy-lm (offline)")

    rows = load_rows(args)
    if not rows:
        sys.exit(f"no accepted examples for {args.pipeline} / {args.step} yet: accept some results first")
    inputs = [key for key in rows[0] if key not in (args.output_field, "verdict")]
    trainset = [dspy.Example(**{k: v for k, v in row.items() if k != "verdict"}).with_inputs(*inputs) for row in rows]

    instructions = args.instructions if args.instructions is not None else current_instructions(args)
    signature = dspy.Signature(f"{', '.join(inputs)} -> {args.output_field}", instructions or None)
    program = dspy.Predict(signature)

    if args.dummy_lm:
        # Answers keyed by each example's first input, which the final message contains.
        answers = {str(row[inputs[0]]): {args.output_field: row[args.output_field]} for row in rows}
        lm = DummyLM(answers)
    else:
        lm = dspy.LM(args.model)
    dspy.configure(lm=lm)

    score = METRICS[args.metric]

    def metric(example, prediction, trace=None):
        value = score(str(getattr(prediction, args.output_field, "")), str(example[args.output_field]))
        return value >= args.threshold if trace is not None else value

    if args.optimizer == "bootstrap":
        optimizer = dspy.BootstrapFewShot(metric=metric, max_bootstrapped_demos=args.max_demos, max_labeled_demos=args.max_demos)
        compiled = optimizer.compile(program, trainset=trainset)
    else:
        optimizer = dspy.MIPROv2(metric=metric, auto="light", max_bootstrapped_demos=args.max_demos, max_labeled_demos=args.max_demos)
        compiled = optimizer.compile(program, trainset=trainset)

    output = args.output or os.path.join(tempfile.mkdtemp(prefix="elexirion-dspy-"), f"{args.pipeline}.{args.step}.json")
    compiled.save(output)
    print(f"saved the compiled program to {output} ({len(compiled.demos)} demos)")
    if not args.no_import:
        command = [args.elexirion, "store", "import-dspy", output, "--pipeline", args.pipeline, "--map", f"self={args.step}"]
        if args.store:
            command += ["--store", args.store]
        print(run(command), end="")


if __name__ == "__main__":
    main()
