backup "x" {
  source      = "/srv/x\q" # ERROR: Invalid escape sequence
  destination = "/mnt/x"
}
