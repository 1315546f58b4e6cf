robo {
  parallel = 4 # ERROR: An argument named "parallel" is not expected here
}
