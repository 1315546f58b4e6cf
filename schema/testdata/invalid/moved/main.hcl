backup "documents" {
  source      = "/srv/documents"
  destination = "/mnt/backup/documents"
}

backup "photos" {
  source      = "/srv/photos"
  destination = "/mnt/backup/photos"
}

moved {
  from = "docs"
  to   = "documentz" # ERROR: There is no backup block named "documentz"
}

moved {
  from = backup.photos # ERROR: a backup block named "photos" is still declared
  to   = backup.documents
}

moved {
  from = "old"
  to   = "documents"
}

moved {
  from = "old" # ERROR: Duplicate moved block
  to   = "photos"
}

moved {
  from = "older"
  to   = backup.documents # ERROR: Both "older" and "old"
}

moved {
  from = var.x # ERROR: it cannot use variables or functions
  to   = "photos"
}

moved {
  from = "bad name" # ERROR: "bad name" is not a valid backup name
  to   = "photos"
}

moved {
  from = "photos"
  to   = "photos" # ERROR: Redundant moved block
}

moved {
  from = "pix"
  to   = local.photos.x # ERROR: Invalid to
}

moved { # ERROR: The argument "to" is required
  from = "a"
}
