backup "live" {
  source      = "/srv/live"
  destination = "/mnt/live"
}

backup "maybe" {
  source      = "/srv/maybe"
  destination = "/mnt/maybe"
  snapshot    = "auto"
}

backup "frozen" {
  source      = "/srv/frozen"
  destination = "/mnt/frozen"
  snapshot    = "required"
}
