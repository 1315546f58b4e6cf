variable "root" {
  type      = string
  default   = "/srv/private"
  sensitive = true
}

locals {


}

backup "data" {
  source      = "${var.root}/data" # ERROR: comes from the sensitive variable var.root
  destination = "/mnt/backup/data"
}
