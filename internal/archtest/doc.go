// Package archtest holds no code: its test enforces that robo's packages
// import each other in one direction only (config → plan → apply → engine),
// the job depguard does in restic's .golangci.yml.
package archtest
