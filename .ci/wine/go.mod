module robo-wine-ci

go 1.26
