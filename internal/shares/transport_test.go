package shares

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"
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

// deadlineConn is a recordConn that notes its read deadlines.
type deadlineConn struct {
	recordConn
	armed bool
}

func (c *deadlineConn) SetReadDeadline(t time.Time) error { c.armed = !t.IsZero(); return nil }

// smbHeader is a 64-byte SMB2 header of command cmd, with status and
// NextCommand next.
func smbHeader(cmd uint16, status uint32, next uint32, body int) []byte {
	h := make([]byte, 64+body)
	copy(h, []byte{0xFE, 'S', 'M', 'B'})
	binary.LittleEndian.PutUint32(h[8:12], status)
	binary.LittleEndian.PutUint16(h[12:14], cmd)
	binary.LittleEndian.PutUint32(h[20:24], next)
	return h
}

// chain joins messages into one compound, each but the last padded to 8
// bytes and pointing at the next.
func chain(msgs ...[]byte) []byte {
	var out []byte
	for i, m := range msgs {
		if i < len(msgs)-1 {
			m = append(m, make([]byte, (8-len(m)%8)%8)...)
			binary.LittleEndian.PutUint32(m[20:24], uint32(len(m)))
		}
		out = append(out, m...)
	}
	return out
}

// The answer watchdog counts each request of a compound, and each answer
// of a compound answer however the reads split it; an interim answer in a
// chain does not complete its request (issue 22: compound requests).
func TestFrameConnCompound(t *testing.T) {
	req := chain(smbHeader(5, 0, 0, 57), smbHeader(9, 0, 0, 52), smbHeader(6, 0, 0, 24))
	if n := requests(req); n != 3 {
		t.Fatalf("requests(compound of 3) = %d", n)
	}
	if n := requests(append(smbHeader(cmdCancel, 0, 0, 4), 0)); n != 0 {
		t.Fatalf("requests(cancel) = %d", n)
	}
	if n := requests(bytes.Repeat([]byte{0xFD}, 100)); n != 1 {
		t.Fatalf("requests(encrypted) = %d", n)
	}
	for _, split := range []int{1, 3, 7, 64, 70, 1000} {
		// Answers: the CREATE, an interim answer for the WRITE, then (a
		// frame later) the WRITE and the CLOSE.
		first := frame(chain(smbHeader(5, 0, 0, 88), smbHeader(9, statusPending, 0, 8)))
		binary.LittleEndian.PutUint32(first[4+64+88+16:], flagAsync) // the interim one's flags
		second := frame(chain(smbHeader(9, 0, 0, 16), smbHeader(6, 0, 0, 60)))
		var stream bytes.Buffer
		stream.Write(first)
		stream.Write(second)
		dc := &deadlineConn{}
		dc.r = &stream
		c := newFrameConn(dc, time.Minute)
		c.Write(frame(req)[:4])
		c.Write(req)
		if c.outstanding != 3 || !dc.armed {
			t.Fatalf("after a compound of 3: outstanding %d, armed %v", c.outstanding, dc.armed)
		}
		buf := make([]byte, split)
		total := len(first) + len(second)
		for got := 0; got < total; {
			n, err := c.Read(buf[:min(split, total-got)])
			if err != nil {
				t.Fatal(err)
			}
			got += n
			if got == len(first) && c.outstanding != 2 {
				t.Fatalf("split %d: after the first answer frame: outstanding %d, want 2", split, c.outstanding)
			}
		}
		if c.outstanding != 0 || dc.armed {
			t.Fatalf("split %d: after every answer: outstanding %d, armed %v", split, c.outstanding, dc.armed)
		}
	}
}
