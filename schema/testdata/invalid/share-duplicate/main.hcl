share "nas" {
  unc      = "//nas01/backups"
  username = "svc"
  password = secret("nas")
}

share "nas" { # ERROR: Duplicate share
  unc      = "//nas02/backups"
  username = "svc"
  password = secret("nas")
}
