variable "root" {
  type        = string
  default     = "/srv"
  description = "Where the data lives"

  validation {
    condition     = substr(var.root, 0, 1) == "/"
    error_message = "root must be an absolute path."
  }
}

variable "threads" {
  type    = number
  default = 4

  validation {
    condition     = var.threads >= 1 && var.threads <= 128
    error_message = "threads must be from 1 to 128."
  }
}

variable "dirs" {
  type    = list(string)
  default = ["cache", "tmp"]
}

variable "tags" {
  type    = map(string)
  default = { site = "berlin" }
}

variable "share" {
  type = object({
    server = string
    port   = optional(number, 445)
  })
  default = { server = "nas01" }
}

variable "watch" {
  type     = bool
  default  = false
  nullable = false
}

variable "anything" {
  type    = any
  default = [1, "two"]
}

variable "nas_password" {
  default   = secret("nas")
  sensitive = true
}

share "nas" {
  unc      = "//${var.share.server}/backups"
  username = "backup"
  password = var.nas_password
  port     = var.share.port
}

backup "data" {
  source       = "${var.root}/data"
  destination  = "//nas01/backups/data"
  threads      = var.threads
  exclude_dirs = var.dirs
  watch        = var.watch
}
