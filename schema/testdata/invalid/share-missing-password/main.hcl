share "nas" { # ERROR: The argument "password" is required
  unc      = "//nas01/backups"
  username = "svc"
}
