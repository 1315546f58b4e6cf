backup "x" { # ERROR: Unclosed configuration block
  source      = "/srv/x"
  destination = "/mnt/x"
