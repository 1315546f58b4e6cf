package shares

import (
	"errors"
	"strings"
	"testing"

	smb2 "github.com/cloudsoda/go-smb2"

	"github.com/robo-backup/robo/internal/vfs"
)

// What a hostile server answers to a security query goes through
// secAnswer: a malformed descriptor is an error naming the file's UNC
// path (vfs.ParseSecurity's own cases are in internal/vfs), never a
// panic, and never a descriptor.
func TestSecAnswerMalformed(t *testing.T) {
	c := &Conn{target: Target{Server: "srv", Share: "sh"}}
	f := c.fsContext(t.Context(), "root", nil)
	for name, raw := range map[string][]byte{
		"empty":        {},
		"truncated":    {1, 0, 4, 0x80, 20, 0, 0, 0},
		"DACL outside": {1, 0, 4, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0},
		"ACE overflow": {1, 0, 4, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 2, 0, 8, 0, 1, 0, 0, 0},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := f.secAnswer("d/f", vfs.SecOwner|vfs.SecDACL, smb2.SecurityInfoResult{Raw: raw})
			if s != nil || !errors.Is(err, vfs.ErrBadSecurityDescriptor) || !strings.Contains(err.Error(), `\\srv\sh\root\d\f`) {
				t.Fatalf("secAnswer: %+v, %v", s, err)
			}
		})
	}
}
