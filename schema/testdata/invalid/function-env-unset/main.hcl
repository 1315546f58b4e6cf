backup "x" {
  source      = env("ROBO_TEST_UNSET_VARIABLE") # ERROR: is not set
  destination = "/mnt/x"
}
