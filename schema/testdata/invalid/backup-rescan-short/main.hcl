backup "x" {
  source      = "/srv/x"
  destination = "/mnt/x"
  rescan      = "10s" # ERROR: rescan is at least 1m
}
