variable "list" {
  default = ["a", "b"]
}

backup "list" {
  for_each    = var.list # ERROR: Convert it with toset(...)
  source      = "/srv/${each.key}"
  destination = "/mnt/backup/list-${each.key}"
}

backup "numbers" {
  for_each    = toset([1, 2]) # ERROR: this is a set of number
  source      = "/srv/n"
  destination = "/mnt/backup/n"
}

backup "word" {
  for_each    = "alice" # ERROR: for_each takes a map or a set of strings, not a string
  source      = "/srv/w"
  destination = "/mnt/backup/w"
}

backup "null" {
  for_each    = null # ERROR: for_each must not be null
  source      = "/srv/null"
  destination = "/mnt/backup/null"
}

backup "twice" {
  for_each = {
    a = "/srv/a"
    a = "/srv/b" # ERROR: The key "a" is written twice in for_each
  }
  source      = each.value
  destination = "/mnt/backup/twice-${each.key}"
}

backup "plain" {
  source      = "/srv/${each.key}" # ERROR: each.key and each.value exist only in a block that has for_each
  destination = "/mnt/backup/plain"
}

backup "some" {
  for_each    = { good = 4, bad = 500 }
  source      = "/srv/some-${each.key}"
  destination = "/mnt/backup/some-${each.key}"
  threads     = each.value # ERROR: threads must be a whole number from 1 to 128. (for_each key "bad")
}

backup "all" {
  for_each    = toset(["x", "y"])
  source      = "/srv/all"
  destination = "/mnt/backup/all-${each.key}"
  mode        = "sync" # ERROR: "sync" is not a valid mode: use "mirror" or "copy".
}

backup "same" {
  for_each    = toset(["x", "y"])
  source      = "/srv/same-${each.key}"
  destination = "/mnt/backup/same" # ERROR: overlaps the destination of "same.x"
}

backup "empty" {
  for_each    = {}
  source      = "/srv/empty"
  destination = "/mnt/backup/empty"
  colour      = "blue" # ERROR: An argument named "colour" is not expected here.
}
