backup "x" {
  source      = "//NAS01/Data"
  destination = "//nas01/data/Backup" # ERROR: lies inside the source
}
