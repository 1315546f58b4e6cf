moved {
  from = "a"
  to   = "b" # ERROR: a -> b -> a
}

moved {
  from = "b"
  to   = "a" # ERROR: b -> a -> b
}
