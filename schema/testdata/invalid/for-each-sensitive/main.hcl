variable "users" {
  type      = set(string)
  default   = ["alice"]
  sensitive = true
}

variable "paths" {
  type      = map(string)
  default   = { a = "/srv/a" }
  sensitive = true
}

backup "home" {
  for_each    = var.users # ERROR: for_each uses the sensitive variable var.users
  source      = "/srv/h"
  destination = "/mnt/backup/h"
}

backup "paths" {
  for_each    = var.paths # ERROR: Its keys become set names
  source      = "/srv/p"
  destination = "/mnt/backup/p"
}

backup "secret" {
  for_each    = toset([secret("x")]) # ERROR: for_each uses secret "x"
  source      = "/srv/s"
  destination = "/mnt/backup/s"
}

backup "value" {
  for_each    = { a = secret("y") }
  source      = "/srv/${each.key}"
  destination = each.value # ERROR: secret(...) cannot be used in destination
}
