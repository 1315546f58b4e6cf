variable "root" {
  type = string
}

variable "threads" {
  type    = number
  default = 2
}

variable "excludes" {
  type    = list(string)
  default = []
}

variable "site" {
  default = "none"
}

backup "data" {
  source        = "/srv/data"
  destination   = "${var.root}/${var.site}/data"
  threads       = var.threads
  exclude_files = var.excludes
}
