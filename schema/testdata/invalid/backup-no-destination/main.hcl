backup "x" { # ERROR: The argument "destination" is required
  source = "/srv/x"
}
