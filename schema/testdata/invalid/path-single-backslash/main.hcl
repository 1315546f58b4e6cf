backup "x" {
  source      = "\\srv\\x" # ERROR: starts with a single backslash
  destination = "/mnt/x"
}
