backup "db" {
  source       = "/srv/db"
  destination  = "/mnt/backup/db"
  before       = ["/usr/local/bin/db-freeze", "--wait", "30"]
  after        = ["/usr/local/bin/db-thaw"]
  on_failure   = ["logger", "-t", "robo", "db backup failed"]
  hook_timeout = "2m"
  alert_after  = "26h"
}

backup "docs" {
  source      = "/srv/docs"
  destination = "/mnt/backup/docs"
}

notify "ops-webhook" {
  url  = "https://hooks.example.com/services/T000/B000/XXXX"
  on   = ["failure", "stale"]
  sets = ["db"]
}

notify "hc-db" {
  url    = "https://hc-ping.com/0b7e5a4e-1111-4222-8333-944445555666"
  format = "healthchecks"
  sets   = ["db"]
}

notify "hc-secret" {
  url     = secret("hc_docs")
  format  = "healthchecks"
  sets    = ["docs"]
  timeout = "30s"
}

notify "mail" {
  smtp {
    host     = "smtp.example.com"
    username = "robo@example.com"
    password = secret("smtp")
    from     = "Robo <robo@example.com>"
    to       = ["ops@example.com", "admin@example.com"]
  }
}

notify "relay" {
  smtp {
    host     = "localhost"
    port     = 2525
    starttls = false
    from     = "robo@example.com"
    to       = ["ops@example.com"]
  }
  on = ["failure", "success"]
}
