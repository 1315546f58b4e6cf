backup "one" {
  source      = "/srv/one"
  destination = "/mnt/backup/shared"
}

backup "two" {
  source      = "/srv/two"
  destination = "/mnt/backup/shared/two" # ERROR: overlaps the destination of "one"
}
