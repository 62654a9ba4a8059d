import Config

config :inventory, :low_stock_threshold, 5
config :inventory, :feed_dir, "priv/supplier_feed"
