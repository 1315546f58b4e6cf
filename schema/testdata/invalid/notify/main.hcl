backup "db" {
  source       = "/srv/db"
  destination  = "/mnt/backup/db"
  before       = [] # ERROR: The command is empty
  after        = ["", "x"] # ERROR: The program (the first element of after) is empty
  on_failure   = ["notify-send", secret("pw")] # ERROR: secret(...) cannot be used in on_failure
  hook_timeout = "48h" # ERROR: hook_timeout is at most 24h
  alert_after  = "soon" # ERROR: "soon" is not a duration
}

backup "web" {
  source       = "/srv/web"
  destination  = "/mnt/backup/web"
  before       = "freeze.sh" # ERROR: Incorrect type for before
  hook_timeout = "0s" # ERROR: hook_timeout is at least 1s
  alert_after  = "10s" # ERROR: alert_after is at least 1m
}

notify "nothing" { # ERROR: needs a webhook url
  on = ["failure"]
}

notify "both" {
  url = "https://example.com/hook"
  smtp { # ERROR: either a url or an smtp block
    host = "smtp.example.com"
    from = "robo@example.com"
    to   = ["ops@example.com"]
  }
}

notify "badurl" {
  url     = "ftp://example.com/TOKEN-abc" # ERROR: must start with https://
  on      = ["failure", "sometimes"] # ERROR: "sometimes" is not an outcome
  sets    = ["db", "nope"] # ERROR: no backup block named "nope"
  timeout = "1h" # ERROR: timeout is from 1s to 5m
}

notify "nohost" {
  url = "https:///path" # ERROR: the url has no host
}

notify "glued" {
  url = "https://hc-ping.com/${secret("hc")}" # ERROR: A secret must be used whole
}

notify "mail" {
  format = "healthchecks" # ERROR: format applies to a webhook
  smtp {
    host     = "smtp.example.com:587" # ERROR: without a port
    port     = 70000 # ERROR: port must be a whole number from 1 to 65535
    username = "robo"
    password = "hunter2" # ERROR: takes a secret, not a value written in the configuration
    from     = "not an address" # ERROR: is not an email address
    to       = ["ops@example.com", "@@"] # ERROR: "@@" is not an email address
  }
}

notify "plain" {
  smtp {
    host     = "smtp.example.com"
    starttls = false
    username = "robo"
    password = secret("smtp") # ERROR: Password over plain text
    from     = "robo@example.com"
    to       = ["ops@example.com"]
  }
}

notify "nouser" {
  smtp {
    host     = "smtp.example.com"
    password = secret("smtp") # ERROR: A password needs a username
    from     = "robo@example.com"
    to       = []  # ERROR: to is empty
  }
}

notify "bad name" { # ERROR: is not a valid notify name
  url = "https://example.com"
}

notify "nothing" { # ERROR: Duplicate notify block
  url = "https://example.com"
}
