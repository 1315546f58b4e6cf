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

variable "retries" {
  type    = number
  default = 1
}

backup "logs" {
  source      = "/srv/logs"
  destination = "${local.root}/logs"
  retries     = var.retries
}
