defmodule Inventory.RestockTest do
  use ExUnit.Case, async: true

  test "orders what is below the threshold, up to the target" do
    assert Inventory.Restock.plan(%{"apple" => 2, "pear" => 40}) == [{"apple", 18}]
  end
end
