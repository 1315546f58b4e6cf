# The example of docs/fleet.md, "Per-host configuration" (TestFleetExample).
variable "nas" {
  type        = string
  default     = "//nas01.hq.example/backups"
  description = "UNC root of this site's backup share"
}

variable "drives" {
  type    = set(string)
  default = ["c"]
}

variable "users" {
  type    = set(string)
  default = []
}

locals {
  host = lower(hostname())
  root = "${var.nas}/${local.host}"
}

share "nas" {
  unc      = var.nas
  username = "CORP\\svc-backup"
  password = secret("nas")
}

schedule "nightly" {
  cron     = "0 2 * * *"
  jitter   = "30m"
  timezone = "Europe/Berlin"
}

backup "drive" {
  for_each      = var.drives
  source        = "${upper(each.key)}:/Data"
  destination   = "${local.root}/drive-${each.key}"
  schedule      = "nightly"
  exclude_files = ["*.tmp", "~$*"]
}

backup "home" {
  for_each    = var.users
  source      = "C:/Users/${each.key}/Documents"
  destination = "${local.root}/home/${each.key}"
  schedule    = "nightly"
}
