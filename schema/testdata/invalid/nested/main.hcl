backup "inside" {
  source      = "/srv/data"
  destination = "/srv/data/backup" # ERROR: lies inside the source
}

backup "around" {
  source      = "/srv/other/sub"
  destination = "/srv/other" # ERROR: lies inside the destination
}

backup "same" {
  source      = "/srv/same"
  destination = "/srv/same/" # ERROR: same directory as the source
}
