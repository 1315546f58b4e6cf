backup "documents" {
  source      = "/srv/documents"
  destination = "/mnt/backup/documents"
}

backup "pictures.2024" {
  source      = "/srv/pictures"
  destination = "/mnt/backup/pictures"
}

moved {
  from = "docs"
  to   = backup.documents
}

moved {
  from = "photos-2024"
  to   = "pictures.2024"
}
