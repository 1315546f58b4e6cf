package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Webhook POSTs events as JSON. With Healthchecks it follows the
// healthchecks.io ping convention instead of using one URL: success is
// POSTed to URL, failure and stale to URL/fail, a test to URL/log (logged
// by healthchecks.io without changing the check's state). The body is the
// same JSON document either way.
type Webhook struct {
	// URL is the webhook's URL; SecretURL supplies it instead when the
	// configuration names a secret (SecretName, for Target).
	URL          string
	SecretURL    func() (string, error)
	SecretName   string
	Healthchecks bool
	UserAgent    string
	// Client sends the request (a client without redirects when nil: a
	// redirect would carry the body and the token to another place).
	Client *http.Client
}

var _ Sender = (*Webhook)(nil)

// Body is the JSON document a webhook receives.
type Body struct {
	FormatVersion string `json:"format_version"`
	Event
	// Title is a one-line summary for chat tools ("robo: docs failed on host").
	Title string `json:"title"`
	// Text repeats Title for Slack-compatible incoming webhooks.
	Text string `json:"text"`
}

// Target implements Sender: the URL as scheme://host/….
func (w *Webhook) Target() string {
	if w.URL == "" && w.SecretName != "" {
		return fmt.Sprintf("url from secret %q", w.SecretName)
	}
	return RedactURL(w.URL)
}

// Send implements Sender.
func (w *Webhook) Send(ctx context.Context, ev Event) error {
	raw := w.URL
	if raw == "" && w.SecretURL != nil {
		var err error
		if raw, err = w.SecretURL(); err != nil {
			return err
		}
	}
	hide := map[string]string{raw: RedactURL(raw)}
	target, err := w.endpoint(raw, ev.Kind)
	if err != nil {
		return err
	}
	hide[target] = RedactURL(target)
	if u, err := url.Parse(raw); err == nil {
		// A token may sit in the path or the query; either alone is hidden too.
		if p := strings.Trim(u.EscapedPath(), "/"); p != "" {
			hide[p] = "…"
		}
		if u.RawQuery != "" {
			hide[u.RawQuery] = "…"
		}
		if pw, ok := u.User.Password(); ok {
			hide[pw] = "…"
		}
	}
	title := ev.Title()
	body, err := json.Marshal(Body{FormatVersion: "1", Event: ev, Title: title, Text: title})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return errors.New(scrub(err.Error(), hide))
	}
	req.Header.Set("Content-Type", "application/json")
	if w.UserAgent != "" {
		req.Header.Set("User-Agent", w.UserAgent)
	}
	client := w.Client
	if client == nil {
		client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = fmt.Errorf("POST %s: %w", RedactURL(target), ue.Err)
		}
		return errors.New(scrub(err.Error(), hide))
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := fmt.Sprintf("POST %s: HTTP %s", RedactURL(target), resp.Status)
		if s := strings.TrimSpace(strings.ToValidUTF8(string(snippet), "")); s != "" {
			if len(s) > 200 {
				s = s[:200] + "…"
			}
			msg += ": " + strings.Join(strings.Fields(s), " ")
		}
		return errors.New(scrub(msg, hide))
	}
	return nil
}

// endpoint is the URL to POST ev to.
func (w *Webhook) endpoint(raw, kind string) (string, error) {
	if !w.Healthchecks {
		return raw, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("the webhook URL %s cannot be parsed", RedactURL(raw))
	}
	switch kind {
	case KindFailure, KindStale:
		u.Path = strings.TrimRight(u.Path, "/") + "/fail"
	case KindTest:
		u.Path = strings.TrimRight(u.Path, "/") + "/log"
	}
	u.RawPath = ""
	return u.String(), nil
}

// RedactURL shows a URL without what may be a credential: scheme://host/…
// (the path, query, fragment and user information are dropped).
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(url hidden)"
	}
	s := u.Scheme + "://" + u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		s += "/…"
	}
	return s
}
