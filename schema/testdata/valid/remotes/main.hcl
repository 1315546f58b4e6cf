remote "offsite" {
  type          = "s3"
  endpoint      = "https://s3.eu-central-1.amazonaws.com"
  region        = "eu-central-1"
  bucket        = "acme-backup"
  storage_class = "STANDARD_IA"
  access_key_id = "AKIAEXAMPLE"
  secret_access_key = secret("s3-secret")
  bwlimit       = "08:00,512k 18:00,off"
  transfers     = 8
  multipart_threshold = "128M"
  chunk_size    = "32MiB"
}

remote "box" {
  type        = "sftp"
  host        = "backup.example.net"
  user        = "robo"
  private_key = secret("box-key")
  known_hosts = ["backup.example.net ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"]
}

backup "docs" {
  source      = "/data/docs"
  destination = "offsite:hosts/web1/docs"
}

backup "abs" {
  source      = "/data/abs"
  destination = "box:/srv/backup/abs/"
}

backup "drive" {
  source      = "/data/drive"
  destination = "C:/Backups/drive"
}
