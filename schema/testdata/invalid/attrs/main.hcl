backup "bad" {
  source         = "/srv/a"
  destination    = "/mnt/a"
  mode           = "sync" # ERROR: "sync" is not a valid mode
  threads        = 0 # ERROR: threads must be a whole number from 1 to 128
  retries        = "many" # ERROR: retries must be a number, not a string
  time_tolerance = "2 seconds" # ERROR: is not a duration
  symlinks       = "follow" # ERROR: "follow" is not a valid symlinks
  max_delete     = "150%" # ERROR: max_delete is a count of files
  exclude_files  = "*.tmp" # ERROR: exclude_files must be a list of string
  include        = ["docs/*.txt"] # ERROR: include patterns match file names only
  frobnicate     = true # ERROR: An argument named "frobnicate" is not expected here
}

backup "nosrc" { # ERROR: The argument "source" is required
  destination = "/mnt/b"
}

backup "envvar" {
  source      = "%APPDATA%\\Docs" # ERROR: which robo does not expand
  destination = "/mnt/c"
  schedule    = "weekly" # ERROR: There is no schedule block named "weekly"
}

backup "envvar" { # ERROR: A backup named "envvar" was already declared
  source      = "/srv/x"
  destination = "/mnt/x"
}

unknown "block" { # ERROR: Blocks of type "unknown" are not expected here
}

backup "waits" {
  source      = "/srv/w"
  destination = "/mnt/w"
  retry_wait  = "2h" # ERROR: retry_wait is at most 1h:
}
