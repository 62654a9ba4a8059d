defmodule Inventory.Application do
  @moduledoc false
  use Application

  @impl true
  def start(_type, _args) do
    children = [
      {Registry, keys: :unique, name: Inventory.Registry},
      {Inventory.Stock, name: Inventory.Stock},
      {Task.Supervisor, name: Inventory.TaskSupervisor},
      {Inventory.SupplierFeed, Application.fetch_env!(:inventory, :feed_dir)}
    ]

    Supervisor.start_link(children, strategy: :one_for_one, name: Inventory.Supervisor)
  end
end
