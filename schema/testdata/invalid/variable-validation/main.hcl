variable "threads" {
  type    = number
  default = 200 # ERROR: threads must be from 1 to 128.

  validation {
    condition     = var.threads >= 1 && var.threads <= 128
    error_message = "threads must be from 1 to 128."
  }
}

variable "other" {
  default = "x"
}

variable "refs_other" {
  default = "y"

  validation {
    condition     = var.refs_other != var.other # ERROR: can only refer to the variable itself, as var.refs_other
    error_message = "no"
  }
}

locals {
  l = 1
}

variable "refs_local" {
  default = "z"

  validation {
    condition     = local.l == 1 # ERROR: Invalid reference in variable validation
    error_message = "no"
  }
}

variable "not_bool" {
  default = "z"

  validation {
    condition     = "maybe" # ERROR: The condition must be true or false.
    error_message = "no"
  }
}

variable "msg_with_value" {
  default = "bad" # ERROR: "bad" is not allowed

  validation {
    condition     = var.msg_with_value != "bad"
    error_message = "${jsonencode(var.msg_with_value)} is not allowed"
  }
}

variable "secret_msg" {
  default   = "hunter2" # ERROR: The error message included a sensitive value, so it is not shown.
  sensitive = true

  validation {
    condition     = var.secret_msg != "hunter2"
    error_message = "too short: ${var.secret_msg}"
  }
}

variable "missing_message" {
  default = "a"

  validation { # ERROR: The argument "error_message" is required
    condition = true
  }
}
