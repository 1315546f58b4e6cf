schedule "bad" {
  cron = "0 25 * * *" # ERROR: is not a cron expression
}

schedule "tz" {
  cron     = "0 2 * * *"
  timezone = "Mars/Olympus" # ERROR: is not a time zone name
  jitter   = "soon" # ERROR: is not a duration
}

backup "b" {
  source      = "/srv/b"
  destination = "/mnt/b"
  schedule    = "61 * * * *" # ERROR: is not a cron expression
}
