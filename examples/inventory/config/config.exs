import Config

config :inventory, :low_stock_threshold, 5
