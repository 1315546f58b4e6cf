backup "x" {
  source             = "/srv/x"
  destination        = "/mnt/x"
  verify_after_apply = "always" # ERROR: verify_after_apply is true
}
