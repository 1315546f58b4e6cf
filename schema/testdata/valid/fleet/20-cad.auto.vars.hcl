drives = ["c", "d"]
users  = ["jdoe", "asmith"]
