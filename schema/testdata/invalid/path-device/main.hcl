backup "x" {
  source      = "/srv/x"
  destination = "\\\\?\\C:\\backup" # ERROR: device paths
}
