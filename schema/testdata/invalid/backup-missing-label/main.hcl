backup { # ERROR: Missing name for backup
  source      = "/srv/x"
  destination = "/mnt/x"
}
