robo { # ERROR: Only one robo block is allowed
}

variable "needed" { # ERROR: has no default
}

backup "b" {
  source      = "C:relative" # ERROR: is relative to the current directory of drive
  destination = "/mnt/b"
  enabled     = "perhaps" # ERROR: enabled must be a bool
}
