defmodule Inventory.SupplierFeed do
  @moduledoc """
  Imports the delivery notes suppliers upload as CSV files into a
  directory: one `sku,quantity,status` line per SKU, where status is
  `delivered` or `backordered`. Looks for new files every minute.
  """
  use GenServer
  require Logger

  alias Inventory.Stock

  @poll_every :timer.minutes(1)
  @statuses %{"delivered" => :delivered, "backordered" => :backordered}

  @spec start_link(Path.t()) :: GenServer.on_start()
  def start_link(dir) do
    GenServer.start_link(__MODULE__, dir, name: __MODULE__)
  end

  @impl true
  def init(dir) do
    send(self(), :poll)
    {:ok, %{dir: dir, seen: MapSet.new()}}
  end

  @impl true
  def handle_info(:poll, %{dir: dir, seen: seen} = state) do
    new_files =
      case File.ls(dir) do
        {:ok, files} -> Enum.reject(files, &MapSet.member?(seen, &1))
        {:error, _reason} -> []
      end

    Enum.each(new_files, &import(Path.join(dir, &1)))
    Process.send_after(self(), :poll, @poll_every)
    {:noreply, %{state | seen: Enum.into(new_files, seen)}}
  end

  def handle_info(message, state) do
    Logger.warning("#{inspect(__MODULE__)} ignored an unexpected message: #{inspect(message)}")
    {:noreply, state}
  end

  @doc "Imports one delivery note."
  @spec import(Path.t()) :: :ok
  def import(path) do
    path
    |> File.stream!()
    |> Stream.map(&String.trim/1)
    |> Stream.reject(&(&1 == ""))
    |> Enum.each(&import_line/1)
  end

  defp import_line(line) do
    [sku, quantity, status] = String.split(line, ",")

    case Map.fetch(@statuses, status) do
      {:ok, :delivered} -> Stock.receive_goods(sku, String.to_integer(quantity))
      {:ok, :backordered} -> Logger.info("#{sku} is backordered")
      :error -> Logger.warning("#{sku}: unknown delivery status #{inspect(status)}")
    end
  end
end
