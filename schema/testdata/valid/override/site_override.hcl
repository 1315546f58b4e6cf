# Dropped by a GPO on the hosts of one site.
robo {
  max_parallel = 6
}

locals {
  root = "/mnt/site-backup"
}

backup "docs" {
  threads = 16

  robocopy {
    extra_args = ["/COMPRESS", "/XA:SH"]
  }
}

variable "retries" {
  default = 5
}
