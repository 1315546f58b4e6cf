robo {
  state_file = "state/robo.json"
}

backup "docs" {
  source        = "src/docs"
  destination   = "/mnt/backup/docs"
  mode          = "mirror"
  include       = ["*"]
  exclude_files = ["*.tmp", "~$*"]
  exclude_dirs  = ["node_modules", ".cache"]
  time_tolerance = "2s"
  threads       = 4
  retries       = 3
  retry_wait    = "1s"
  max_delete    = "25%"
  schedule      = "nightly"
}

schedule "nightly" {
  cron     = "0 2 * * *"
  timezone = "Europe/Berlin"
  jitter   = "10m"
}
