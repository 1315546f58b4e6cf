backup "x" {
  source      = "  " # ERROR: the path is empty
  destination = "/mnt/x"
}
