schedule "nightly" { # ERROR: The argument "cron" is required
}
