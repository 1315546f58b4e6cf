share "nas" {
  unc      = "//nas/robo"
  username = "CORP\\svc-robo"
  password = secret("nas")
}

report {
  path = "//nas/robo/reports"
}

metrics {
  textfile = "/var/lib/node_exporter/textfile/robo.prom"
}

host_key {
  publish = "//nas/robo/keys"
}

backup "docs" {
  source      = "/srv/docs"
  destination = "//nas/robo/backup/docs"
  schedule    = "0 2 * * *"
}
