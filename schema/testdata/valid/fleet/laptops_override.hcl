# laptops_override.hcl: laptops are often off at 02:00
backup "home" {
  schedule = "@every 4h"
  watch    = true
}
