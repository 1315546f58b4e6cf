robo {
  max_parallel = 0 # ERROR: max_parallel must be a whole number from 1 to 64
}
