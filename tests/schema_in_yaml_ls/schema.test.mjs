// The exported JSON Schema (`elexirion schema`) in a real yaml-language-server,
// as a user of the YAML extension would have it: no complaint on the
// pipeline_ex files pipeline_ex accepts, the right line flagged on broken
// pipelines (broken/*.yaml, each expected error marked `# expect: MESSAGE`
// on its line), and hover docs rendered as Markdown.
//
// The schema is read from $ELEXIRION_SCHEMA, or target/elexirion.schema.json
// (scripts/test writes it there with `cargo run --quiet --locked -- schema`).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { LspClient } from './lsp_client.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const schemaPath = process.env.ELEXIRION_SCHEMA ?? join(repo, 'target/elexirion.schema.json');
const schemaUri = pathToFileURL(schemaPath).href;
const corpusDir = join(repo, 'tests/fixtures/pipeline_ex');
const brokenDir = join(here, 'broken');

// Files pipeline_ex rejects, as listed in tests/pipeline_corpus.rs (`REJECTED`).
const REJECTED = new Set([
  'blog_generator.yaml',
  'examples__claude_output_formats_test.yaml',
  'examples__context_management_example.yaml',
  'examples__data_transform_example.yaml',
  'examples__hooks_example.yaml',
  'examples__memory_compaction_example.yaml',
  'examples__meta__genesis_example.yaml',
  'examples__subagents_example.yaml',
  'generated_pipeline.yaml',
  'test__fixtures__pipelines__context_inherit_test.yaml',
  'test__fixtures__pipelines__nested_with_error.yaml',
  'test__fixtures__pipelines__output_extraction_test.yaml',
  'test__fixtures__pipelines__test_nested_basic.yaml',
]);

const ERROR = 1;
const WARNING = 2;

const settings = {
  yaml: {
    validate: true,
    hover: true,
    completion: true,
    schemas: { [schemaUri]: '*.yaml' },
    schemaStore: { enable: false },
  },
  http: {},
  '[yaml]': {},
  editor: {},
};

let server;

before(async () => {
  assert.ok(existsSync(schemaPath), `${schemaPath} is missing: run \`cargo run --quiet -- schema > ${schemaPath}\``);
  const bin = join(here, 'node_modules/yaml-language-server/bin/yaml-language-server');
  // yaml-language-server pulls its settings (workspace/configuration) once
  // initialized (and on each workspace/didChangeConfiguration, whose own
  // payload it ignores), so the settings are given as answers.
  server = new LspClient(process.execPath, [bin, '--stdio'], (method, params) => {
    if (method === 'workspace/configuration') return params.items.map((item) => settings[item.section] ?? null);
    return null;
  });
  await server.request('initialize', {
    processId: process.pid,
    rootUri: null,
    workspaceFolders: null,
    capabilities: {
      workspace: { configuration: true },
      textDocument: { hover: { contentFormat: ['markdown', 'plaintext'] }, publishDiagnostics: {} },
    },
  });
  server.notify('initialized', {});
  await untilTheSchemaApplies();
});

after(async () => {
  await server?.shutdown();
});

// Settings apply asynchronously: ask which schema a probe document gets
// until it is ours, so no document is validated without it.
async function untilTheSchemaApplies() {
  const uri = pathToFileURL(join(brokenDir, 'probe.yaml')).href;
  server.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'yaml', version: 1, text: 'workflow: {}\n' } });
  const deadline = Date.now() + 15000;
  for (;;) {
    const schemas = await server.request('yaml/get/jsonSchema', uri);
    if (schemas.some((s) => s.uri === schemaUri)) break;
    assert.ok(Date.now() < deadline, `the schema never applied: ${JSON.stringify(schemas)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  server.notify('textDocument/didClose', { textDocument: { uri } });
  await server.waitFor('textDocument/publishDiagnostics', (p) => p.uri === uri && p.diagnostics.length === 0);
}

// Opens a file and returns the diagnostics first published for it.
async function diagnose(path) {
  const uri = pathToFileURL(path).href;
  const text = readFileSync(path, 'utf8');
  const published = server.waitFor('textDocument/publishDiagnostics', (p) => p.uri === uri);
  server.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'yaml', version: 1, text } });
  const { diagnostics } = await published;
  return { uri, text, diagnostics };
}

function render(diagnostics) {
  return diagnostics.map((d) => `${d.range.start.line + 1}:${d.range.start.character + 1} ${d.message}`).join('\n');
}

const serious = (d) => d.severity === ERROR || d.severity === WARNING;

const corpus = readdirSync(corpusDir).filter((name) => name.endsWith('.yaml')).sort();

test('the corpus is all there', () => {
  assert.ok(corpus.length >= 39, `only ${corpus.length} corpus files`);
});

for (const name of corpus.filter((n) => !REJECTED.has(n))) {
  test(`no error on ${name} (pipeline_ex accepts it)`, async () => {
    const { diagnostics } = await diagnose(join(corpusDir, name));
    assert.equal(render(diagnostics.filter(serious)), '');
  });
}

for (const name of [...REJECTED].sort()) {
  test(`an error on ${name} (pipeline_ex rejects it)`, async () => {
    const { diagnostics } = await diagnose(join(corpusDir, name));
    assert.ok(diagnostics.some(serious), 'the schema finds nothing wrong');
  });
}

for (const name of readdirSync(brokenDir).filter((n) => n.endsWith('.yaml')).sort()) {
  test(`broken/${name}: flagged where marked, and nothing else`, async () => {
    const { text, diagnostics } = await diagnose(join(brokenDir, name));
    const expected = text
      .split('\n')
      .map((line, index) => ({ line: index + 1, message: /# expect: (.*)$/.exec(line)?.[1] }))
      .filter((e) => e.message);
    assert.ok(expected.length > 0, 'no `# expect:` marker');
    const found = diagnostics.filter(serious);
    const matches = (d, e) => d.range.start.line + 1 === e.line && d.message.includes(e.message);
    for (const e of expected) {
      assert.ok(found.some((d) => matches(d, e)), `expected on line ${e.line}: ${e.message}\ngot:\n${render(diagnostics)}`);
    }
    const unexpected = found.filter((d) => !expected.some((e) => matches(d, e)));
    assert.equal(render(unexpected), '', 'unexpected diagnostics');
  });
}

test('hover shows the docs as Markdown: code spans, not escaped backticks', async () => {
  const uri = pathToFileURL(join(here, 'hover.yaml')).href;
  const text = 'workflow:\n  name: x\n  workspace_dir: ./here\n  steps: []\n';
  const published = server.waitFor('textDocument/publishDiagnostics', (p) => p.uri === uri);
  server.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'yaml', version: 1, text } });
  await published;
  const hover = await server.request('textDocument/hover', { textDocument: { uri }, position: { line: 2, character: 4 } });
  const shown = hover?.contents?.value ?? JSON.stringify(hover);
  assert.ok(shown.includes('Default: `./workspace`'), shown);
  assert.ok(!shown.includes('\\`'), shown);
});
