defmodule Inventory.Restock do
  @moduledoc """
  Decides which SKUs to reorder, and orders them from the supplier.
  """
  require Logger

  @threshold Application.get_env(:inventory, :low_stock_threshold, 5)
  @target 20

  @doc """
  SKUs whose count is below the threshold, with the quantity to order so
  that each reaches the target.
  """
  @spec plan(%{String.t() => non_neg_integer()}) :: [{String.t(), pos_integer()}]
  def plan(counts) do
    counts
    |> Enum.filter(fn {_sku, count} -> count < @threshold end)
    |> Enum.map(fn {sku, count} -> {sku, @target - count} end)
    |> Enum.sort()
  end

  @doc "Sends the orders to the supplier; it confirms them by e-mail."
  def order(orders) do
    Task.async(fn ->
      Logger.info("ordering #{length(orders)} SKUs")
      Inventory.SupplierClient.place_order(orders)
    end)

    :ok
  end
end
