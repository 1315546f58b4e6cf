package main

import (
	"bytes"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/robo-backup/robo/internal/notify/smtptest"
)

// notifyCanary is the SMTP password: it must never be written or printed
// by robo. notifyToken is the secret part of a webhook URL: it must never
// be printed or recorded either.
const (
	notifyCanary = "CANARY-smtp-0c4e19d2"
	notifyToken  = "TOKEN-6b2f1e0a"
)

// notifySetup writes a configuration with a webhook and an SMTP notifier
// whose password is the secret "smtp" (set to the canary), and returns it.
func notifySetup(t *testing.T, smtpPort int, hookURL string) (root, conf, identity string) {
	t.Helper()
	root = t.TempDir()
	conf = filepath.Join(root, "conf")
	os.MkdirAll(filepath.Join(root, "src"), 0o755)
	os.MkdirAll(conf, 0o755)
	os.WriteFile(filepath.Join(root, "src", "a.txt"), []byte("a"), 0o644)
	identity = filepath.Join(root, "id.txt")
	e, out, errb := testEnv("", false)
	if code := run([]string{"secret", "keygen", "-o", identity}, e); code != 0 {
		t.Fatalf("keygen: %s", errb)
	}
	hcl := `robo {
  recipients = ["` + strings.TrimSpace(out.String()) + `"]
}
backup "docs" {
  source      = "../src"
  destination = "../dst"
}
backup "gone" {
  source      = "../missing"
  destination = "../dst2"
}
notify "hook" {
  url = "` + hookURL + `"
  on  = ["failure", "success"]
}
notify "mail" {
  smtp {
    host     = "127.0.0.1"
    port     = ` + strconv.Itoa(smtpPort) + `
    starttls = false
    username = "robo"
    password = secret("smtp")
    from     = "robo@example.com"
    to       = ["ops@example.com"]
  }
  sets = ["gone"]
}
`
	os.WriteFile(filepath.Join(conf, "main.hcl"), []byte(hcl), 0o644)
	e, _, errb = testEnv(notifyCanary+"\n", false)
	if code := run([]string{"-chdir", conf, "secret", "set", "smtp"}, e); code != 0 {
		t.Fatalf("set: %s", errb)
	}
	return root, conf, identity
}

func TestNotifyApplyAndTest(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	var bodies []string
	status := http.StatusOK
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		paths, bodies = append(paths, r.URL.Path), append(bodies, string(b))
		w.WriteHeader(status)
	}))
	defer hook.Close()
	srv := smtptest.Start(t, &smtptest.Server{Auth: true, User: "robo", Pass: notifyCanary})
	root, conf, identity := notifySetup(t, srv.Port(), hook.URL+"/"+notifyToken)
	var outputs bytes.Buffer
	runCmd := func(want int, args ...string) string {
		t.Helper()
		e, out, errb := testEnv("", false)
		code := run(append([]string{"-chdir", conf}, args...), e)
		outputs.Write(out.Bytes())
		outputs.Write(errb.Bytes())
		if code != want {
			t.Fatalf("robo %v: exit %d, want %d\n%s%s", args, code, want, out, errb)
		}
		return out.String() + errb.String()
	}

	// The apply: docs succeeds, gone is refused. The webhook hears both;
	// the mail notifier only gone, authenticated with the password.
	runCmd(1, "apply", "-auto-approve", "-identity", identity)
	mu.Lock()
	if strings.Join(paths, ",") != "/"+notifyToken+",/"+notifyToken || !strings.Contains(strings.Join(bodies, ""), `"set":"docs","outcome":"success"`) ||
		!strings.Contains(strings.Join(bodies, ""), `"set":"gone","outcome":"refused"`) {
		t.Fatalf("webhook got %v %v", paths, bodies)
	}
	mu.Unlock()
	msgs := srv.Messages()
	if len(msgs) != 1 || msgs[0].AuthPass != notifyCanary || !strings.Contains(msgs[0].Data, "Subject: robo: gone refused on ") {
		t.Fatalf("mail %+v", msgs)
	}

	// robo notify test, each notifier.
	out := runCmd(0, "notify", "test", "-identity", identity, "mail")
	if !strings.Contains(out, "notify mail: test notification sent to smtp://127.0.0.1:"+strconv.Itoa(srv.Port())+" (1 recipient)") {
		t.Fatalf("%s", out)
	}
	out = runCmd(0, "notify", "test", "hook")
	if !strings.Contains(out, "notify hook: test notification sent to "+hook.URL+"/… (webhook") {
		t.Fatalf("%s", out)
	}
	if len(srv.Messages()) != 2 || !strings.Contains(srv.Messages()[1].Data, "Subject: robo: test notification from") {
		t.Fatalf("mail %+v", srv.Messages())
	}
	out = runCmd(1, "notify", "test", "nope")
	if !strings.Contains(out, `there is no notify block named "nope"`) || !strings.Contains(out, "the notifiers are: hook, mail") {
		t.Fatalf("%s", out)
	}

	// Failing notifications are warnings: the apply's exit status is its
	// own (0 here, with only the good set), and the failures are recorded.
	mu.Lock()
	status = http.StatusInternalServerError
	mu.Unlock()
	srv.Pass = "another" // the server now rejects the canary
	out = runCmd(0, "apply", "-auto-approve", "-identity", identity, "-target", "docs")
	if !strings.Contains(out, "robo: warning: notify hook: success of docs: POST "+hook.URL+"/…: HTTP 500") {
		t.Fatalf("%s", out)
	}
	out = runCmd(1, "notify", "test", "-identity", identity, "mail")
	if !strings.Contains(out, "robo: error: notify mail: the test notification failed: 127.0.0.1:") || !strings.Contains(out, "535") {
		t.Fatalf("%s", out)
	}
	audit, err := os.ReadFile(filepath.Join(conf, ".robo", "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"event":"notify.sent"`, `"event":"notify.failed"`, `"notifier":"mail"`, `"target":"` + hook.URL + `/…"`} {
		if !bytes.Contains(audit, []byte(want)) {
			t.Errorf("audit trail lacks %s", want)
		}
	}
	runCmd(0, "audit", "verify")

	// Neither the password nor the URL's token in any output, nor the
	// password in any file (the state, the audit trail, logs, plans).
	for _, secret := range []string{notifyCanary, notifyToken} {
		if strings.Contains(outputs.String(), secret) {
			t.Errorf("output holds %s:\n%s", secret, outputs.String())
		}
	}
	if bytes.Contains(audit, []byte(notifyToken)) {
		t.Errorf("the audit trail holds the webhook token")
	}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(notifyCanary)) {
			t.Errorf("%s holds the SMTP password", p)
		}
		return nil
	})
}
