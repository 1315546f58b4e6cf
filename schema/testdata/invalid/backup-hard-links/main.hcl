backup "x" {
  source      = "/srv/x"
  destination = "/mnt/x"
  hard_links  = "sometimes" # ERROR: hard_links must be a bool
}
