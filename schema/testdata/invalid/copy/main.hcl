robo {
  copy = "DATQ" # ERROR: copy "DATQ": "Q" is not a copy letter
}

backup "no-data" {
  source      = "/srv/a"
  destination = "/mnt/a"
  copy        = "AT" # ERROR: copy "AT" leaves out D (the data of files)
}

backup "twice" {
  source         = "/srv/b"
  destination    = "/mnt/b"
  copy           = "DATSS" # ERROR: copy "DATSS" names S (security (ACLs)) twice
  directory_copy = "DATS" # ERROR: S (security (ACLs)) is copied for files only
}

backup "skip-streams" {
  source         = "/srv/c"
  destination    = "/mnt/c"
  copy           = "DATX" # ERROR: robocopy's X (skip alternate data streams) is not offered
  directory_copy = "T" # ERROR: directory_copy "T" leaves out D (the data of directories)
}

backup "empty" {
  source      = "/srv/d"
  destination = "/mnt/d"
  copy        = "" # ERROR: copy is empty
}

backup "type" {
  source      = "/srv/e"
  destination = "/mnt/e"
  copy        = ["D"] # ERROR: copy must be a string
}
