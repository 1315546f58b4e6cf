variable "root" {
  default = "/srv"
}

variable "root" { # ERROR: Duplicate variable
  default = "/data"
}
