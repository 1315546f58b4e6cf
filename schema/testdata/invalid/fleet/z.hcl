metrics { # ERROR: Only one metrics block is allowed
  textfile = "//nas/share/robo.prom"
}

host_key {} # ERROR: Only one host_key block is allowed
