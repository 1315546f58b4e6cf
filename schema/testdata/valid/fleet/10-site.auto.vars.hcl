nas = "//nas02.branch.example/backups"
