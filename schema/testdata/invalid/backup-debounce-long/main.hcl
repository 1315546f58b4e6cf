backup "x" {
  source      = "/srv/x"
  destination = "/mnt/x"
  debounce    = "25h" # ERROR: debounce is at most 24h
}
