defmodule Shop.Inventory do
  @moduledoc """
  Keeps stock counts for the shop, one process per node.
  """
  use GenServer

  @name __MODULE__

  ## Public API

  def start_link(opts \\ []) do
    GenServer.start_link(__MODULE__, Keyword.get(opts, :stock, %{}), name: @name)
  end

  def stock(item) do
    GenServer.call(@name, {:stock, item}, :infinity)
  end

  def reserve(item, count) when count > 0 do
    GenServer.call(@name, {:reserve, item, count}, :infinity)
  end

  def restock(item, count) do
    GenServer.cast(@name, {:restock, item, count})
  end

  ## Callbacks

  @impl true
  def init(stock) do
    {:ok, stock}
  end

  @impl true
  def handle_call({:stock, item}, _from, stock) do
    {:reply, Map.get(stock, item, 0), stock}
  end

  def handle_call({:reserve, item, count}, _from, stock) do
    case Map.get(stock, item, 0) do
      available when available >= count ->
        {:reply, :ok, Map.put(stock, item, available - count)}

      _ ->
        {:reply, {:error, :insufficient_stock}, stock}
    end
  end

  @impl true
  def handle_cast({:restock, item, count}, stock) do
    {:noreply, Map.update(stock, item, count, &(&1 + count))}
  end
end
