backup "x" {
  source        = "/srv/x"
  destination   = "/mnt/x"
  exclude_files = ["*.tmp", ""] # ERROR: A pattern is empty
}
