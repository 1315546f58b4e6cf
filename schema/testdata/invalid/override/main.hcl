locals {
  root = "/mnt/backup"
}

backup "docs" {
  source      = "/srv/docs"
  destination = "${local.root}/docs"
}
