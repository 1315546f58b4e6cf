backup "docs" {
  threads = 32
}
