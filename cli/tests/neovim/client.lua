-- Headless Neovim with its built-in LSP client attached to `ward lsp`:
-- opens a file, waits for diagnostics, asks for hover and definition and
-- writes what it got as JSON. Uses APIs that Neovim 0.7 already has.
local bin = os.getenv('WARD_BIN')
local file = os.getenv('WARD_FILE')
local out = os.getenv('WARD_OUT')
local result = {}

local function position(var)
  local line, col = string.match(os.getenv(var) or '', '(%d+):(%d+)')
  return { line = tonumber(line), character = tonumber(col) }
end

local function request(method, pos)
  local params = { textDocument = { uri = vim.uri_from_bufnr(0) }, position = pos }
  local responses = vim.lsp.buf_request_sync(0, method, params, 20000)
  for _, r in pairs(responses or {}) do
    if r.result then
      return r.result
    end
  end
  return vim.NIL
end

local ok, err = pcall(function()
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  vim.bo.filetype = 'ward'
  local id = vim.lsp.start_client({
    name = 'ward',
    cmd = { bin, 'lsp' },
    root_dir = vim.fn.fnamemodify(file, ':h'),
  })
  result.client = id ~= nil
  vim.lsp.buf_attach_client(0, id)
  result.got_diagnostics = vim.wait(30000, function()
    return #vim.diagnostic.get(0) > 0
  end, 50)
  result.diagnostics = {}
  for _, d in ipairs(vim.diagnostic.get(0)) do
    local lsp = (d.user_data or {}).lsp or {}
    table.insert(result.diagnostics, {
      lnum = d.lnum,
      col = d.col,
      message = d.message,
      code = d.code or lsp.code,
      severity = d.severity,
    })
  end
  result.hover = request('textDocument/hover', position('WARD_HOVER'))
  result.definition = request('textDocument/definition', position('WARD_DEFINITION'))
  vim.lsp.stop_client(id)
end)
if not ok then
  result.error = tostring(err)
end

local handle = io.open(out, 'w')
handle:write(vim.fn.json_encode(result))
handle:close()
vim.cmd('qa!')
