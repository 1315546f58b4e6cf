# Issue 16: what a set copies is the copy attribute, not extra_args.
backup "acl" {
  source      = "C:/Data"
  destination = "//nas01/backups/data"
  robocopy {
    extra_args = [
      "/COMPRESS",
      "/COPYALL", # ERROR: use copy = "DATSOU"
      "/sec", # ERROR: use copy = "sec"
      "/SECFIX", # ERROR: robo passes /SECFIX itself when copy has S, O or U
      "/IT", # ERROR: robo passes /IT itself when copy has A
      "/DCOPY:DATE", # ERROR: use directory_copy
    ]
  }
}
