backup "x" {
  source      = "/srv/x"
  destination = "/mnt/x"
  retries     = null # ERROR: retries must not be null
}
