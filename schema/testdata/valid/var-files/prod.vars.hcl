# Read only with -var-file prod.vars.hcl.
root    = "/mnt/prod"
threads = 12
