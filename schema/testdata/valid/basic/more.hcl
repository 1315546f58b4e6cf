backup "photos" {
  source          = "/srv/photos"
  destination     = "/mnt/backup/photos"
  mode            = "copy"
  copy_empty_dirs = false
  exclude_older   = true
  symlinks        = "copy"
  hard_links      = true
  max_delete      = 100
  enabled         = false
  schedule        = "@every 6h"
}
