threads = 4 # ERROR: An argument named "threads" is not expected here

backup "x" {
  source      = "/srv/x"
  destination = "/mnt/x"
}
