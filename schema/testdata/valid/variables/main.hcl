variable "root" {
  default     = "/srv"
  description = "Where the data lives"
}

variable "threads" {
  default = 4
}

locals {
  dest = "${local.base}/${lower(hostname())}"
  base = "/mnt/backup"
}

backup "data" {
  source      = "${var.root}/data"
  destination = "${local.dest}/data"
  threads     = var.threads
  include     = split(",", env("ROBO_TEST_INCLUDE", "*.txt,*.md"))
}
