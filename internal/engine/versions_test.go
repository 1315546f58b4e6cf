package engine

import (
	"slices"
	"testing"
	"time"
)

func TestVersionStamp(t *testing.T) {
	at := time.Date(2026, 11, 26, 14, 22, 33, 999, time.FixedZone("CET", 3600))
	if got := VersionStamp(at); got != "20261126T132233Z" {
		t.Fatalf("stamp %q", got)
	}
	if tm, ok := ParseVersionStamp("20261126T132233Z"); !ok || !tm.Equal(at.Truncate(time.Second)) {
		t.Fatalf("parse %v %v", tm, ok)
	}
	for _, bad := range []string{"", "..", "20261126T132233", "20261126t132233z", "2026-11-26", "20261326T132233Z", "x20261126T132233Z", "../20261126T132233Z"} {
		if _, ok := ParseVersionStamp(bad); ok {
			t.Errorf("%q parsed as a run folder", bad)
		}
	}
}

func TestVersionsToPrune(t *testing.T) {
	names := []string{"20261120T000000Z", "20261101T000000Z", "notes", "20261125T120000Z", "20261126T100000Z"}
	now := time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		v      Versions
		newRun bool
		want   []string
	}{
		{Versions{KeepAge: 36 * time.Hour}, true, []string{"20261101T000000Z", "20261120T000000Z"}},
		{Versions{KeepAge: 24 * time.Hour}, true, []string{"20261101T000000Z", "20261120T000000Z", "20261125T120000Z"}},
		{Versions{KeepAge: 30 * 24 * time.Hour}, true, nil},
		{Versions{KeepAge: time.Hour}, false, []string{"20261101T000000Z", "20261120T000000Z", "20261125T120000Z", "20261126T100000Z"}},
		{Versions{KeepCount: 2}, false, []string{"20261101T000000Z", "20261120T000000Z"}},
		{Versions{KeepCount: 2}, true, []string{"20261101T000000Z", "20261120T000000Z", "20261125T120000Z"}},
		{Versions{KeepCount: 1}, true, []string{"20261101T000000Z", "20261120T000000Z", "20261125T120000Z", "20261126T100000Z"}},
		{Versions{KeepCount: 4}, false, nil},
		{Versions{}, true, nil},
	} {
		if got := VersionsToPrune(names, c.v, now, c.newRun); !slices.Equal(got, c.want) {
			t.Errorf("%+v new run %v: %v, want %v", c.v, c.newRun, got, c.want)
		}
	}
}

func TestVersioned(t *testing.T) {
	file := &Meta{Kind: KindFile, Size: 5}
	dir := &Meta{Kind: KindDir}
	for _, c := range []struct {
		c    Change
		want bool
	}{
		{Change{Action: Update, Kind: KindFile, Dst: file}, true},
		{Change{Action: Update, Kind: KindSymlink}, true},
		{Change{Action: Create, Kind: KindFile}, false},
		{Change{Action: Delete, Kind: KindFile, Class: Extra, Dst: file}, true},
		{Change{Action: Delete, Kind: KindFile, Class: StaleTemp, Dst: file}, false},
		{Change{Action: Delete, Kind: KindDir, Dst: dir}, false},
		{Change{Action: Replace, Kind: KindDir, Dst: file}, true},
		{Change{Action: Replace, Kind: KindFile, Dst: dir}, false},
		{Change{Action: Replace, Kind: KindFile}, true},
	} {
		if got := Versioned(&c.c); got != c.want {
			t.Errorf("%+v: %v", c.c, got)
		}
	}
}
