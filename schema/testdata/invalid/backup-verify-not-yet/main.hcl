backup "x" {
  source             = "/srv/x"
  destination        = "/mnt/x"
  verify_after_apply = true # ERROR: Not supported yet
}
