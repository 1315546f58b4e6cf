backup "x" {
  source         = "/srv/x"
  destination    = "/mnt/x"
  changing_files = "ignore" # ERROR: "ignore" is not a valid changing_files
}

backup "y" {
  source         = "/srv/y"
  destination    = "/mnt/y"
  changing_files = true # ERROR: "true" is not a valid changing_files
}
