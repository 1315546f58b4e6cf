backup "home" {
  for_each    = toset(["alice", "a b"]) # ERROR: The key "a b" cannot name an instance
  source      = "/srv/h"
  destination = "/mnt/backup/h"
}

backup "case" {
  for_each    = toset(["Alice", "alice"]) # ERROR: differ only in case
  source      = "/srv/c-${each.key}"
  destination = "/mnt/backup/c-${each.key}"
}

backup "users" {
  for_each    = toset(["bob"])
  source      = "/srv/u"
  destination = "/mnt/backup/u"
}

backup "users.bob" { # ERROR: Two sets are named "users.bob": instance backup.users["bob"]
  source      = "/srv/ub"
  destination = "/mnt/backup/ub"
}

backup "users" { # ERROR: A backup block named "users" was already declared
  source      = "/srv/u2"
  destination = "/mnt/backup/u2"
}

moved {
  from = "users"
  to   = backup.users["bob"]["x"] # ERROR: Invalid to
}

moved {
  from = "old"
  to   = backup.users[1] # ERROR: Invalid to
}
