variable "x" {
  type    = number
  default = "many" # ERROR: The default of variable "x" is not a number
}

backup "home" {
  for_each    = toset([var.x]) # ERROR: The for_each set includes values that are not known
  source      = "/home/${each.key}"
  destination = "/mnt/backup/home/${each.key}"
}

backup "quiet" {
  for_each    = var.x
  source      = "/srv/q"
  destination = "/mnt/backup/q"
}
