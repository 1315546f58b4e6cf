# Per-host configuration without copy-paste: one block, one set per element.
variable "users" {
  type    = set(string)
  default = ["alice", "bob"]
}

variable "drives" {
  type = map(object({
    path    = string
    nightly = optional(bool, true)
  }))
  default = {
    c = { path = "/srv/c" }
    d = { path = "/srv/d", nightly = false }
  }
}

schedule "nightly" {
  cron = "0 2 * * *"
}

share "site" {
  for_each = { hq = "nas01", branch = "nas02" }
  unc      = "//${each.value}/backups"
  username = "CORP\\robo"
  password = secret("nas-${each.key}")
}

backup "home" {
  for_each    = var.users
  source      = "/home/${each.key}"
  destination = "${share.site["hq"].unc}/home/${each.value}"
}

backup "drive" {
  for_each    = var.drives
  source      = each.value.path
  destination = "/mnt/backup/drive-${each.key}"
  enabled     = each.value.nightly
  schedule    = each.value.nightly ? "nightly" : "@weekly"
}

backup "none" {
  for_each    = {}
  source      = "/nowhere"
  destination = "/mnt/backup/none"
}

moved {
  from = "home"
  to   = backup.home["alice"]
}

moved {
  from = "bob-home"
  to   = "home.bob"
}

moved {
  from = "carol"
  to   = backup.home["carol"] # no such key on this host: waits
}
