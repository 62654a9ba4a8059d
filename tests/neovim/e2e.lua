-- Headless Neovim, real elexirion server: run by tests/neovim.rs.
-- Exits 0 when every step passes, 1 (with the reason on stderr) otherwise.

local function codes(buf)
  local found = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    found[d.code or ""] = d
  end
  return found
end

local function wait_for(what, predicate)
  assert(vim.wait(20000, predicate, 50), "timed out waiting for " .. what)
end

local ok, err = pcall(function()
  vim.opt.runtimepath:append(os.getenv("PLUGIN_DIR"))
  local elexirion = require("elexirion")
  elexirion.setup({ cmd = { os.getenv("ELEXIRION_BIN"), "serve" }, notify_progress = false })
  local dir = os.getenv("WORKDIR")

  -- An Elixir file with an anti-pattern: diagnostic, quick fix, diagnostic gone.
  vim.cmd("edit " .. dir .. "/lib/worker.ex")
  local buf = vim.api.nvim_get_current_buf()
  assert(vim.bo[buf].filetype == "elixir", "filetype " .. vim.bo[buf].filetype)
  wait_for("EXR011 on the GenServer", function()
    return codes(buf)["EXR011"] ~= nil
  end)
  local diagnostic = codes(buf)["EXR011"]
  local client = elexirion.client(buf)
  assert(client, "elexirion is not attached")
  local params = {
    textDocument = vim.lsp.util.make_text_document_params(buf),
    range = {
      start = { line = diagnostic.lnum, character = diagnostic.col },
      ["end"] = { line = diagnostic.end_lnum, character = diagnostic.end_col },
    },
    context = { diagnostics = {}, only = { "quickfix" } },
  }
  local response = assert(client:request_sync("textDocument/codeAction", params, 10000, buf), "no code action response")
  local fix
  for _, action in ipairs(response.result or {}) do
    if action.title == "Add `@impl true`" then
      fix = action
    end
  end
  assert(fix, "no `Add @impl true` quick fix among " .. vim.inspect(response.result))
  vim.lsp.util.apply_workspace_edit(fix.edit, client.offset_encoding)
  local text = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n")
  assert(text:find("  @impl true\n  def init(state)", 1, true), "the fix was not applied:\n" .. text)
  wait_for("EXR011 to go", function()
    return codes(buf)["EXR011"] == nil and codes(buf)["EXR005"] ~= nil
  end)

  -- A pipeline file: its diagnostic and completion in a half-typed step.
  vim.cmd("edit " .. dir .. "/pipelines/review.yaml")
  local yaml = vim.api.nvim_get_current_buf()
  wait_for("EXP004 in the pipeline", function()
    return codes(yaml)["EXP004"] ~= nil
  end)
  assert(codes(yaml)["EXP004"].message:find("did you mean `prompt`", 1, true), codes(yaml)["EXP004"].message)
  local last = vim.api.nvim_buf_line_count(yaml)
  local line = vim.api.nvim_buf_get_lines(yaml, last - 1, last, false)[1]
  local yaml_client = assert(elexirion.client(yaml), "not attached to the pipeline")
  local completion = assert(yaml_client:request_sync("textDocument/completion", {
    textDocument = vim.lsp.util.make_text_document_params(yaml),
    position = { line = last - 1, character = #line },
  }, 10000, yaml), "no completion response")
  local labels = {}
  for _, item in ipairs(completion.result.items or completion.result) do
    labels[item.label] = true
  end
  assert(labels["prompt"] and labels["preset"], "completion offered " .. vim.inspect(vim.tbl_keys(labels)))

  -- Other YAML is left alone.
  vim.cmd("edit " .. dir .. "/.github/workflows/ci.yml")
  vim.wait(500)
  assert(elexirion.client(0) == nil, "attached to a CI workflow")

  -- :ElexirionPrompt shows the version the store serves (imported by the test).
  vim.cmd("edit " .. dir .. "/pipelines/review.yaml")
  vim.cmd("ElexirionPrompt review suggest")
  wait_for("the prompt window", function()
    return vim.api.nvim_buf_get_name(0):find("elexirion://prompt/review/suggest", 1, true) ~= nil
  end)
  local shown = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
  assert(shown:find("# review / suggest: version 2 (dspy)", 1, true), shown)
  assert(shown:find("[[ ## function ## ]]\ndef double(x), do: x * 2", 1, true), shown)
  vim.cmd("close")

  -- A verdict on a buffer no AI edit changed judges nothing and says so.
  vim.cmd("edit " .. dir .. "/lib/worker.ex")
  local notified = {}
  local original_notify = vim.notify
  vim.notify = function(message, level)
    table.insert(notified, message)
  end
  vim.cmd("ElexirionVerdict accepted")
  wait_for("the verdict's answer", function()
    return #notified > 0
  end)
  vim.notify = original_notify
  assert(notified[1]:find("no AI edit was applied to lib/worker.ex", 1, true), vim.inspect(notified))

  -- The user commands exist.
  for _, command in ipairs({ ":ElexirionRun", ":ElexirionClear", ":ElexirionPrompt", ":ElexirionVerdict" }) do
    assert(vim.fn.exists(command) == 2, command .. " is missing")
  end
end)

if ok then
  io.stdout:write("neovim e2e: all steps passed\n")
  vim.cmd("qa!")
else
  io.stderr:write("neovim e2e failed: " .. tostring(err) .. "\n")
  vim.cmd("cquit 1")
end
