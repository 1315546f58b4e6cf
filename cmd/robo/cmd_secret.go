package main

func runSecret(e *env, args []string) error {
	return fatalf("robo secret is not implemented yet")
}
