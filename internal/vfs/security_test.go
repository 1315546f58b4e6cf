package vfs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// validSD is a self-relative descriptor: owner S-1-5-32-544, group
// S-1-5-32-545, a protected DACL allowing Everyone (S-1-1-0) read.
func validSD() []byte {
	owner := []byte{1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0}
	group := []byte{1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x21, 2, 0, 0}
	everyone := []byte{1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0}
	ace := []byte{0, 0, 20, 0, 0xa9, 0, 0x12, 0}
	ace = append(ace, everyone...)
	acl := []byte{2, 0, 28, 0, 1, 0, 0, 0}
	acl = append(acl, ace...)
	sd := []byte{1, 0, 0x04, 0x90, 20, 0, 0, 0, 36, 0, 0, 0, 0, 0, 0, 0, 52, 0, 0, 0}
	sd = append(sd, owner...)
	sd = append(sd, group...)
	return append(sd, acl...)
}

func TestParseSecurity(t *testing.T) {
	sd := validSD()
	s, err := ParseSecurity(sd, SecOwner|SecDACL|SecSACL)
	if err != nil {
		t.Fatal(err)
	}
	if s.Owner != "S-1-5-32-544" || s.Group != "S-1-5-32-545" {
		t.Fatalf("owner %q group %q", s.Owner, s.Group)
	}
	if want := append([]byte("aclP:"), sd[52:]...); !bytes.Equal(s.DACL, want) {
		t.Fatalf("DACL %q, want %q", s.DACL, want)
	}
	if string(s.SACL) != "absent" || !bytes.Equal(s.SD, sd) {
		t.Fatalf("SACL %q, SD % x", s.SACL, s.SD)
	}
	// Only the parts asked for are returned.
	if s, err := ParseSecurity(sd, SecDACL); err != nil || s.Owner != "" || s.SACL != nil || s.DACL == nil {
		t.Fatalf("DACL only: %+v %v", s, err)
	}
	// A present DACL at offset 0 is a null DACL.
	null := append([]byte(nil), sd[:52]...)
	binary.LittleEndian.PutUint32(null[16:], 0)
	if s, err := ParseSecurity(null, SecDACL); err != nil || string(s.DACL) != "null" {
		t.Fatalf("null DACL: %+v %v", s, err)
	}
	// A 48-bit authority is written in hex, as Windows does.
	big := append([]byte(nil), sd...)
	big[22] = 1
	if s, err := ParseSecurity(big, SecOwner); err != nil || s.Owner != "S-1-0x010000000005-32-544" {
		t.Fatalf("big authority: %+v %v", s, err)
	}
}

// Malformed descriptors, as a hostile server may send them: each is an
// error wrapping ErrBadSecurityDescriptor, none panics.
func TestParseSecurityMalformed(t *testing.T) {
	mod := func(f func(b []byte) []byte) []byte { return f(validSD()) }
	put32 := func(off int, v uint32) []byte {
		return mod(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[off:], v); return b })
	}
	put16 := func(off int, v uint16) []byte {
		return mod(func(b []byte) []byte { binary.LittleEndian.PutUint16(b[off:], v); return b })
	}
	cases := map[string][]byte{
		"empty":                 nil,
		"short header":          validSD()[:19],
		"revision":              mod(func(b []byte) []byte { b[0] = 2; return b }),
		"absolute":              put16(2, 0x0004),
		"owner past the end":    put32(4, 1000),
		"owner offset overflow": put32(4, 0xfffffff8),
		"owner truncated":       put32(4, uint32(len(validSD())-9)),
		"SID revision":          mod(func(b []byte) []byte { b[20] = 3; return b }),
		"too many subauths":     mod(func(b []byte) []byte { b[21] = 200; return b }),
		"subauths past end":     mod(func(b []byte) []byte { b[53] = 14; b[61] = 15; return b[:len(b)-4] }),
		"DACL past the end":     put32(16, 4000),
		"DACL header cut":       validSD()[:56],
		"DACL size too big":     put16(54, 0xffff),
		"DACL size too small":   put16(54, 4),
		"ACL revision":          mod(func(b []byte) []byte { b[52] = 9; return b }),
		"ACE count too big":     put16(56, 5),
		"ACE size zero":         put16(62, 0),
		"ACE size odd":          put16(62, 19),
		"ACE past ACL":          put16(62, 24),
		"ACE SID too long":      mod(func(b []byte) []byte { b[69] = 5; return b }),
		"SACL bad":              mod(func(b []byte) []byte { b[3] |= 0x00; b[2] |= 0x10; binary.LittleEndian.PutUint32(b[12:], 3); return b }),
		"huge":                  make([]byte, 70<<10),
	}
	for name, sd := range cases {
		t.Run(name, func(t *testing.T) {
			s, err := ParseSecurity(sd, SecOwner|SecDACL|SecSACL)
			if !errors.Is(err, ErrBadSecurityDescriptor) {
				t.Fatalf("ParseSecurity: %+v, %v; want ErrBadSecurityDescriptor", s, err)
			}
		})
	}
}

func FuzzParseSecurity(f *testing.F) {
	f.Add(validSD())
	f.Add([]byte{1, 0, 0x14, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 20, 0, 0, 0, 2, 0, 8, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSecurity(b, SecOwner|SecDACL|SecSACL)
		if err != nil {
			return
		}
		// What parses parses again to the same (SetSecurity checks it
		// again), and its ACLs lie within the descriptor.
		s2, err := ParseSecurity(s.SD, SecOwner|SecDACL|SecSACL)
		if err != nil || s2.Owner != s.Owner || !bytes.Equal(s2.DACL, s.DACL) || !bytes.Equal(s2.SACL, s.SACL) {
			t.Fatalf("reparse: %+v %v", s2, err)
		}
		if len(s.DACL) > len(b)+6 || len(s.SACL) > len(b)+6 {
			t.Fatalf("ACL larger than the descriptor")
		}
	})
}
