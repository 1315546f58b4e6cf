robo {
  copy           = "datso"
  directory_copy = "all"
}

backup "defaults" {
  source      = "/srv/a"
  destination = "/mnt/a"
}

backup "own" {
  source         = "/srv/b"
  destination    = "/mnt/b"
  copy           = "UTADS"
  directory_copy = "TAD"
}

backup "all" {
  source      = "/srv/c"
  destination = "/mnt/c"
  copy        = "All"
}

backup "sec" {
  source      = "/srv/d"
  destination = "/mnt/d"
  copy        = "sec"
}
