schedule "nightly" {
  cron = "0 2 * * *"
}

schedule "nightly" { # ERROR: Schedule "nightly" was already declared
  cron = "0 3 * * *"
}
