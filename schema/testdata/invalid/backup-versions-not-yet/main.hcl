backup "x" {
  source      = "/srv/x"
  destination = "/mnt/x"
  versions { # ERROR: versions blocks are not supported
  }
}
