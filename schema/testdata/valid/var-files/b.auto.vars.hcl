site = "hq"
