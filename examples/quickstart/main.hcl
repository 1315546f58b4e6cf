# robo quickstart: mirror the bundled sample tree into ./backup beside it.
#
#   robo -chdir examples/quickstart plan
#   robo -chdir examples/quickstart apply -auto-approve
#
# Relative paths are relative to this directory.

backup "quickstart" {
  source        = "sample"
  destination   = "backup"
  mode          = "mirror"
  exclude_files = ["*.tmp", "~$*"]
  exclude_dirs  = ["node_modules", ".cache"]
}
