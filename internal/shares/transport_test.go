package shares

import (
	"bytes"
	"io"
	"net"
	"testing"
)

// recordConn records every Write it gets and reads from a fixed stream.
type recordConn struct {
	net.Conn
	writes [][]byte
	r      io.Reader
	reads  int
}

func (c *recordConn) Write(p []byte) (int, error) {
	c.writes = append(c.writes, append([]byte(nil), p...))
	return len(p), nil
}

func (c *recordConn) Read(p []byte) (int, error) {
	c.reads++
	return c.r.Read(p)
}

func frame(msg []byte) []byte {
	n := len(msg)
	return append([]byte{0, byte(n >> 16), byte(n >> 8), byte(n)}, msg...)
}

// frameConn sends each transport header with its message, in one write for
// small messages, and reads through a buffer.
func TestFrameConn(t *testing.T) {
	small := bytes.Repeat([]byte{0xFE, 'S', 'M', 'B'}, 20)
	large := bytes.Repeat([]byte{0xFE}, frameSmall+1)
	var stream bytes.Buffer
	stream.Write(frame(small))
	stream.Write(frame(small))
	rc := &recordConn{r: &stream}
	c := newFrameConn(rc, 0)
	for _, msg := range [][]byte{small, large} {
		hdr := frame(msg)[:4]
		if n, err := c.Write(hdr); n != 4 || err != nil {
			t.Fatalf("header write: %d %v", n, err)
		}
		if n, err := c.Write(msg); n != len(msg) || err != nil {
			t.Fatalf("message write: %d %v, want %d", n, err, len(msg))
		}
	}
	// The small message went out in one write; the large one through
	// net.Buffers, which writes the pieces one by one on a conn without
	// writev (a real TCP connection has it).
	if len(rc.writes) != 3 || !bytes.Equal(rc.writes[0], frame(small)) ||
		!bytes.Equal(rc.writes[1], frame(large)[:4]) || !bytes.Equal(rc.writes[2], large) {
		t.Fatalf("writes: %d, sizes %v", len(rc.writes), sizes(rc.writes))
	}
	// Two framed answers come in with one read.
	for range 2 {
		hdr := make([]byte, 4)
		if _, err := io.ReadFull(c, hdr); err != nil {
			t.Fatal(err)
		}
		msg := make([]byte, len(small))
		if _, err := io.ReadFull(c, msg); err != nil || !bytes.Equal(msg, small) {
			t.Fatalf("read: %v", err)
		}
	}
	if rc.reads != 1 {
		t.Fatalf("%d reads from the connection, want 1", rc.reads)
	}
	// A write that is not a header passes through.
	rc.writes = nil
	if _, err := c.Write([]byte{1, 2, 3, 4}); err != nil || len(rc.writes) != 1 {
		t.Fatalf("plain write: %v, %d writes", err, len(rc.writes))
	}
}

func sizes(bs [][]byte) []int {
	out := make([]int, len(bs))
	for i, b := range bs {
		out[i] = len(b)
	}
	return out
}
