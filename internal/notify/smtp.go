package notify

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"os"
	"strconv"
	"strings"
	"time"
)

// Mail sends an event as a plain-text email over SMTP.
type Mail struct {
	Host string
	Port int
	// Username and Password authenticate with AUTH PLAIN, which net/smtp
	// refuses over an unencrypted connection except to localhost.
	Username string
	Password func() (string, error)
	From     string
	To       []string
	// StartTLS upgrades the connection before anything else is sent; a
	// server that does not offer it is an error (never a silent
	// downgrade).
	StartTLS bool
	// TLSConfig verifies the server (nil: the system's roots, for Host).
	TLSConfig *tls.Config
	// HelloName is sent with EHLO (the host name when "").
	HelloName string
}

var _ Sender = (*Mail)(nil)

// Target implements Sender: smtp://host:port and the number of recipients.
func (m *Mail) Target() string {
	return fmt.Sprintf("smtp://%s (%d %s)", net.JoinHostPort(m.Host, strconv.Itoa(m.Port)), len(m.To), map[bool]string{true: "recipient", false: "recipients"}[len(m.To) == 1])
}

// Send implements Sender.
func (m *Mail) Send(ctx context.Context, ev Event) (err error) {
	from, err := mail.ParseAddress(m.From)
	if err != nil {
		return fmt.Errorf("from: %v", err)
	}
	var rcpts []*mail.Address
	for _, t := range m.To {
		a, err := mail.ParseAddress(t)
		if err != nil {
			return fmt.Errorf("to: %v", err)
		}
		rcpts = append(rcpts, a)
	}
	addr := net.JoinHostPort(m.Host, strconv.Itoa(m.Port))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c, err := smtp.NewClient(conn, m.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("%s: %w", addr, err)
	}
	defer c.Close()
	step := func(what string, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %s: %w", addr, what, err)
		}
		return nil
	}
	hello := m.HelloName
	if hello == "" {
		hello, _ = os.Hostname()
		if hello == "" || strings.ContainsAny(hello, " \t") {
			hello = "localhost"
		}
	}
	if err := step("EHLO", c.Hello(hello)); err != nil {
		return err
	}
	if m.StartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fmt.Errorf("%s does not offer STARTTLS, so nothing was sent (set starttls = false only for a relay that cannot encrypt)", addr)
		}
		cfg := m.TLSConfig
		if cfg == nil {
			cfg = &tls.Config{ServerName: m.Host, MinVersion: tls.VersionTLS12}
		}
		if err := step("STARTTLS", c.StartTLS(cfg)); err != nil {
			return err
		}
	}
	if m.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return fmt.Errorf("%s does not offer AUTH, but a username and password are configured", addr)
		}
		pw := ""
		if m.Password != nil {
			if pw, err = m.Password(); err != nil {
				return err
			}
		}
		if err := c.Auth(smtp.PlainAuth("", m.Username, pw, m.Host)); err != nil {
			// net/smtp's errors name neither the password nor its encoding.
			return fmt.Errorf("%s: AUTH as %s: %w", addr, m.Username, err)
		}
	}
	if err := step("MAIL FROM", c.Mail(from.Address)); err != nil {
		return err
	}
	for _, r := range rcpts {
		if err := step("RCPT TO "+r.Address, c.Rcpt(r.Address)); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err := step("DATA", err); err != nil {
		return err
	}
	if _, err := w.Write(m.message(ev, from, rcpts)); err != nil {
		return step("DATA", err)
	}
	if err := step("DATA", w.Close()); err != nil {
		return err
	}
	return step("QUIT", c.Quit())
}

// message is the email, with \n line ends (the SMTP writer sends CRLF).
func (m *Mail) message(ev Event, from *mail.Address, to []*mail.Address) []byte {
	var b strings.Builder
	var id [12]byte
	rand.Read(id[:])
	tos := make([]string, len(to))
	for i, a := range to {
		tos[i] = a.String()
	}
	domain := "robo.invalid"
	if _, d, ok := strings.Cut(from.Address, "@"); ok {
		domain = d
	}
	header := func(k, v string) {
		fmt.Fprintf(&b, "%s: %s\n", k, strings.NewReplacer("\r", " ", "\n", " ").Replace(v))
	}
	header("From", from.String())
	header("To", strings.Join(tos, ", "))
	header("Subject", mime.QEncoding.Encode("utf-8", ev.Title()))
	header("Date", ev.Time.Format(time.RFC1123Z))
	header("Message-ID", "<"+hex.EncodeToString(id[:])+"@"+domain+">")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "8bit")
	header("Auto-Submitted", "auto-generated")
	header("X-Robo-Event", ev.Kind)
	if ev.Set != "" {
		header("X-Robo-Set", ev.Set)
	}
	b.WriteString("\n")
	b.WriteString(Text(ev))
	return []byte(b.String())
}

// Text renders an event for a person: the email body.
func Text(ev Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", ev.Title())
	line := func(k, v string) { fmt.Fprintf(&b, "%-13s %s\n", k+":", v) }
	if ev.Set != "" {
		line("Set", ev.Set)
	}
	line("Outcome", ev.Outcome)
	line("Host", ev.Host)
	line("Time", ev.Time.Format(time.RFC3339))
	if ev.LastSuccess != nil {
		line("Last success", ev.LastSuccess.Format(time.RFC3339))
	}
	if c := ev.Counts; c != nil {
		line("Copied", fmt.Sprintf("%d files, %d bytes", c.FilesCopied, c.BytesCopied))
		line("Deleted", fmt.Sprintf("%d files, %d dirs", c.FilesDeleted, c.DirsDeleted))
		line("Errors", strconv.FormatInt(c.Errors, 10))
		line("Duration", c.Duration.Round(time.Millisecond).String())
	}
	if ev.Message != "" {
		fmt.Fprintf(&b, "\n%s\n", ev.Message)
	}
	if ev.RoboVersion != "" {
		fmt.Fprintf(&b, "\n-- \nrobo %s\n", ev.RoboVersion)
	}
	return b.String()
}
