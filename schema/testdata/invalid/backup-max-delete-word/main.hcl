backup "x" {
  source      = "/srv/x"
  destination = "/mnt/x"
  max_delete  = "lots" # ERROR: max_delete is a count of files
}
