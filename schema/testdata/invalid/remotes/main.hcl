remote "cloud" {
  type = "ftp" # ERROR: is not a valid type
}

remote "s3box" { # ERROR: needs bucket
  type              = "s3"
  access_key_id     = "AKIAEXAMPLE"
  secret_access_key = "plain-text-secret" # ERROR: takes a secret
  storage_class     = "STANDARD_IA"
  host              = "x" # ERROR: takes no host
  chunk_size        = "1M" # ERROR: chunk_size is from 5MiB
}

remote "blob" {
  type      = "azureblob"
  account   = "devstoreaccount1"
  key       = secret("azure-key")
  container = "a/b" # ERROR: holds a slash
  endpoint  = "ftp://x" # ERROR: is not an http:// or https:// URL
}

remote "box" { # ERROR: needs private_key
  type        = "sftp"
  host        = "backup.example.net"
  user        = "robo"
  known_hosts = "garbage" # ERROR: is not a known_hosts line
  bwlimit     = "08:00,512k 25:00,off" # ERROR: is not a time of day
}

remote "dav" {
  type     = "webdav"
  url      = "https://user:pw@dav.example.net/" # ERROR: holds credentials
  password = secret("dav")
}

remote "x" { # ERROR: is not a valid remote name
  type = "webdav"
  url  = "https://dav.example.net/"
}

backup "a" {
  source      = "/data/a"
  destination = "nowhere:backups/a" # ERROR: no remote block of that name
}

backup "b" {
  source      = "/data/b"
  destination = "blob:../b" # ERROR: holds ".."
}

backup "c" {
  source      = "/data/c"
  destination = "dav:c"
  engine      = "robocopy" # ERROR: robocopy copies between folders only
}

backup "d" {
  source      = "dav:d" # ERROR: A remote can only be a destination
  destination = "/backups/d"
}
