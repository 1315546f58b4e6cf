backup "x" {
  source      = "/srv/x" "/srv/y" # ERROR: Missing newline after argument
  destination = "/mnt/x"
}
