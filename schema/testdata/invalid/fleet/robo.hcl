report {
  path = "//elsewhere/reports" # ERROR: declare share "NAME"
  host = "../../etc/passwd" # ERROR: cannot name a host in a fleet folder
}

report { # ERROR: Only one report block is allowed
  path = "/srv/reports"
}

metrics {
  textfile = "/var/lib/node_exporter/robo.txt" # ERROR: does not end in .prom
}

host_key {
  publish = "relative/keys"
  host    = "NUL" # ERROR: cannot name a host
}
