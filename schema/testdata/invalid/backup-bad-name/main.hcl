backup "my docs!" { # ERROR: is not a valid backup name
  source      = "/srv/x"
  destination = "/mnt/x"
}
