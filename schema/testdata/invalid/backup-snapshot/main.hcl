backup "x" {
  source      = "/srv/x"
  destination = "/mnt/x"
  snapshot    = "always" # ERROR: "always" is not a valid snapshot: use "never", "auto" or "required"
}

backup "y" {
  source      = "/srv/y"
  destination = "/mnt/y"
  snapshot    = ["auto"] # ERROR: snapshot must be a string, not a tuple
}
