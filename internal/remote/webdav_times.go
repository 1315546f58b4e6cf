package remote

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path"
	"strings"
	"time"
)

// The record of times (TimesRecordName) at the root of a WebDAV folder:
// what robo wrote there and the time it gave each entry. It is read when
// a set opens the folder and written back (PUT to a temporary name, then
// MOVE) at most every saveEvery while files move, and when the connection
// closes. A run killed before it saves leaves files whose times are the
// server's: the next plan sees them as changed and uploads them again,
// which converges.
type timesFile struct {
	Version int                  `json:"version"`
	Entries map[string]davRecord `json:"entries"`
}

const (
	timesVersion = 1
	saveEvery    = 30 * time.Second
	// maxTimesFile bounds what robo reads back: a record of a million
	// entries is about 150 MB.
	maxTimesFile = 1 << 30
)

func (f *davFS) recordPath() string { return f.full(TimesRecordName) }

func (f *davFS) loadTimes() error {
	resp, err := f.d.request(f.d.ctx, "GET", f.recordPath(), false, nil, 0, nil)
	if err != nil {
		return f.pathErr("read", TimesRecordName, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound, http.StatusConflict: // no record, or no folder yet
		return nil
	default:
		return f.pathErr("read", TimesRecordName, statusError{resp.StatusCode})
	}
	lr := &io.LimitedReader{R: resp.Body, N: maxTimesFile + 1}
	var tf timesFile
	if err := json.NewDecoder(lr).Decode(&tf); err != nil || tf.Version != timesVersion {
		// A damaged or foreign record is not trusted: every time is the
		// server's until robo writes again (files are uploaded again,
		// nothing is lost).
		return nil
	}
	for k, r := range tf.Entries {
		if k == "" || strings.HasPrefix(k, "/") || path.Clean(k) != k || strings.HasPrefix(k, "../") || k == ".." {
			continue
		}
		f.times[k] = r
	}
	return nil
}

// maybeSave writes the record when it changed and saveEvery has passed.
func (f *davFS) maybeSave() {
	f.mu.Lock()
	due := f.dirty && time.Since(f.savedAt) >= saveEvery
	f.mu.Unlock()
	if due {
		f.save() // a failure here is retried at the next save and at Close
	}
}

func (f *davFS) save() error {
	f.saveMu.Lock()
	defer f.saveMu.Unlock()
	f.mu.Lock()
	if !f.dirty {
		f.mu.Unlock()
		return nil
	}
	b, err := json.Marshal(timesFile{Version: timesVersion, Entries: f.times})
	f.dirty = false
	f.savedAt = time.Now()
	f.mu.Unlock()
	if err != nil {
		return err
	}
	fail := func(err error) error {
		f.mu.Lock()
		f.dirty = true
		f.mu.Unlock()
		return f.pathErr("write", TimesRecordName, err)
	}
	if f.root != "" {
		if err := f.MkdirAll(""); err != nil {
			return fail(err)
		}
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	// robo's temporary-file shape, so that one left by a crash is
	// cleared as a stale temporary file.
	tmp := f.full(".robo-webdav-times." + hex.EncodeToString(rnd[:]) + ".tmp")
	resp, err := f.d.request(f.d.ctx, "PUT", tmp, false, bytes.NewReader(b), int64(len(b)), nil)
	if err != nil {
		return fail(err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if c := resp.StatusCode; c != http.StatusCreated && c != http.StatusNoContent && c != http.StatusOK {
		return fail(statusError{c})
	}
	hdr := map[string]string{"Destination": f.d.url(f.recordPath(), false), "Overwrite": "T"}
	if _, err := f.d.simple("MOVE", tmp, false, hdr, http.StatusCreated, http.StatusNoContent); err != nil {
		f.d.simple("DELETE", tmp, false, nil, http.StatusNoContent, http.StatusOK)
		return fail(err)
	}
	return nil
}

// saveAll writes every folder's record (Conn.Close).
func (d *davConn) saveAll() error {
	d.mu.Lock()
	fss := append([]*davFS(nil), d.fss...)
	d.mu.Unlock()
	var errs []error
	for _, f := range fss {
		if err := f.save(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
