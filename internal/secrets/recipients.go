package secrets

import (
	"fmt"
	"strings"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"golang.org/x/crypto/ssh"
)

// Recipient is a parsed public key that values are encrypted to.
type Recipient struct {
	age.Recipient
	// Text is the canonical form recorded in the secrets file: the age1...
	// string, or an SSH key's type and base64 key without its comment.
	Text string
}

// ParseRecipient parses an age X25519 recipient (age1...) or an SSH public
// key in authorized_keys form ("ssh-ed25519 AAAA... comment", "ssh-rsa ...").
// Errors never repeat the input, which may be a private key pasted by mistake.
func ParseRecipient(s string) (Recipient, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "AGE-SECRET-KEY-"):
		return Recipient{}, fmt.Errorf("this is an age identity (a private key), not a recipient; use its public key (age-keygen -y)")
	case strings.HasPrefix(s, "age1pq1"):
		return Recipient{}, fmt.Errorf("post-quantum age recipients are not supported yet")
	case strings.HasPrefix(s, "age1"):
		r, err := age.ParseX25519Recipient(s)
		if err != nil {
			return Recipient{}, fmt.Errorf("malformed age recipient: %v", err)
		}
		return Recipient{Recipient: r, Text: r.String()}, nil
	case strings.HasPrefix(s, "ssh-ed25519 "), strings.HasPrefix(s, "ssh-rsa "):
		pk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(s))
		if err != nil {
			return Recipient{}, fmt.Errorf("malformed SSH public key: %v", err)
		}
		r, err := agessh.ParseRecipient(s)
		if err != nil {
			return Recipient{}, fmt.Errorf("unusable SSH public key: %v", err)
		}
		return Recipient{Recipient: r, Text: sshText(pk)}, nil
	}
	return Recipient{}, fmt.Errorf("unknown recipient type: use an age public key (age1...) or an SSH public key (ssh-ed25519 or ssh-rsa)")
}

// CheckRecipient reports whether s parses as a recipient; it is
// schema.Options.CheckRecipient.
func CheckRecipient(s string) error {
	_, err := ParseRecipient(s)
	return err
}

// ParseRecipients parses every recipient, naming the first bad one by its
// position. Duplicates (by canonical text) are dropped.
func ParseRecipients(list []string) ([]Recipient, error) {
	var out []Recipient
	seen := map[string]bool{}
	for i, s := range list {
		r, err := ParseRecipient(s)
		if err != nil {
			return nil, fmt.Errorf("recipient %d: %w", i+1, err)
		}
		if !seen[r.Text] {
			seen[r.Text] = true
			out = append(out, r)
		}
	}
	return out, nil
}

func sshText(pk ssh.PublicKey) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pk)))
}

func ageRecipients(rs []Recipient) []age.Recipient {
	out := make([]age.Recipient, len(rs))
	for i, r := range rs {
		out[i] = r.Recipient
	}
	return out
}
