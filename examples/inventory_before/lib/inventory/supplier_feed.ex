defmodule Inventory.SupplierFeed do
  @moduledoc """
  Reads the delivery notes suppliers upload as CSV files: one
  `sku,quantity,status` line per SKU, where status is `delivered` or
  `backordered`.
  """
  require Logger

  @doc "Imports every new file in `dir`, checking again every minute."
  def watch(dir) do
    spawn(fn -> poll(dir, MapSet.new()) end)
  end

  defp poll(dir, seen) do
    new_files = dir |> File.ls!() |> Enum.reject(&MapSet.member?(seen, &1))
    Enum.each(new_files, &import(Path.join(dir, &1)))
    Process.sleep(:timer.minutes(1))
    poll(dir, Enum.into(new_files, seen))
  end

  @doc "Imports one delivery note."
  def import(path) do
    path
    |> File.stream!()
    |> Stream.map(&String.trim/1)
    |> Stream.reject(&(&1 == ""))
    |> Enum.each(&import_line/1)
  end

  defp import_line(line) do
    [sku, quantity, status] = String.split(line, ",")

    case String.to_atom(status) do
      :delivered -> GenServer.cast(Inventory.Stock, {:receive, sku, String.to_integer(quantity)})
      :backordered -> Logger.info("#{sku} is backordered")
    end
  end
end
