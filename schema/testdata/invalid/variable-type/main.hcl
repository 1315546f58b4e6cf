variable "bad_type" {
  type = strng # ERROR: The keyword "strng" is not a valid type specification.
}

variable "mismatch" {
  type    = number
  default = "many" # ERROR: The default of variable "mismatch" is not a number
}

variable "list_mismatch" {
  type    = list(string)
  default = { a = 1 } # ERROR: Invalid default value for variable
}

variable "flag" {
  type      = bool
  default   = true
  sensitive = "yes" # ERROR: sensitive must be the literal true or false.
}

variable "maybe" {
  type     = string
  default  = "x"
  nullable = var.flag # ERROR: nullable must be the literal true or false.
}

variable "obj" {
  type = object({
    name = string
    port = optional(number, 445)
  })
  default = { port = 1 } # ERROR: attribute "name" is required
}
