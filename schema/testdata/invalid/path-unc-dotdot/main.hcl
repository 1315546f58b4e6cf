backup "x" {
  source      = "/srv/x"
  destination = "//nas01/../backups" # ERROR: server and share cannot be
}
