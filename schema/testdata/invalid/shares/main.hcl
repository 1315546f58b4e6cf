share "nas" {
  unc      = "//nas01/backups"
  username = "CORP\\svc-backup"
  password = "hunter2" # ERROR: takes a secret
}

share "bad" {
  unc      = "C:/not/unc" # ERROR: is not a UNC path
  username = "CORP\\" # ERROR: is not DOMAIN\user
  password = secret("nas")
  port     = 70000 # ERROR: port must be a whole number from 1 to 65535
}

share "dup" { # ERROR: has the same UNC root as share "nas"
  unc      = "\\\\NAS01\\Backups"
  username = "svc@corp.example"
  password = secret("nas")
}
