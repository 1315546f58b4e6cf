robo {
  engine = "rsync" # ERROR: "rsync" is not a valid engine
}

locals {
  x = local.y # ERROR: depends on itself
  y = local.x # ERROR: depends on itself
}
