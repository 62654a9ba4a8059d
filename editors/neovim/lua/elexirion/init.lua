-- Elexirion for Neovim: registers the elexirion language server for Elixir
-- files and pipeline YAML, and adds :ElexirionRun, :ElexirionPrompt,
-- :ElexirionVerdict, :ElexirionClear, and :ElexirionAccept / :ElexirionReject
-- for the review of pipeline edits.

local outcome = require("elexirion.outcome")
local review = require("elexirion.review")

local M = {}

M.defaults = {
  -- The server command; `elexirion` must be on PATH unless you give a path.
  cmd = { "elexirion", "serve" },
  filetypes = { "elixir", "eelixir" },
  -- YAML files that are pipelines (Lua patterns on the full path).
  pipeline_patterns = { "/pipelines/[^/]+%.ya?ml$", "%.pipeline%.ya?ml$" },
  root_markers = { "mix.exs", "elexirion.toml", ".git" },
  -- Passed to the server as initialization options.
  settings = {},
  -- Show pipeline progress with vim.notify.
  notify_progress = true,
  -- The review of edits proposed by pipelines: its keys, and the seconds
  -- after which an undecided review is rejected (false: never).
  review = { keys = { accept = "ga", reject = "gr" }, timeout = 30 * 60 },
}

M.config = vim.deepcopy(M.defaults)

local function is_pipeline(path)
  for _, pattern in ipairs(M.config.pipeline_patterns) do
    if path:match(pattern) then
      return true
    end
  end
  return false
end

local function wanted(bufnr)
  local filetype = vim.bo[bufnr].filetype
  if vim.tbl_contains(M.config.filetypes, filetype) then
    return true
  end
  return filetype == "yaml" and is_pipeline(vim.api.nvim_buf_get_name(bufnr))
end

local function root_for(bufnr)
  local found = vim.fs.root(bufnr, M.config.root_markers)
  return found or vim.fs.dirname(vim.api.nvim_buf_get_name(bufnr))
end

--- The elexirion client attached to a buffer, if any.
function M.client(bufnr)
  return vim.lsp.get_clients({ bufnr = bufnr or 0, name = "elexirion" })[1]
end

--- The current buffer and its client; a warning when there is none.
local function attached()
  local bufnr = vim.api.nvim_get_current_buf()
  local client = M.client(bufnr)
  if not client then
    vim.notify("elexirion is not attached to this buffer", vim.log.levels.WARN)
  end
  return bufnr, client
end

--- Run a pipeline on the current buffer (and selection), by name or picked.
function M.run(name, range)
  local bufnr, client = attached()
  if not client then
    return
  end
  local params = vim.lsp.util.make_range_params(0, client.offset_encoding)
  if range then
    params.range = range
  end
  params.context = { diagnostics = {} }
  client:request("textDocument/codeAction", params, function(err, actions)
    if err then
      vim.notify("elexirion: " .. err.message, vim.log.levels.ERROR)
      return
    end
    local pipelines = {}
    for _, action in ipairs(actions or {}) do
      if action.command and action.command.command == "elexirion.runPipeline" then
        table.insert(pipelines, action)
      end
    end
    local function execute(action)
      client:exec_cmd(action.command, { bufnr = bufnr })
    end
    if name then
      for _, action in ipairs(pipelines) do
        if action.command.arguments[1].pipeline == name then
          return execute(action)
        end
      end
      vim.notify("elexirion: no pipeline named " .. name .. " applies here", vim.log.levels.WARN)
      return
    end
    vim.ui.select(pipelines, {
      prompt = "Run pipeline",
      format_item = function(action)
        return action.title
      end,
    }, function(action)
      if action then
        execute(action)
      end
    end)
  end, bufnr)
end

--- Remove the diagnostics AI pipelines reported.
function M.clear()
  local client = M.client(0)
  if client then
    client:exec_cmd({ title = "Clear", command = "elexirion.clearPipelineDiagnostics", arguments = {} })
  end
end

--- In a pipeline buffer: the workflow's name and the step around the cursor.
function M.step_at_cursor(bufnr)
  bufnr = bufnr or 0
  local lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  local pipeline
  for _, line in ipairs(lines) do
    pipeline = line:match("^%s%s?name:%s*[\"']?([%w_%-]+)")
    if pipeline then
      break
    end
  end
  local row = vim.api.nvim_win_get_cursor(0)[1]
  local step
  for i = math.min(row, #lines), 1, -1 do
    step = lines[i]:match("^%s*%-%s+name:%s*[\"']?([%w_%-]+)")
    if step then
      break
    end
  end
  return pipeline, step
end

--- Show the optimized prompt the store serves for a pipeline's step.
function M.prompt(pipeline, step)
  local bufnr, client = attached()
  if not client then
    return
  end
  if not (pipeline and step) then
    pipeline, step = M.step_at_cursor(bufnr)
  end
  if not (pipeline and step) then
    vim.notify("elexirion: give a pipeline and a step, or put the cursor on a step of a pipeline file", vim.log.levels.WARN)
    return
  end
  client:request("elexirion/optimizedPrompt", { pipeline = pipeline, step = step }, function(err, result)
    if err then
      vim.notify("elexirion: " .. err.message, vim.log.levels.ERROR)
      return
    end
    if result == nil or result == vim.NIL then
      vim.notify(("elexirion: no optimized prompt for %s / %s yet"):format(pipeline, step), vim.log.levels.INFO)
      return
    end
    local record = result.record or {}
    local header = {
      ("# %s / %s: version %d (%s)"):format(pipeline, step, result.version, result.source),
      ("%d demos, %d runs, %d accepted, %d rejected"):format(result.demos or 0, record.runs or 0, (record.accepted or 0) + (record.edited or 0), record.rejected or 0),
      "",
    }
    local lines = vim.list_extend(header, vim.split(result.prompt, "\n", { plain = true }))
    vim.cmd("botright new")
    local view = vim.api.nvim_get_current_buf()
    vim.api.nvim_buf_set_lines(view, 0, -1, false, lines)
    vim.bo[view].buftype = "nofile"
    vim.bo[view].bufhidden = "wipe"
    vim.bo[view].modifiable = false
    vim.bo[view].filetype = "markdown"
    pcall(vim.api.nvim_buf_set_name, view, ("elexirion://prompt/%s/%s"):format(pipeline, step))
  end, bufnr)
end

--- Run a server command; `on_result(result)` on success, an error shown otherwise.
local function execute(client, bufnr, command, argument, on_result)
  client:request("workspace/executeCommand", { command = command, arguments = { argument } }, function(err, result)
    if err then
      vim.notify("elexirion: " .. err.message, vim.log.levels.ERROR)
      return
    end
    on_result(result)
  end, bufnr)
end

--- Judge the last pipeline edit applied to this buffer: accepted,
--- rejected or edited (the buffer's text is kept as the final text). The
--- server names the run that edited this buffer; the verdict goes to that
--- run by its id, or it says there is none (after generating tests, the
--- edit is the test file's, not the module's).
function M.verdict(verdict)
  local bufnr, client = attached()
  if not client then
    return
  end
  if not vim.tbl_contains({ "accepted", "rejected", "edited" }, verdict) then
    vim.notify("elexirion: the verdict is accepted, rejected or edited", vim.log.levels.WARN)
    return
  end
  local uri = vim.uri_from_bufnr(bufnr)
  execute(client, bufnr, "elexirion.lastAiEdit", { uri = uri }, function(last)
    if type(last) ~= "table" or type(last.runId) ~= "string" then
      local why = type(last) == "table" and type(last.message) == "string" and last.message or "no AI edit was applied to this buffer"
      vim.notify("elexirion: " .. why, vim.log.levels.INFO)
      return
    end
    local argument = { invocation = last.runId, uri = uri, verdict = verdict }
    if verdict == "edited" then
      argument.finalText = table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), "\n") .. "\n"
    end
    execute(client, bufnr, "elexirion.recordVerdict", argument, function(result)
      local said = type(result) == "table" and type(result.message) == "string" and result.message or "verdict recorded"
      vim.notify("elexirion: " .. said, vim.log.levels.INFO)
    end)
  end)
end

local function commands()
  vim.api.nvim_create_user_command("ElexirionRun", function(opts)
    local range = nil
    if opts.range > 0 then
      range = {
        start = { line = opts.line1 - 1, character = 0 },
        ["end"] = { line = opts.line2, character = 0 },
      }
    end
    M.run(opts.args ~= "" and opts.args or nil, range)
  end, { nargs = "?", range = true, desc = "Run an Elexirion AI pipeline on this buffer" })
  vim.api.nvim_create_user_command("ElexirionClear", M.clear, { desc = "Clear Elexirion pipeline diagnostics" })
  vim.api.nvim_create_user_command("ElexirionPrompt", function(opts)
    M.prompt(opts.fargs[1], opts.fargs[2])
  end, { nargs = "*", desc = "Show the optimized prompt of a pipeline step ([pipeline step], else the step under the cursor)" })
  vim.api.nvim_create_user_command("ElexirionVerdict", function(opts)
    M.verdict(opts.args)
  end, {
    nargs = 1,
    complete = function()
      return { "accepted", "rejected", "edited" }
    end,
    desc = "Judge the last AI edit of this buffer: accepted, rejected, edited",
  })
  vim.api.nvim_create_user_command("ElexirionAccept", review.accept, { desc = "Apply the pipeline edit under review" })
  vim.api.nvim_create_user_command("ElexirionReject", review.reject, { desc = "Reject the pipeline edit under review" })
end

local function progress()
  vim.api.nvim_create_autocmd("LspProgress", {
    group = vim.api.nvim_create_augroup("elexirion-progress", { clear = true }),
    callback = function(event)
      local client = vim.lsp.get_client_by_id(event.data.client_id)
      local value = event.data.params and event.data.params.value or {}
      if M.config.notify_progress and client and client.name == "elexirion" and value.kind ~= "report" then
        vim.notify(("elexirion: %s %s"):format(value.title or "", value.message or ""), vim.log.levels.INFO)
      end
    end,
  })
end

function M.setup(opts)
  M.config = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts or {})
  review.config = M.config.review
  local config = {
    cmd = M.config.cmd,
    filetypes = vim.list_extend(vim.deepcopy(M.config.filetypes), { "yaml" }),
    init_options = M.config.settings,
    -- Pipeline edits are reviewed before they apply; run results are shown.
    handlers = {
      ["workspace/applyEdit"] = review.handler,
      ["workspace/executeCommand"] = outcome.handler,
    },
    -- Only Elixir buffers and pipeline YAML: not every YAML file.
    root_dir = function(bufnr, on_dir)
      if wanted(bufnr) then
        on_dir(root_for(bufnr))
      end
    end,
  }
  if vim.lsp.config and vim.lsp.enable then
    vim.lsp.config("elexirion", config)
    vim.lsp.enable("elexirion")
  else
    -- Before Neovim 0.11: start the client per buffer.
    vim.api.nvim_create_autocmd("FileType", {
      group = vim.api.nvim_create_augroup("elexirion-start", { clear = true }),
      pattern = config.filetypes,
      callback = function(event)
        if wanted(event.buf) then
          vim.lsp.start({ name = "elexirion", cmd = config.cmd, root_dir = root_for(event.buf), init_options = config.init_options, handlers = config.handlers })
        end
      end,
    })
  end
  commands()
  progress()
end

return M
