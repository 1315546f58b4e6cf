backup "nope" { # ERROR: There is no backup "nope" in the configuration's other files
  threads = 4
}

backup "docs" {
  threads = 500 # ERROR: threads must be a whole number from 1 to 128.
  colour  = "blue" # ERROR: An argument named "colour" is not expected here.
}

robo { # ERROR: There is no robo block in the configuration's other files
  max_parallel = 4
}

moved { # ERROR: Cannot override moved blocks
  from = "a"
  to   = "docs"
}

locals {
  root  = "/mnt/site"
  other = "x" # ERROR: There is no local value "other"
}
