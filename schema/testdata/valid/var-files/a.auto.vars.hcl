threads  = 4
excludes = ["*.tmp", "~$*"]
