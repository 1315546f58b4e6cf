package schema

import (
	"strings"
	"testing"
)

func TestFleetBlocks(t *testing.T) {
	cfg, diags := Load("testdata/valid/fleet-blocks", testOptions())
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	f := cfg.Fleet
	if f.Report == nil || f.Report.Dir != `\\nas\robo\reports` || f.Report.Kind != UNCPath || f.Report.Host != "HOST01" {
		t.Errorf("report = %+v", f.Report)
	}
	if f.Metrics == nil || f.Metrics.Textfile != "/var/lib/node_exporter/textfile/robo.prom" {
		t.Errorf("metrics = %+v", f.Metrics)
	}
	if f.HostKey == nil || f.HostKey.Publish != `\\nas\robo\keys` || f.HostKey.Host != "HOST01" {
		t.Errorf("host_key = %+v", f.HostKey)
	}
	// Absent blocks stay nil.
	cfg, _ = Load("testdata/valid/basic", testOptions())
	if cfg.Fleet.Report != nil || cfg.Fleet.Metrics != nil || cfg.Fleet.HostKey != nil {
		t.Errorf("fleet = %+v", cfg.Fleet)
	}
}

// A host name that cannot name a file is a located diagnostic, also when
// it comes from hostname().
func TestFleetHostNameFromOS(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "robo.hcl", "report {\n  path = \"/srv/reports\"\n}\n")
	opts := testOptions()
	opts.Hostname = func() (string, error) { return "bad\x1bname", nil }
	_, diags := Load(dir, opts)
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "Set host =") || diags[0].Subject == nil {
		t.Fatalf("diags = %v", diags)
	}
}

func TestValidHostName(t *testing.T) {
	for s, want := range map[string]bool{
		"PC-0042": true, "pc42.corp.example": true, "a": true, "web_01": true,
		"": false, "-pc": false, "pc-": false, "a..b": false, "../x": false, "a/b": false, `a\b`: false,
		"con": false, "NUL.corp": false, "COM1": false, "pc 1": false, "pc\x00": false, "pé": false,
		strings.Repeat("a", 254): false, strings.Repeat("a", 253): true,
	} {
		if got := ValidHostName(s); got != want {
			t.Errorf("ValidHostName(%q) = %v", s, got)
		}
	}
}
