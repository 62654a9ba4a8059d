defmodule Inventory.Restock do
  @moduledoc """
  Decides which SKUs to reorder (pure functions: no process needed), and
  orders them from the supplier.
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

  @doc """
  Sends the orders to the supplier without waiting for it: it confirms
  them by e-mail. The task runs under the application's Task.Supervisor
  and waits out the supplier's rate limit (one request every two seconds),
  so nobody else waits.
  """
  @spec order([{String.t(), pos_integer()}]) :: :ok
  def order(orders) do
    {:ok, _pid} =
      Task.Supervisor.start_child(Inventory.TaskSupervisor, fn ->
        Process.sleep(2_000)
        Inventory.SupplierClient.place_order(orders)
      end)

    :ok
  end
end
