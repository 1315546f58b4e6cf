# Secrets may be referenced in variables and locals; no attribute of a
# backup takes one, and secret() only records the name.
robo {
  recipients = [
    "age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKxGgaFWYkTZ3jq3TdaOKqM9vN7tRGJ47zb1WcXq2tQ0 admin@example",
  ]
  identity     = "keys/identity.txt"
  secrets_file = "secrets/robo.secrets.json"
}

locals {
  nas = secret("nas")
}

backup "docs" {
  source      = "/srv/docs"
  destination = "/mnt/docs"
}
