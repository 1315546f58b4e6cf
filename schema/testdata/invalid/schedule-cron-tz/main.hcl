schedule "nightly" {
  cron = "CRON_TZ=UTC 0 2 * * *" # ERROR: set the time zone with the schedule's timezone attribute
}
