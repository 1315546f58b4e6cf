backup "rc" {
  source      = "C:/Data"
  destination = "//nas01/backups/data"
  mode        = "copy"
  robocopy {
    extra_args = ["/PURGE"] # ERROR: /PURGE
  }
}
