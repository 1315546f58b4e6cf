backup "x" {
  source      = "/srv/x"
  destination = "/mnt/x"
  threads     = 2.5 # ERROR: threads must be a whole number from 1 to 128
}
