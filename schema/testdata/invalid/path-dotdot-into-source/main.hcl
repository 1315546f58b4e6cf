backup "x" {
  source      = "/srv/x"
  destination = "/srv/y/../x/backup" # ERROR: lies inside the source
}
