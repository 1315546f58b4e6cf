locals {
  root = "/srv"
}

locals {
  root = "/data" # ERROR: Duplicate local value
}
