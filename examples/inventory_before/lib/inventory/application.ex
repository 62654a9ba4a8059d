defmodule Inventory.Application do
  @moduledoc false
  use Application

  def start(_type, _args) do
    children = [
      {Inventory.Stock, name: Inventory.Stock}
    ]

    {:ok, pid} = Supervisor.start_link(children, strategy: :one_for_one, name: Inventory.Supervisor)
    Inventory.SupplierFeed.watch(Application.fetch_env!(:inventory, :feed_dir))
    {:ok, pid}
  end
end
