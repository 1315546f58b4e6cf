backup "x" { # ERROR: A variable file holds only NAME = VALUE lines
}
