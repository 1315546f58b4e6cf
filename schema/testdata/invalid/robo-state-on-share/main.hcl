robo {
  state_file = "//nas01/robo/state.json" # ERROR: must be on a local disk of this host
}
