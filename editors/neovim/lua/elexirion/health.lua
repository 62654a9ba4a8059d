-- :checkhealth elexirion

local M = {}

function M.check()
  local health = vim.health
  health.start("elexirion")
  if vim.fn.has("nvim-0.11") == 1 then
    health.ok("Neovim " .. tostring(vim.version()))
  else
    health.warn("Neovim " .. tostring(vim.version()) .. ": 0.11 or newer is recommended (older versions use vim.lsp.start)")
  end
  local config = require("elexirion").config
  local binary = config.cmd[1]
  if vim.fn.executable(binary) == 1 then
    local version = vim.fn.system({ binary, "--version" })
    health.ok(("%s: %s"):format(vim.fn.exepath(binary), vim.trim(version)))
  else
    health.error(binary .. " was not found", { "Build it with `cargo install --path server` in the Elexirion repository", "or set `cmd` in require('elexirion').setup({...})" })
  end
  for _, variable in ipairs({ "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "OPENAI_API_KEY" }) do
    if (vim.env[variable] or "") ~= "" then
      health.ok(variable .. " is set")
    else
      health.info(variable .. " is not set")
    end
  end
  for _, variable in ipairs({ "ANTHROPIC_BASE_URL", "GEMINI_BASE_URL", "OPENAI_BASE_URL" }) do
    if (vim.env[variable] or "") ~= "" then
      health.info(variable .. " = " .. vim.env[variable])
    end
  end
  local client = require("elexirion").client(0)
  if client then
    health.ok("attached to this buffer (root " .. (client.root_dir or "?") .. ")")
  else
    health.info("not attached to the current buffer")
  end
end

return M
