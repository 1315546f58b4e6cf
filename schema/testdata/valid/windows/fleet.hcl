backup "forward" {
  source      = "C:/Users/Public/Documents"
  destination = "//nas01/backups/forward"
}

backup "escaped" {
  source      = "D:\\Data\\Finance"
  destination = "\\\\nas01\\backups\\escaped"
}

backup "mixed" {
  source      = "E:/Projects"
  destination = "\\\\nas01/backups/mixed/"
}
