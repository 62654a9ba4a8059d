# Source for the syntax oracle's mutants (tests/syntax_oracle.rs): the
# constructs the repository's other Elixir files use little, mutated the
# same way as they are.
defmodule Oracle.Constructs do
  @moduledoc """
  Strings, #{:interpolated}, sigils and heredocs.
  """

  @pattern ~r/^[a-z]+(\d+)?$/i
  @words ~w(alpha beta gamma)a
  @charlist 'chars'

  @doc ~S"""
  A heredoc sigil, with "quotes" inside.
  """
  def greet(%{name: name} = person, opts \\ []) do
    greeting = Keyword.get(opts, :greeting, "Hello")
    "#{greeting}, #{String.capitalize(name)}! You are #{person.age + 1} next year."
  end

  def classify(value) do
    cond do
      is_binary(value) and value =~ @pattern -> {:ok, :word}
      is_list(value) -> {:ok, {:list, length(value)}}
      true -> {:error, "unknown: #{inspect(value)}"}
    end
  end

  def parse(<<version::8, size::16, payload::binary-size(size), rest::binary>>) do
    with {:ok, decoded} <- decode(version, payload),
         :ok <- validate(decoded) do
      {:ok, decoded, rest}
    else
      {:error, reason} -> {:error, reason}
      _ -> :error
    end
  end

  defp decode(1, payload), do: {:ok, :erlang.binary_to_term(payload)}
  defp decode(_, _), do: {:error, :version}

  defp validate(%{__struct__: _}), do: :ok
  defp validate(map) when is_map(map) and map_size(map) > 0, do: :ok
  defp validate(_), do: {:error, :empty}

  def totals(items) do
    items
    |> Enum.filter(fn %{qty: qty} -> qty > 0 end)
    |> Enum.map(&(&1.price * &1.qty))
    |> Enum.reduce(0, fn amount, sum ->
      sum + amount
    end)
  end

  def describe(list) when is_list(list) do
    for {key, value} <- list, into: %{} do
      case value do
        [head | tail] -> {key, [head | Enum.reverse(tail)]}
        other -> {key, ~s(value: #{inspect(other)})}
      end
    end
  end

  def retry(fun, attempts \\ 3) do
    try do
      fun.()
    rescue
      error in [ArgumentError, RuntimeError] ->
        if attempts > 1, do: retry(fun, attempts - 1), else: reraise(error, __STACKTRACE__)
    after
      :telemetry.execute([:oracle, :retry], %{attempts: attempts}, %{})
    end
  end

  def receive_one(timeout) do
    receive do
      {:message, body} when byte_size(body) < 1024 -> {:ok, body}
    after
      timeout -> {:error, :timeout}
    end
  end
end
