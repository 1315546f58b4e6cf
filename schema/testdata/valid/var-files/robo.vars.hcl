root    = "/mnt/from-robo-vars"
threads = 3
