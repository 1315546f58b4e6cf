backup "x" {
  source         = "/srv/x"
  destination    = "/mnt/x"
  time_tolerance = "48h" # ERROR: time_tolerance is at most 24h
}
