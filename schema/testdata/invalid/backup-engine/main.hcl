backup "x" {
  source      = "/srv/x"
  destination = "/mnt/x"
  engine      = "rclone" # ERROR: "rclone" is not a valid engine
}
