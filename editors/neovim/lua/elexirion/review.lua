-- Review of pipeline edits. Neovim applies a server's workspace/applyEdit
-- at once; an edit annotated `elexirion-pipeline` (or any edit whose
-- annotation needs confirmation) opens a diff instead, and the request is
-- answered when the user accepts or rejects it.
--
-- The answer waits without blocking: Neovim runs each server request's
-- handler in a coroutine (vim/lsp/rpc.lua) and sends what it returns, so
-- the handler yields and is resumed by the decision, as Neovim's own
-- window/showMessageRequest handler does. Outside a coroutine (an older
-- Neovim), it waits in vim.wait, which keeps processing events and input.

local M = {}

M.ANNOTATION = "elexirion-pipeline"

-- Options, set by require("elexirion").setup().
M.config = {
  keys = { accept = "ga", reject = "gr" },
  -- Seconds after which an undecided review is rejected.
  timeout = 30 * 60,
}

-- Reviews waiting for a decision, oldest first.
M.pending = {}

--- Whether an edit asks for review: our annotation, or one that needs confirmation.
function M.wants_review(edit)
  for id, annotation in pairs(edit.changeAnnotations or {}) do
    if id == M.ANNOTATION or annotation.needsConfirmation then
      return true
    end
  end
  return false
end

local function path_of(uri)
  return vim.fn.fnamemodify(vim.uri_to_fname(uri), ":~:.")
end

--- The edit's changes by document: { uri, edits, version?, creates? }, and
--- the other resource operations as sentences.
local function documents(edit)
  local found, operations, created = {}, {}, {}
  for _, change in ipairs(edit.documentChanges or {}) do
    if change.kind == "create" then
      created[change.uri] = true
    elseif change.kind == "rename" then
      table.insert(operations, ("renames %s to %s"):format(path_of(change.oldUri), path_of(change.newUri)))
    elseif change.kind == "delete" then
      table.insert(operations, "deletes " .. path_of(change.uri))
    else
      table.insert(found, { uri = change.textDocument.uri, edits = change.edits, version = change.textDocument.version })
    end
  end
  for uri, edits in pairs(edit.changes or {}) do
    table.insert(found, { uri = uri, edits = edits })
  end
  for _, document in ipairs(found) do
    document.creates = created[document.uri]
  end
  return found, operations
end

--- A document's lines now: its buffer when loaded, else the file, else none.
local function current_lines(uri)
  local bufnr = vim.fn.bufnr(vim.uri_to_fname(uri))
  if bufnr > 0 and vim.api.nvim_buf_is_loaded(bufnr) then
    return vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  end
  local path = vim.uri_to_fname(uri)
  return vim.fn.filereadable(path) == 1 and vim.fn.readfile(path) or {}
end

--- `lines` with the text edits applied, worked out in a scratch buffer.
local function proposed_lines(lines, edits, encoding)
  local scratch = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(scratch, 0, -1, false, lines)
  local plain = vim.tbl_map(function(e)
    return { range = e.range, newText = e.newText }
  end, edits)
  vim.lsp.util.apply_text_edits(plain, scratch, encoding)
  local result = vim.api.nvim_buf_get_lines(scratch, 0, -1, false)
  vim.api.nvim_buf_delete(scratch, { force = true })
  -- An empty buffer still has one (empty) line, which a new file has not.
  if #lines == 0 and result[#result] == "" then
    table.remove(result)
  end
  return result
end

local function joined(lines)
  return #lines == 0 and "" or table.concat(lines, "\n") .. "\n"
end

--- A unified diff of one document's change.
local function document_diff(document, encoding)
  local before = document.creates and {} or current_lines(document.uri)
  local after = proposed_lines(before, document.edits, encoding)
  local diff = (vim.text and vim.text.diff or vim.diff)(joined(before), joined(after), { ctxlen = 3 })
  local path = path_of(document.uri)
  local lines = { "--- " .. (document.creates and "/dev/null" or path), "+++ " .. path .. " (proposed)" }
  return vim.list_extend(lines, vim.split(diff, "\n", { plain = true, trimempty = true }))
end

--- The review's text: what the annotations say, the keys, then the diff.
function M.lines(edit, encoding)
  local lines = {}
  for _, annotation in pairs(edit.changeAnnotations or {}) do
    table.insert(lines, "# " .. annotation.label)
    if annotation.description then
      table.insert(lines, "# " .. annotation.description)
    end
  end
  table.insert(lines, ("# Accept: %s or :ElexirionAccept   Reject: %s, q or :ElexirionReject"):format(M.config.keys.accept, M.config.keys.reject))
  local changed, operations = documents(edit)
  for _, operation in ipairs(operations) do
    table.insert(lines, "# Also " .. operation)
  end
  for _, document in ipairs(changed) do
    table.insert(lines, "")
    vim.list_extend(lines, document_diff(document, encoding))
  end
  return lines
end

--- Why the edit no longer fits: a document changed since the server made it.
local function stale(edit)
  for _, document in ipairs((documents(edit))) do
    local bufnr = vim.fn.bufnr(vim.uri_to_fname(document.uri))
    local version = document.version
    if type(version) == "number" and version > 0 and bufnr > 0 and (vim.lsp.util.buf_versions[bufnr] or 0) > version then
      return path_of(document.uri) .. " changed during the review"
    end
  end
end

--- The edit without its annotations: the review just confirmed it, and
--- Neovim would otherwise ask (or report) again.
local function confirmed(edit)
  local copy = vim.deepcopy(edit)
  copy.changeAnnotations = nil
  local function strip(edits)
    for _, e in ipairs(edits or {}) do
      e.annotationId = nil
    end
  end
  for _, change in ipairs(copy.documentChanges or {}) do
    change.annotationId = nil
    strip(change.edits)
  end
  for _, edits in pairs(copy.changes or {}) do
    strip(edits)
  end
  return copy
end

--- Apply the reviewed edit; the answer for the server.
local function apply(edit, encoding)
  local problem = stale(edit)
  if problem then
    vim.notify("elexirion: not applied: " .. problem .. " (run the pipeline again)", vim.log.levels.WARN)
    return { applied = false, failureReason = problem }
  end
  local ok, err = pcall(vim.lsp.util.apply_workspace_edit, confirmed(edit), encoding)
  if not ok then
    vim.notify("elexirion: the edit could not be applied: " .. tostring(err), vim.log.levels.ERROR)
    return { applied = false, failureReason = tostring(err) }
  end
  return { applied = true }
end

--- Close the review's tab (or window) and forget it.
local function close(review)
  for i, pending in ipairs(M.pending) do
    if pending == review then
      table.remove(M.pending, i)
    end
  end
  if review.timer then
    review.timer:stop()
    review.timer:close()
  end
  if vim.api.nvim_buf_is_valid(review.bufnr) then
    vim.api.nvim_buf_delete(review.bufnr, { force = true })
  end
end

--- Settle a review once: apply or not, close it, answer the server.
local function decide(review, accepted)
  if review.answer then
    return
  end
  review.answer = { applied = false }
  close(review)
  if accepted then
    review.answer = apply(review.edit, review.encoding)
  end
  review.done(review.answer)
end

--- The review that a command acts on: the current buffer's, else the newest.
local function target()
  local bufnr = vim.api.nvim_get_current_buf()
  for _, review in ipairs(M.pending) do
    if review.bufnr == bufnr then
      return review
    end
  end
  return M.pending[#M.pending]
end

function M.accept()
  local review = target()
  if not review then
    return vim.notify("elexirion: no edit waits for review", vim.log.levels.WARN)
  end
  decide(review, true)
end

function M.reject()
  local review = target()
  if not review then
    return vim.notify("elexirion: no edit waits for review", vim.log.levels.WARN)
  end
  decide(review, false)
end

--- Show the review in a new tab, with its keys; closing it rejects.
local function open(review, lines)
  vim.cmd("tabnew")
  local bufnr = vim.api.nvim_get_current_buf()
  review.bufnr = bufnr
  vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, lines)
  vim.bo[bufnr].buftype = "nofile"
  vim.bo[bufnr].bufhidden = "wipe"
  vim.bo[bufnr].swapfile = false
  vim.bo[bufnr].modifiable = false
  vim.bo[bufnr].filetype = "diff"
  pcall(vim.api.nvim_buf_set_name, bufnr, ("elexirion://review/%d"):format(review.id))
  local function map(key, accepted, desc)
    vim.keymap.set("n", key, function()
      decide(review, accepted)
    end, { buffer = bufnr, nowait = true, desc = desc })
  end
  map(M.config.keys.accept, true, "Accept the proposed edit")
  map(M.config.keys.reject, false, "Reject the proposed edit")
  map("q", false, "Reject the proposed edit")
  vim.api.nvim_create_autocmd("BufWipeout", {
    buffer = bufnr,
    once = true,
    callback = function()
      vim.schedule(function()
        decide(review, false)
      end)
    end,
  })
end

local next_id = 0

--- Start a review; `done(answer)` is called once with the server's answer.
function M.start(edit, encoding, done)
  next_id = next_id + 1
  local review = { id = next_id, edit = edit, encoding = encoding, done = done }
  table.insert(M.pending, review)
  open(review, M.lines(edit, encoding))
  if M.config.timeout then
    review.timer = vim.uv.new_timer()
    review.timer:start(M.config.timeout * 1000, 0, vim.schedule_wrap(function()
      vim.notify("elexirion: the review timed out; the edit was not applied", vim.log.levels.WARN)
      decide(review, false)
    end))
  end
  return review
end

--- The workspace/applyEdit handler: our edits are reviewed, others keep
--- Neovim's behaviour.
function M.handler(err, params, ctx)
  if not M.wants_review(params.edit or {}) then
    return vim.lsp.handlers["workspace/applyEdit"](err, params, ctx)
  end
  local client = assert(vim.lsp.get_client_by_id(ctx.client_id))
  local co, is_main = coroutine.running()
  if co and not is_main then
    M.start(params.edit, client.offset_encoding, function(answer)
      -- Resume after the current callback, never before the yield below.
      vim.schedule(function()
        coroutine.resume(co, answer)
      end)
    end)
    return coroutine.yield()
  end
  local answer
  M.start(params.edit, client.offset_encoding, function(result)
    answer = result
  end)
  vim.wait(((M.config.timeout or 86400) + 1) * 1000, function()
    return answer ~= nil
  end, 50)
  return answer or { applied = false }
end

return M
