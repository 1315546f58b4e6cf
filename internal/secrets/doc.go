// Package secrets will own robo's age-encrypted secrets: a secrets file that
// keeps each secret's name in plain text and its value as age ciphertext,
// resolved only at apply time so that plaintext never reaches a plan, the
// state, a log or the audit trail. Not implemented yet: see the shares and
// secrets issue.
package secrets
