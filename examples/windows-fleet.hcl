# A Windows fleet: every workstation backs up its users' documents and the
# finance share to the NAS every night, pushed by Group Policy into
# C:\ProgramData\robo\conf. robo validate accepts this file on any OS.

variable "nas" {
  default     = "//nas01.corp.example/backups"
  description = "UNC root of the backup share"
}

locals {
  host = lower(hostname())
  dest = "${var.nas}/${local.host}"
}

robo {
  state_file = "C:/ProgramData/robo/state.json"
  engine     = "auto" # robocopy.exe on Windows
  # Public keys of the hosts and admins that may read the secrets in
  # robo.secrets.json (robo secret keygen prints one per host).
  recipients = [
    "age1rgufemucv755rz859398x4qlura7eg52jd4nua087pd3gv0ap44q8l290l", # backup admins
  ]
}

# The NAS, declared once: sets whose paths lie under //nas01.corp.example/backups
# use these credentials (a temporary deviceless connection on Windows).
share "nas" {
  unc      = var.nas
  username = "CORP\\svc-backup"
  password = secret("nas") # age ciphertext in robo.secrets.json; never in git as plain text
}

schedule "nightly" {
  cron     = "30 1 * * *"
  timezone = "Europe/Berlin"
  jitter   = "20m" # spread the fleet over 20 minutes so the NAS is not hit at once
}

schedule "hourly" {
  cron = "@hourly"
}

backup "documents" {
  source         = "C:/Users"
  destination    = "${local.dest}/users"
  mode           = "mirror"
  exclude_dirs   = ["AppData", "Application Data", "node_modules", "$RECYCLE.BIN"]
  exclude_files  = ["NTUSER.DAT*", "*.tmp", "~$*", "Thumbs.db"]
  symlinks       = "skip" # junctions such as "Application Data" loop back on themselves
  time_tolerance = "2s"   # the NAS keeps coarser timestamps (robocopy /FFT)
  threads        = 16
  retries        = 3
  retry_wait     = "10s"
  max_delete     = "10%"
  schedule       = "nightly"
}

backup "finance" {
  source         = "\\\\fs01.corp.example\\finance"
  destination    = "${local.dest}/finance"
  mode           = "copy" # never delete: finance keeps everything
  exclude_older  = true
  time_tolerance = "2s"
  schedule       = "hourly"
  robocopy {
    extra_args = ["/COMPRESS"] # SMB compression on the wire (Windows 10 1809+)
  }
}
