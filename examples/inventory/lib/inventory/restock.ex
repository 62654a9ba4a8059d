defmodule Inventory.Restock do
  @moduledoc """
  Decides which SKUs to reorder. Pure functions: no process needed.
  """

  @doc """
  SKUs whose count is below the threshold, with the quantity to order so
  that each reaches `target`.

      iex> Inventory.Restock.plan(%{"apple" => 2, "pear" => 40}, 5, 20)
      [{"apple", 18}]
  """
  @spec plan(%{String.t() => non_neg_integer()}, non_neg_integer(), pos_integer()) ::
          [{String.t(), pos_integer()}]
  def plan(counts, threshold, target) do
    counts
    |> Enum.filter(fn {_sku, count} -> count < threshold end)
    |> Enum.map(fn {sku, count} -> {sku, target - count} end)
    |> Enum.sort()
  end

  @doc "The configured low-stock threshold, read at runtime."
  def threshold, do: Application.get_env(:inventory, :low_stock_threshold, 5)
end
