package main

func runRobocopy(e *env, args []string) error {
	return fatalf("robo robocopy is not implemented yet")
}
