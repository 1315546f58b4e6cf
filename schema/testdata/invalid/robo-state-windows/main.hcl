robo {
  state_file = "C:/ProgramData/robo/state.json" # ERROR: plan and apply can only run on Windows
}
