// Package secrets owns robo's age-encrypted secrets: the secrets file
// (robo.secrets.json), which keeps each secret's name in plain text and its
// value as armored age ciphertext, the recipients values are encrypted to,
// and the identities that decrypt them.
//
// The configuration language (schema) only records references: secret("nas")
// is a name. This package reads names without decrypting (so robo validate
// can check that a secret exists on a host that cannot read it) and, through
// a Resolver, decrypts a value at apply time, once per name, for the code
// that needs it (SMB share credentials). Plaintext never leaves the returned
// byte slices: errors name the secret and the file, never the value.
//
// It imports no other robo package. cmd/robo wires it into schema.Options
// (SecretExists, CheckRecipient) and implements the robo secret commands.
package secrets
