variable "needed" { # ERROR: Variable "needed" has no default
  type     = string
  default  = null
  nullable = false
}
