schedule "nightly" {
  cron   = "0 2 * * *"
  jitter = "36h" # ERROR: jitter is at most 24h
}
