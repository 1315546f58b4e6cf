share "nas" {
  unc      = "//nas01/backups"
  username = "CORP\\svc-backup"
  password = secret("nas")
  port     = 1445
  timeout  = "90s"
}

backup "docs" {
  source      = "/srv/docs"
  destination = "${share.nas.unc}/docs"
  watch       = true
  debounce    = "10s"
  rescan      = "30m"
  robocopy {
    extra_args = ["/COMPRESS"]
  }
}
