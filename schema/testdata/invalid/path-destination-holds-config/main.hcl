backup "x" {
  source      = "/srv/x"
  destination = "." # ERROR: contains this configuration directory
}
