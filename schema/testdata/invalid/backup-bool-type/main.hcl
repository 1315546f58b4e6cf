backup "x" {
  source          = "/srv/x"
  destination     = "/mnt/x"
  copy_empty_dirs = "yes please" # ERROR: copy_empty_dirs must be a bool
}
