# The robocopy engine's command line under Wine: .ci/wine/run applies this
# through a fake robocopy.exe and compares what it parses back with
# robocopy-argv.json.
robo {
  engine = "robocopy"
}

# Spaces, a trailing slash on the source and a trailing backslash on the
# destination (a backslash before robo's closing quote would escape it),
# Unicode, and patterns holding spaces.
backup "spaces" {
  source         = "C:/robo rc/src dir/"
  destination    = "C:\\robo rc\\dst ünï 中文\\"
  mode           = "mirror"
  include        = ["*.txt", "my file*.doc"]
  exclude_files  = ["*.tmp", "my file.txt", "sub dir/file with space.txt"]
  exclude_dirs   = ["node modules", "sub dir/inner dir", "cache\\"]
  time_tolerance = "2s"
}

# Drive roots: C:\ and D:\ end in a backslash.
backup "driveroot" {
  source      = "C:/"
  destination = "D:/"
  mode        = "copy"
}

# Issue 16: what a set copies, in robocopy's letters: /COPYALL (E is
# dropped: robocopy copies EAs with the data), /IT and /SECFIX.
backup "acl" {
  source         = "C:/robo rc/src dir"
  destination    = "C:/robo rc/acl dst"
  mode           = "copy"
  copy           = "all"
  directory_copy = "DAT"
}
