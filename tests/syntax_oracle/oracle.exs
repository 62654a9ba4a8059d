# Elixir's own parser as the syntax oracle (tests/syntax_oracle.rs).
# For every file named on the command line, one line:
#   PATH<TAB>ok                  when Elixir parses it, else
#   PATH<TAB>LINE<TAB>MESSAGE    where Elixir reports the error (LINE 0 if it gives none).
# One BEAM for all files: starting Elixir per file is too slow.
for path <- System.argv() do
  result =
    try do
      Code.string_to_quoted(File.read!(path), file: path, columns: true)
    rescue
      error -> {:error, {[], Exception.message(error), ""}}
    end

  case result do
    {:ok, _} ->
      IO.puts("#{path}\tok")

    {:error, {location, message, token}} ->
      line = if is_list(location), do: Keyword.get(location, :line, 0), else: location

      message =
        case message do
          {prefix, suffix} -> "#{prefix}#{token}#{suffix}"
          message -> "#{message}#{token}"
        end

      IO.puts("#{path}\t#{line}\t#{String.replace(message, ~r/\s+/, " ")}")
  end
end
