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

share "slow" {
  unc      = "//nas02/a"
  username = "svc"
  password = secret("nas")
  timeout  = "soon" # ERROR: "soon" is not a duration
}

share "zero" {
  unc      = "//nas02/b"
  username = "svc"
  password = secret("nas")
  timeout  = "0s" # ERROR: timeout is at least 1s
}

share "huge" {
  unc      = "//nas02/c"
  username = "svc"
  password = secret("nas")
  timeout  = "7d" # ERROR: timeout is at most 1h
}

share "negative" {
  unc      = "//nas02/d"
  username = "svc"
  password = secret("nas")
  timeout  = "-5s" # ERROR: "-5s" is negative
}

share "number" {
  unc      = "//nas02/e"
  username = "svc"
  password = secret("nas")
  timeout  = ["60s"] # ERROR: timeout must be a string
}
