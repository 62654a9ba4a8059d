// VS Code has no Elixir language of its own: the extension contributes it.
// These tests read the manifest and the language configuration as VS Code would.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";

import { DOCUMENT_SELECTOR } from "../documents";

const root = path.join(__dirname, "../..");
const manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
const elixir = (manifest.contributes.languages ?? []).find((l: { id: string }) => l.id === "elixir");

/** The language configuration, parsed as JSON (VS Code also allows comments; we use none). */
function configuration(): Record<string, any> {
  return JSON.parse(fs.readFileSync(path.join(root, elixir.configuration), "utf8"));
}

test("the elixir language is contributed for .ex, .exs and mix.lock", () => {
  assert.ok(elixir, "contributes.languages has no `elixir`");
  assert.deepEqual(elixir.extensions, [".ex", ".exs"]);
  assert.deepEqual(elixir.filenames, ["mix.lock"]);
  assert.ok(elixir.aliases.includes("Elixir"));
  assert.match("#!/usr/bin/env elixir", new RegExp(elixir.firstLine));
  assert.doesNotMatch("#!/usr/bin/env elixirc-wrapper", new RegExp(elixir.firstLine));
});

test("the extension starts for Elixir files and Mix projects", () => {
  assert.ok(manifest.activationEvents.includes("onLanguage:elixir"));
  assert.ok(manifest.activationEvents.includes("workspaceContains:mix.exs"));
});

test("the language client is given the documents of that language", () => {
  assert.ok(DOCUMENT_SELECTOR.some((s) => s.language === elixir.id && s.scheme === "file" && !("pattern" in s)));
});

test("the language configuration exists, parses and comments with #", () => {
  const config = configuration();
  assert.equal(config.comments.lineComment, "#");
  assert.equal(config.comments.blockComment, undefined, "Elixir has no block comments");
  const pairs = config.autoClosingPairs.map((p: { open: string; close: string }) => p.open + p.close);
  for (const pair of ["()", "[]", "{}", '""', "''"]) {
    assert.ok(pairs.includes(pair), `${pair} does not auto-close`);
  }
});

test("do, fn and -> indent the next line; end and else outdent", () => {
  const rules = configuration().indentationRules;
  const increase = new RegExp(rules.increaseIndentPattern);
  const decrease = new RegExp(rules.decreaseIndentPattern);
  for (const line of ["defmodule A do", "  def f(x) when x > 0 do", "  Enum.map(xs, fn x ->", "    {:ok, y} ->", "  fn", "    [", "  else"]) {
    assert.match(line, increase);
  }
  for (const line of ["  def f, do: 1", "  # do", "  x = undo", "  x = 1"]) {
    assert.doesNotMatch(line, increase);
  }
  for (const line of ["  end", "end)", "  else", "  rescue e ->", "  ]"]) {
    assert.match(line, decrease);
  }
  for (const line of ["  else: 2", "  endpoint()", "  x"]) {
    assert.doesNotMatch(line, decrease);
  }
});

test("words keep ?/! suffixes, module attributes and atoms", () => {
  const words = "@timeout valid? save! :ok ok: Foo.bar x::binary 5_000 café".match(new RegExp(configuration().wordPattern, "g"));
  assert.deepEqual(words, ["@timeout", "valid?", "save!", ":ok", "ok", "Foo", "bar", "x", "binary", "5_000", "café"]);
});

test("semantic highlighting is on for Elixir, whose only colours are the server's", () => {
  assert.equal(manifest.contributes.configurationDefaults["[elixir]"]["editor.semanticHighlighting.enabled"], true);
  assert.equal(manifest.contributes.grammars, undefined, "a TextMate grammar would need its own tests");
});
