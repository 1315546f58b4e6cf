# Issue 15: switches from admins' .bat files that change or hide robocopy's
# listing would make a plan show nothing while the run purges; each is
# refused at its element, naming what to do instead.
backup "bat" {
  source      = "D:/Data"
  destination = "//nas01/backups/data"
  robocopy {
    extra_args = [
      "/NFL", # ERROR: /NFL: changes or hides lines of robocopy's listing
      "/NDL", # ERROR: /NDL: changes or hides lines of robocopy's listing
      "/TS", # ERROR: /TS: changes or hides lines
      "/M", # ERROR: /M: clears the archive attribute of the source files
      "/MT:16", # ERROR: use threads = n
      "/XD", # ERROR: use exclude_dirs
      "cache",
      "/COMPRESS",
      "/FROB", # ERROR: robo does not know this robocopy switch
    ]
  }
}
