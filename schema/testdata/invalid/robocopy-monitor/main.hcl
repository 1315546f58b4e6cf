backup "rc" {
  source      = "C:/Data"
  destination = "//nas01/backups/data"
  robocopy {
    extra_args = ["/MOT:5"] # ERROR: makes robocopy run forever
  }
}
