backup "checked" {
  source             = "/srv/checked"
  destination        = "/mnt/backup/checked"
  verify_after_apply = "checksum"
}

backup "quick" {
  source             = "/srv/quick"
  destination        = "/mnt/backup/quick"
  verify_after_apply = true
}

backup "live" {
  source         = "/srv/live"
  destination    = "/mnt/backup/live"
  changing_files = "warn"
}
