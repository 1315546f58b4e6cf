backup "c" {
  source      = "/srv/c"
  destination = "/mnt/backup/c"
}

moved {
  from = "a"
  to   = "b" # ERROR: Write one block: moved { from = "a", to = "c" }
}

moved {
  from = "b"
  to   = "c"
}
