package shares

import (
	"bufio"
	"net"
	"sync"
)

// frameConn carries go-smb2's direct-TCP transport with fewer system calls.
//
// go-smb2 sends every SMB2 message as two writes: the 4-byte transport
// header (0x00 and a 24-bit length), then the message; and it receives
// every answer as two reads of exactly those sizes. On a small file's ten
// or so requests that is 40 system calls, and two TCP segments for every
// request, each waking the server. frameConn holds the header back and sends
// it with the message in one write, and reads through a buffer, so a burst
// of answers costs one read.
//
// go-smb2 writes from one goroutine (its sender) and reads from one (its
// receiver); frameConn relies on that, and on the header being followed by
// its message. A message is never 4 bytes long (an SMB2 header alone is 64),
// and never starts with 0x00 (0xFE 'S' 'M' 'B', or 0xFD/0xFC for encrypted
// and compressed ones), so a 4-byte write starting with 0x00 is a header.
type frameConn struct {
	net.Conn
	r *bufio.Reader

	wmu  sync.Mutex // held by the sender only; guards against misuse
	hdr  [4]byte
	held bool
	buf  []byte // header and a small message, sent in one write
}

// frameSmall is the largest message copied behind its header for one
// write; larger ones (data of big writes) go out with writev (net.Buffers).
const frameSmall = 64 << 10

func newFrameConn(c net.Conn) *frameConn {
	return &frameConn{Conn: c, r: bufio.NewReaderSize(c, 64<<10)}
}

func (c *frameConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func (c *frameConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if !c.held && len(p) == 4 && p[0] == 0 {
		copy(c.hdr[:], p)
		c.held = true
		return len(p), nil
	}
	if !c.held {
		return c.Conn.Write(p)
	}
	c.held = false
	if len(p) <= frameSmall {
		c.buf = append(append(c.buf[:0], c.hdr[:]...), p...)
		n, err := c.Conn.Write(c.buf)
		return max(0, n-len(c.hdr)), err
	}
	bufs := net.Buffers{c.hdr[:], p}
	n, err := bufs.WriteTo(c.Conn)
	return int(max(0, n-int64(len(c.hdr)))), err
}
