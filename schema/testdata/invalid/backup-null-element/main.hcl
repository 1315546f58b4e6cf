backup "x" {
  source       = "/srv/x"
  destination  = "/mnt/x"
  exclude_dirs = ["a", null] # ERROR: The list holds a null element
}
