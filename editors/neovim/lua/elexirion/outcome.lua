-- What became of a pipeline run: the result of `elexirion.runPipeline`
-- (answered when the run is over) turned into a message for vim.notify.

local M = {}

local INFO, ERROR = vim.log.levels.INFO, vim.log.levels.ERROR

local function text(value)
  return type(value) == "string" and value ~= "" and value or nil
end

local function with(base, detail)
  return detail and (base .. ": " .. detail) or base
end

-- outcome -> function(result) returning the message and its level.
local FORMATS = {
  applied = function(r)
    return with("applied", text(r.message)), INFO
  end,
  declined = function()
    return "declined; nothing changed", INFO
  end,
  findings = function(r)
    return (text(r.message) or "findings") .. ", shown as diagnostics", INFO
  end,
  shown = function(r)
    return with("opened", type(r.uri) == "string" and vim.fn.fnamemodify(vim.uri_to_fname(r.uri), ":~:.") or nil), INFO
  end,
  refused = function(r)
    return with("not applied", text(r.message)), ERROR
  end,
  failed = function(r)
    return with("failed", text(r.message)), ERROR
  end,
}

--- The message and level for a result, or nil (a cancelled run says
--- nothing: the user cancelled it, and the progress already ended).
function M.message(pipeline, result)
  local format = type(result) == "table" and FORMATS[result.outcome]
  if not format then
    return nil
  end
  local message, level = format(result)
  local lines = { ("elexirion: %s %s"):format(pipeline or "pipeline", message) }
  if type(result.notes) == "table" and #result.notes > 0 then
    table.insert(lines, "The answer also suggests:")
    for _, note in ipairs(result.notes) do
      table.insert(lines, "- " .. note)
    end
  end
  return table.concat(lines, "\n"), level
end

--- Handler for workspace/executeCommand answers: show a run's outcome and
--- announce it as `User ElexirionPipelineResult` (data: the result).
function M.handler(err, result, ctx)
  local command = ctx.params and ctx.params.command
  if err then
    return vim.notify("elexirion: " .. err.message, ERROR)
  end
  if command ~= "elexirion.runPipeline" then
    return
  end
  local argument = ctx.params.arguments and ctx.params.arguments[1] or {}
  local message, level = M.message(argument.pipeline, result)
  if message then
    vim.notify(message, level)
  end
  vim.api.nvim_exec_autocmds("User", { pattern = "ElexirionPipelineResult", data = { pipeline = argument.pipeline, result = result } })
end

return M
