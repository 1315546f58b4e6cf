backup "a" "b" { # ERROR: Extraneous label for backup
  source      = "/srv/x"
  destination = "/mnt/x"
}
