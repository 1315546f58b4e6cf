backup "x" {
  source      = "/srv/x"
  destination = "/mnt/x"
  threads     = "four" * 2 # ERROR: Invalid operand
}
