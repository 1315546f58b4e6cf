backup "rc" {
  source      = "C:/Data"
  destination = "//nas01/backups/data"
  threads     = 8
  robocopy {
    extra_args = [
      "/COMPRESS",
      "/MON:5", # ERROR: makes robocopy run forever
      "/IPG:50", # ERROR: cannot be used with multi-threaded copying
      "/PURGE", # ERROR: use mode = "mirror"
    ]
  }
}

backup "rc2" {
  source      = "C:/Other"
  destination = "//nas01/backups/other"
  robocopy {
    extra_args = ["/XX"] # ERROR: silently turns mirroring
    bogus      = 1 # ERROR: An argument named "bogus" is not expected here
  }
  robocopy { # ERROR: A backup takes one robocopy block
  }
}
