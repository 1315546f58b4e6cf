backup "x" {
  source      = "$HOME/docs" # ERROR: which robo does not expand
  destination = "/mnt/x"
}
