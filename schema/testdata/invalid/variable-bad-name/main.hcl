variable "2fast" { # ERROR: Invalid variable name
  default = "x"
}
