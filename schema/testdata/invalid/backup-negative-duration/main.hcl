backup "x" {
  source      = "/srv/x"
  destination = "/mnt/x"
  retry_wait  = "-5s" # ERROR: retry_wait
}
