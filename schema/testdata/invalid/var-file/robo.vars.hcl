threads = "many" # ERROR: Variable "threads" takes a number: a number is required.
host    = lower("X") # ERROR: A variable file holds constant values only.
dirs    = { a = 1 } # ERROR: Variable "dirs" takes a list(string)
nope    = 1 # ERROR: no variable "nope" is declared in the configuration, so the value is not used
