share "site" {
  for_each = ["nas01"] # ERROR: Convert it with toset(...)
  unc      = "//${each.value}/backups"
  username = "robo"
  password = secret("nas")
}

share "two" { # ERROR: Share "two.b" has the same UNC root as share "two.a"
  for_each = { a = "nas01", b = "nas01" }
  unc      = "//${each.value}/backups"
  username = "robo"
  password = secret("nas")
}

share "ok" {
  for_each = { hq = "nas03" }
  unc      = "//${each.value}/backups"
  username = "robo"
  password = secret("nas")
}

backup "a" {
  source      = "/srv/a"
  destination = "${share.ok.unc}/a" # ERROR: This object does not have an attribute named "unc"
}
