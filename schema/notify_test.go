package schema

import (
	"strings"
	"testing"
	"time"
)

func TestHooksAndNotifyValues(t *testing.T) {
	cfg, diags := Load("testdata/valid/notify", testOptions())
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	db := cfg.Backup("db")
	if strings.Join(db.Hooks.Before, "|") != "/usr/local/bin/db-freeze|--wait|30" || strings.Join(db.Hooks.After, "|") != "/usr/local/bin/db-thaw" ||
		len(db.Hooks.OnFailure) != 4 || db.Hooks.Timeout != 2*time.Minute || db.AlertAfter != 26*time.Hour {
		t.Errorf("db hooks %+v alert_after %v", db.Hooks, db.AlertAfter)
	}
	if d := cfg.Backup("docs"); !d.Hooks.Empty() || d.Hooks.Timeout != DefaultHookTimeout || d.AlertAfter != 0 {
		t.Errorf("docs hooks %+v alert_after %v", d.Hooks, d.AlertAfter)
	}
	if len(cfg.Notifiers) != 5 {
		t.Fatalf("notifiers %v", cfg.Notifiers)
	}
	w := cfg.Notifiers["ops-webhook"]
	if w.Kind() != "webhook" || w.Format != "json" || strings.Join(w.On, ",") != "failure,stale" || w.Timeout != DefaultNotifyTimeout ||
		!w.Wants("failure", "db") || w.Wants("failure", "docs") || w.Wants("success", "db") {
		t.Errorf("ops-webhook %+v", w)
	}
	if hc := cfg.Notifiers["hc-db"]; hc.Format != "healthchecks" || strings.Join(hc.On, ",") != "success,failure" {
		t.Errorf("hc-db %+v", hc)
	}
	if hs := cfg.Notifiers["hc-secret"]; hs.URL != "" || hs.URLSecret == nil || hs.URLSecret.Name != "hc_docs" || hs.Timeout != 30*time.Second {
		t.Errorf("hc-secret %+v", hs)
	}
	m := cfg.Notifiers["mail"]
	if m.Kind() != "smtp" || m.SMTP.Port != 587 || !m.SMTP.StartTLS || m.SMTP.Password == nil || m.SMTP.Password.Name != "smtp" ||
		len(m.SMTP.To) != 2 || strings.Join(m.On, ",") != "failure" || !m.Wants("failure", "anything") {
		t.Errorf("mail %+v %+v", m, m.SMTP)
	}
	if r := cfg.Notifiers["relay"].SMTP; r.Port != 2525 || r.StartTLS || r.Password != nil {
		t.Errorf("relay %+v", r)
	}
}
