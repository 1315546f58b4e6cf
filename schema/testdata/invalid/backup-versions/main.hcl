backup "a" {
  source      = "/srv/a"
  destination = "/mnt/a"
  versions {
    keep = "30m" # ERROR: shorter than 1h
  }
}

backup "b" {
  source      = "/srv/b"
  destination = "/mnt/b"
  versions {
    keep = 0 # ERROR: Invalid keep
  }
}

backup "c" {
  source      = "/srv/c"
  destination = "/mnt/c"
  versions {
    keep = "soon" # ERROR: is not a duration
  }
}

backup "d" {
  source      = "/srv/d"
  destination = "/mnt/d"
  versions {
    keep = 2.5 # ERROR: not a whole number
  }
}

backup "e" {
  source      = "/srv/e"
  destination = "/mnt/e"
  versions { # ERROR: Missing required argument
  }
}

backup "f" {
  source      = "/srv/f"
  destination = "/mnt/f"
  versions {
    keep = 3
  }
  versions { # ERROR: Duplicate versions block
    keep = 4
  }
}

backup "g" {
  source      = "/srv/g"
  destination = "/mnt/g"
  versions {
    keep  = 3
    after = 1 # ERROR: Unsupported argument
  }
}
