variable "threads" {
  type    = number
  default = 2
}

variable "host" {
  type    = string
  default = "h"
}

variable "dirs" {
  type    = list(string)
  default = []
}

backup "docs" {
  source       = "/srv/docs"
  destination  = "/mnt/backup/${var.host}"
  threads      = var.threads
  exclude_dirs = var.dirs
}
