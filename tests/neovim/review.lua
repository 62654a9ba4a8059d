-- Headless Neovim, real elexirion server, scripted model: run by
-- tests/neovim.rs. Pipeline edits open a review; rejecting leaves the
-- buffer alone, accepting applies the edit; explanations open as a file.
-- Exits 0 when every step passes, 1 (with the reason on stderr) otherwise.

local function wait_for(what, predicate)
  assert(vim.wait(30000, predicate, 50), "timed out waiting for " .. what)
end

local function text(buf)
  return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n")
end

local ok, err = pcall(function()
  vim.opt.runtimepath:append(os.getenv("PLUGIN_DIR"))
  local elexirion = require("elexirion")
  -- A short review timeout: a review nobody decides fails the test, not hangs it.
  elexirion.setup({ cmd = { os.getenv("ELEXIRION_BIN"), "serve" }, notify_progress = false, review = { timeout = 20 } })
  local dir = os.getenv("WORKDIR")

  -- What the plugin tells the user, and the results it announces.
  local notified, results = {}, {}
  vim.notify = function(message)
    table.insert(notified, message)
  end
  vim.api.nvim_create_autocmd("User", {
    pattern = "ElexirionPipelineResult",
    callback = function(event)
      table.insert(results, event.data.result)
    end,
  })
  local function next_result(what)
    local before = #results
    return function()
      wait_for(what, function()
        return #results > before
      end)
      return results[#results]
    end
  end
  local function review_buffer()
    for _, b in ipairs(vim.api.nvim_list_bufs()) do
      if vim.api.nvim_buf_get_name(b):find("elexirion://review/", 1, true) then
        return b
      end
    end
  end

  vim.cmd("edit " .. dir .. "/lib/app/worker.ex")
  local buf = vim.api.nvim_get_current_buf()
  wait_for("the client", function()
    return elexirion.client(buf) ~= nil and elexirion.client(buf).initialized
  end)
  local original = text(buf)

  -- A run whose edit is rejected: the review shows it, the buffer stays.
  local result = next_result("the declined run's result")
  vim.cmd("ElexirionRun fix_otp_antipatterns")
  wait_for("the review", function()
    return review_buffer() ~= nil
  end)
  local shown = text(review_buffer())
  assert(shown:find("# Proposed by the `fix_otp_antipatterns` pipeline: fixes 1 warning (EXR005)", 1, true), shown)
  assert(shown:find("\n-  def fetch(server), do: GenServer.call(server, :fetch, :infinity)\n+  def fetch(server), do: GenServer.call(server, :fetch, 30_000)", 1, true), shown)
  assert(vim.api.nvim_get_current_buf() == review_buffer(), "the review has the focus")
  assert(text(buf) == original, "the edit was applied before the review:\n" .. text(buf))
  vim.cmd("ElexirionReject")
  assert(result().outcome == "declined", vim.inspect(results))
  assert(review_buffer() == nil, "the review stays open after rejecting")
  assert(text(buf) == original, "a rejected edit changed the buffer:\n" .. text(buf))
  assert(vim.tbl_contains(notified, "elexirion: fix_otp_antipatterns declined; nothing changed"), vim.inspect(notified))

  -- Closing the review's tab rejects too.
  result = next_result("the closed review's result")
  vim.cmd("ElexirionRun fix_otp_antipatterns")
  wait_for("the third review", function()
    return review_buffer() ~= nil
  end)
  vim.cmd("tabclose")
  assert(result().outcome == "declined", vim.inspect(results))
  assert(text(buf) == original, "closing the review changed the buffer:\n" .. text(buf))

  -- The same again, accepted with the review's key: the buffer changes.
  result = next_result("the applied run's result")
  vim.cmd("ElexirionRun fix_otp_antipatterns")
  wait_for("the second review", function()
    return review_buffer() ~= nil
  end)
  vim.api.nvim_feedkeys("ga", "x", false)
  assert(result().outcome == "applied", vim.inspect(results))
  assert(review_buffer() == nil, "the review stays open after accepting")
  assert(vim.api.nvim_get_current_buf() == buf and #vim.api.nvim_list_tabpages() == 1, "back to the file, the review tab closed")
  assert(text(buf) == original:gsub(":fetch, :infinity%)", ":fetch, 30_000)"), "the accepted edit is not in the buffer:\n" .. text(buf))
  assert(notified[#notified]:find("fix_otp_antipatterns applied: fixes 1 warning", 1, true), vim.inspect(notified))

  -- An explanation opens as a Markdown file (Neovim's window/showDocument).
  result = next_result("the explanation's result")
  vim.cmd("ElexirionRun explain_module")
  local explained = result()
  assert(explained.outcome == "shown", vim.inspect(explained))
  assert(vim.api.nvim_buf_get_name(0) == vim.uri_to_fname(explained.uri), vim.api.nvim_buf_get_name(0))
  assert(text(0):find("`fetch/1` waits forever", 1, true), text(0))

  -- The handler called outside a coroutine (older Neovims) waits in vim.wait.
  local client = assert(elexirion.client(buf))
  local handler = client.handlers["workspace/applyEdit"]
  local ctx = { client_id = client.id, method = "workspace/applyEdit" }
  local function insert(line)
    local edit = { range = { start = { line = 0, character = 0 }, ["end"] = { line = 0, character = 0 } }, newText = line .. "\n" }
    return { [vim.uri_from_bufnr(buf)] = { edit } }
  end
  vim.defer_fn(function()
    assert(review_buffer(), "no review while waiting")
    vim.cmd("ElexirionAccept")
  end, 100)
  local changes = insert("# reviewed")
  changes[vim.uri_from_bufnr(buf)][1].annotationId = "elexirion-pipeline"
  local answer = handler(nil, { edit = { changes = changes, changeAnnotations = { ["elexirion-pipeline"] = { label = "test", needsConfirmation = true } } } }, ctx)
  assert(answer.applied == true and review_buffer() == nil, vim.inspect(answer))
  assert(vim.api.nvim_buf_get_lines(buf, 0, 1, false)[1] == "# reviewed", text(buf))

  -- An edit without our annotation keeps Neovim's behaviour: applied at once.
  answer = handler(nil, { edit = { changes = insert("# plain") } }, ctx)
  assert(answer.applied == true and review_buffer() == nil, vim.inspect(answer))
  assert(vim.api.nvim_buf_get_lines(buf, 0, 1, false)[1] == "# plain", text(buf))

  for _, command in ipairs({ ":ElexirionAccept", ":ElexirionReject" }) do
    assert(vim.fn.exists(command) == 2, command .. " is missing")
  end
end)

if ok then
  io.stdout:write("neovim review: all steps passed\n")
  vim.cmd("qa!")
else
  io.stderr:write("neovim review failed: " .. tostring(err) .. "\n")
  vim.cmd("cquit 1")
end
