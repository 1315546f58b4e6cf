package shares

import (
	"context"
	"errors"
	"testing"
)

func TestPoolLookup(t *testing.T) {
	m := func(s string) Mount {
		u, err := ParseUNC(s)
		if err != nil {
			t.Fatal(err)
		}
		return Mount{Name: s, UNC: u}
	}
	p := NewPool(context.Background(), Options{}, m(`\\srv\data`), m(`\\srv\data\deep`), m(`\\other\x\only`))
	defer p.Close()
	for _, c := range []struct{ root, mount string }{
		{`\\SRV\Data\a`, `\\srv\data`},
		{`\\srv\data\Deep\b`, `\\srv\data\deep`},
		{`\\other\x\only\y`, `\\other\x\only`},
		{`\\other\x\elsewhere`, ""},
		{`\\nobody\share`, ""},
	} {
		got, _, ok := p.Lookup(c.root)
		if ok != (c.mount != "") || got.Name != c.mount {
			t.Errorf("Lookup(%s) = %q %v, want %q", c.root, got.Name, ok, c.mount)
		}
		if c.mount == "" {
			if _, err := p.Open(c.root); !errors.Is(err, ErrNoMount) {
				t.Errorf("Open(%s): %v", c.root, err)
			}
		}
	}
	if _, err := p.Open("/local/path"); err == nil {
		t.Error("Open of a local path worked")
	}
	p.Close()
	if _, err := p.Open(`\\srv\data`); !errors.Is(err, ErrClosed) {
		t.Errorf("Open after Close: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
