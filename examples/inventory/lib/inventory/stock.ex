defmodule Inventory.Stock do
  @moduledoc """
  Keeps the quantity on hand of each SKU, and every five minutes orders
  what runs low.

  The process owns the counts; callers go through the functions below and
  never send it messages directly.
  """
  use GenServer
  require Logger

  alias Inventory.Restock

  @type sku :: String.t()

  @check_every :timer.minutes(5)
  @restock_target 20

  # Client API

  @spec start_link(keyword()) :: GenServer.on_start()
  def start_link(opts) do
    name = Keyword.get(opts, :name, __MODULE__)
    GenServer.start_link(__MODULE__, %{}, name: name)
  end

  @doc "Adds `quantity` units of `sku` (which may be new)."
  @spec receive_goods(GenServer.server(), sku(), pos_integer()) :: :ok
  def receive_goods(server \\ __MODULE__, sku, quantity) when quantity > 0 do
    GenServer.cast(server, {:receive, sku, quantity})
  end

  @doc "Takes `quantity` units of `sku` out, if that many are on hand."
  @spec reserve(GenServer.server(), sku(), pos_integer()) :: :ok | {:error, :insufficient_stock}
  def reserve(server \\ __MODULE__, sku, quantity) when quantity > 0 do
    GenServer.call(server, {:reserve, sku, quantity})
  end

  @doc "Units of `sku` on hand."
  @spec on_hand(GenServer.server(), sku()) :: non_neg_integer()
  def on_hand(server \\ __MODULE__, sku) do
    GenServer.call(server, {:on_hand, sku})
  end

  # Server callbacks

  @impl true
  def init(counts) do
    Process.send_after(self(), :check_levels, @check_every)
    {:ok, counts}
  end

  @impl true
  def handle_call({:reserve, sku, quantity}, _from, counts) do
    case Map.get(counts, sku, 0) do
      available when available >= quantity ->
        {:reply, :ok, Map.put(counts, sku, available - quantity)}

      _available ->
        {:reply, {:error, :insufficient_stock}, counts}
    end
  end

  def handle_call({:on_hand, sku}, _from, counts) do
    {:reply, Map.get(counts, sku, 0), counts}
  end

  @impl true
  def handle_cast({:receive, sku, quantity}, counts) do
    {:noreply, Map.update(counts, sku, quantity, &(&1 + quantity))}
  end

  @impl true
  def handle_info(:check_levels, counts) do
    case Restock.plan(counts, Restock.threshold(), @restock_target) do
      [] -> :ok
      orders -> Restock.order(orders)
    end

    Process.send_after(self(), :check_levels, @check_every)
    {:noreply, counts}
  end

  def handle_info(message, counts) do
    Logger.warning("#{inspect(__MODULE__)} ignored an unexpected message: #{inspect(message)}")
    {:noreply, counts}
  end
end
