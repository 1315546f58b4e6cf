robo {
  state_file = secret("nas") # ERROR: secret(...) cannot be used in state_file
  recipients = [
    "age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq",
    "AGE-SECRET-KEY-1QQQQ", # ERROR: is an age identity (a private key), not a recipient
    "gpg:0xDEADBEEF",       # ERROR: element 3 is not a recipient
    "age1pq1abc",           # ERROR: post-quantum
  ]
  identity = "//server/share/identity.txt" # ERROR: not on a share
}

variable "pw" {
  default = secret("nas")
}

locals {
  pw    = secret("nas")
  inner = "x-${secret("nas")}"
}

backup "docs" {
  source        = secret("nas")                       # ERROR: secret(...) cannot be used in source
  destination   = "/mnt/${local.pw}"                  # ERROR: cannot be used in destination
  include       = [local.inner]                       # ERROR: cannot be used in include
  exclude_dirs  = [upper(var.pw)]                     # ERROR: cannot be used in exclude_dirs
  threads       = secret("nas") == "x" ? 4 : 8         # ERROR: cannot be used in threads
  max_delete    = true ? local.pw : "10"              # ERROR: cannot be used in max_delete
  schedule      = secret("a b")                       # ERROR: "a b" is not a valid secret name
  mode          = secret("-dash")                     # ERROR: "-dash" is not a valid secret name
}
