backup "x" {
  source      = "/srv/x"
  destination = "//nas01" # ERROR: needs a server and a share
}
