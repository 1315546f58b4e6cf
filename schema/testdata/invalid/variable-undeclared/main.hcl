backup "x" {
  source      = "${var.root}/x" # ERROR: Unsupported attribute
  destination = "/mnt/x"
}
