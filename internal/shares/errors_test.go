package shares_test

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/shares"
)

// texts collects every error text a test produced, to check that no
// password ever appears in one.
type texts []string

func (x *texts) add(err error) error {
	if err != nil {
		*x = append(*x, err.Error())
	}
	return err
}

func (x texts) noSecret(t *testing.T, secrets ...string) {
	t.Helper()
	for _, s := range x {
		for _, secret := range secrets {
			if strings.Contains(s, secret) {
				t.Errorf("error text contains a password: %q", s)
			}
		}
	}
}

func TestDialErrors(t *testing.T) {
	s := server(t)
	ctx := context.Background()
	var seen texts
	wrongPW := "Wrong-" + s.Password
	cases := []struct {
		name    string
		target  shares.Target
		creds   shares.Credentials
		is      []error
		mention []string
	}{
		{"wrong password", target(s, "data"), shares.Credentials{User: s.User, Password: []byte(wrongPW)},
			[]error{shares.ErrLogonFailure}, []string{"127.0.0.1", s.User, "user name or the password"}},
		{"unknown user", target(s, "data"), shares.Credentials{User: "ghost", Domain: "CORP", Password: []byte(s.Password)},
			[]error{shares.ErrLogonFailure}, []string{`CORP\ghost`}},
		{"unknown share", target(s, "nope"), creds(s),
			[]error{shares.ErrNoSuchShare}, []string{`"nope"`, "no share"}},
		{"share denied", target(s, "data"), shares.Credentials{User: s.Reader, Password: []byte(s.ReaderPassword)},
			[]error{shares.ErrAccessDenied, fs.ErrPermission}, []string{`\\127.0.0.1\data`, s.Reader, "denied"}},
		{"not listening", shares.Target{Server: "127.0.0.1", Port: freePort(t), Share: "data"}, creds(s),
			[]error{shares.ErrUnreachable}, []string{"refused", "port"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := shares.Dial(ctx, tc.target, tc.creds, shares.Options{})
			if err == nil {
				c.Close()
				t.Fatal("dial worked")
			}
			seen.add(err)
			var de *shares.DialError
			if !errors.As(err, &de) {
				t.Errorf("not a *DialError: %T %v", err, err)
			}
			for _, want := range tc.is {
				if !errors.Is(err, want) {
					t.Errorf("%v is not %v", err, want)
				}
			}
			for _, m := range tc.mention {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("%q does not mention %q", err, m)
				}
			}
			t.Log(err)
		})
	}
	t.Run("timeout", func(t *testing.T) {
		// A listener that accepts and never answers.
		l := listen(t)
		_, err := shares.Dial(ctx, shares.Target{Server: "127.0.0.1", Port: l, Share: "data"}, creds(s), shares.Options{DialTimeout: 300 * time.Millisecond})
		seen.add(err)
		if !errors.Is(err, shares.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%v", err)
		}
		t.Log(err)
	})

	// Operations refused by the server.
	t.Run("read-only share", func(t *testing.T) {
		c := dial(t, s, "ro", shares.Options{})
		f := c.FS("")
		_, _, err := f.CreateTemp("", ".robo-x.", 0o644)
		seen.add(err)
		if !errors.Is(err, fs.ErrPermission) {
			t.Errorf("create on ro: %v", err)
		}
		err = f.Mkdir("d", 0o755)
		seen.add(err)
		if !errors.Is(err, fs.ErrPermission) {
			t.Errorf("mkdir on ro: %v", err)
		}
	})
	t.Run("unix permissions", func(t *testing.T) {
		c := dial(t, s, "private", shares.Options{})
		f := c.FS("")
		err := f.Mkdir("q", 0o755)
		seen.add(err)
		if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), `\\127.0.0.1\private\q`) {
			t.Errorf("mkdir on private: %v", err)
		}
	})
	t.Run("reader may read ro", func(t *testing.T) {
		os.WriteFile(filepath.Join(s.RODir, "r.txt"), []byte("r"), 0o644)
		c, err := shares.Dial(ctx, target(s, "ro"), shares.Credentials{User: s.Reader, Password: []byte(s.ReaderPassword)}, shares.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if e, err := c.FS("").Stat("r.txt"); err != nil || e.Size != 1 {
			t.Fatalf("%+v %v", e, err)
		}
	})
	t.Run("closed", func(t *testing.T) {
		c := dial(t, s, "data", shares.Options{})
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(); err != nil {
			t.Fatalf("second close: %v", err)
		}
		_, err := c.FS("").Stat("")
		seen.add(err)
		if !errors.Is(err, shares.ErrClosed) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("invalid dir", func(t *testing.T) {
		c := dial(t, s, "data", shares.Options{})
		_, err := c.FS("../x").Stat("")
		if err == nil {
			t.Fatal("FS(../x) worked")
		}
	})
	if len(seen) < 8 {
		t.Fatalf("only %d error texts collected", len(seen))
	}
	seen.noSecret(t, s.Password, wrongPW, s.ReaderPassword)
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// listen returns the port of a listener that accepts connections and never
// answers.
func listen(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().(*net.TCPAddr).Port
}
