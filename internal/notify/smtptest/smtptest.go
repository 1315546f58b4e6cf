// Package smtptest is a tiny SMTP server on 127.0.0.1 for tests: enough of
// the protocol for net/smtp (EHLO, STARTTLS, AUTH PLAIN, MAIL, RCPT, DATA,
// QUIT), recording every message it accepts.
package smtptest

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a test SMTP server. Set its fields, then call Start.
type Server struct {
	Addr string
	// TLS, when set, is offered with STARTTLS.
	TLS *tls.Config
	// Auth is offered; a login is accepted when it matches User and Pass.
	Auth       bool
	User, Pass string
	// Hang makes the server accept connections and never greet.
	Hang bool

	mu   sync.Mutex
	msgs []Message
	ln   net.Listener
}

// Message is one accepted message and how it arrived.
type Message struct {
	From     string
	To       []string
	Data     string
	AuthUser string
	AuthPass string
	TLS      bool
}

// Start listens on 127.0.0.1 and serves until the test ends.
func Start(t testing.TB, s *Server) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.ln, s.Addr = ln, ln.Addr().String()
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

// Port is the port the server listens on.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Messages are the messages accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

func (s *Server) serve(conn net.Conn) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	if s.Hang {
		bufio.NewReader(conn).ReadString('\n')
		time.Sleep(10 * time.Second)
		return
	}
	tp := textproto.NewConn(conn)
	tp.PrintfLine("220 test ESMTP")
	var m Message
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			var ext []string
			if s.TLS != nil && !m.TLS {
				ext = append(ext, "STARTTLS")
			}
			if s.Auth {
				ext = append(ext, "AUTH PLAIN")
			}
			ext = append(ext, "8BITMIME")
			tp.PrintfLine("250-test greets %s", arg)
			for i, e := range ext {
				sep := "-"
				if i == len(ext)-1 {
					sep = " "
				}
				tp.PrintfLine("250%s%s", sep, e)
			}
		case "STARTTLS":
			tp.PrintfLine("220 go ahead")
			tc := tls.Server(conn, s.TLS)
			if err := tc.Handshake(); err != nil {
				return
			}
			conn, tp, m.TLS = tc, textproto.NewConn(tc), true
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			b, err := base64.StdEncoding.DecodeString(resp)
			parts := strings.Split(string(b), "\x00")
			if strings.ToUpper(mech) != "PLAIN" || err != nil || len(parts) != 3 {
				tp.PrintfLine("501 bad AUTH")
				continue
			}
			m.AuthUser, m.AuthPass = parts[1], parts[2]
			if parts[1] != s.User || parts[2] != s.Pass {
				tp.PrintfLine("535 5.7.8 authentication failed")
				continue
			}
			tp.PrintfLine("235 2.7.0 accepted")
		case "MAIL":
			m.From = angle(arg)
			tp.PrintfLine("250 ok")
		case "RCPT":
			m.To = append(m.To, angle(arg))
			tp.PrintfLine("250 ok")
		case "DATA":
			tp.PrintfLine("354 go on")
			b, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			m.Data = string(b)
			s.mu.Lock()
			s.msgs = append(s.msgs, m)
			s.mu.Unlock()
			tp.PrintfLine("250 queued")
		case "QUIT":
			tp.PrintfLine("221 bye")
			return
		case "RSET", "NOOP":
			tp.PrintfLine("250 ok")
		default:
			tp.PrintfLine("502 unknown command")
		}
	}
}

// SelfSigned returns a server certificate for 127.0.0.1 and a pool that
// trusts it.
func SelfSigned(t testing.TB) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}

// angle returns the address between < and > of a MAIL or RCPT argument.
func angle(arg string) string {
	_, rest, _ := strings.Cut(arg, "<")
	addr, _, _ := strings.Cut(rest, ">")
	return addr
}
