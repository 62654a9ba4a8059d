defmodule Inventory.StockTest do
  use ExUnit.Case, async: true

  alias Inventory.Stock

  setup do
    stock = start_supervised!({Stock, name: nil})
    %{stock: stock}
  end

  test "reserving takes units out", %{stock: stock} do
    :ok = Stock.receive_goods(stock, "café-crème", 3)
    assert Stock.reserve(stock, "café-crème", 2) == :ok
    assert Stock.on_hand(stock, "café-crème") == 1
  end

  test "reserving more than is on hand fails", %{stock: stock} do
    assert Stock.reserve(stock, "apple", 1) == {:error, :insufficient_stock}
  end
end
