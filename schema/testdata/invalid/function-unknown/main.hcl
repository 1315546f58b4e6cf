backup "x" {
  source      = getenv("HOME") # ERROR: Call to unknown function
  destination = "/mnt/x"
}
