defmodule Inventory.SupplierClient do
  @moduledoc "The supplier's ordering API (a stand-in: it logs what it would send)."
  require Logger

  @spec place_order([{String.t(), pos_integer()}]) :: :ok
  def place_order(orders) do
    Enum.each(orders, fn {sku, quantity} -> Logger.info("ordering #{quantity} x #{sku}") end)
  end
end
