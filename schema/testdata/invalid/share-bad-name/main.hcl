share "nas.01" { # ERROR: Invalid share name
  unc      = "//nas01/backups"
  username = "svc"
  password = secret("nas")
}
