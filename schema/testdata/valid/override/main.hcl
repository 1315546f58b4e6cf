robo {
  max_parallel = 2
}

locals {
  root = "/mnt/backup"
}

backup "docs" {
  source        = "/srv/docs"
  destination   = "${local.root}/docs"
  threads       = 4
  exclude_files = ["*.tmp"]

  robocopy {
    extra_args = ["/XA:H"]
  }
}
