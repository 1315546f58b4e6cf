package main

import "fmt"

func (e *env) printf(format string, args ...any) {
	fmt.Fprintf(e.stdout, format, args...)
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
