package shares

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"
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
//
// frameConn is also the answer watchdog (see Options.AnswerTimeout): while
// a request is outstanding, the server must send a frame within answer, or
// the read fails with ErrStalled, which go-smb2 turns into a broken
// connection that fails every pending request. An interim answer
// (STATUS_PENDING) re-arms the deadline without completing the request;
// an idle connection has no deadline. A compound request (several SMB2
// messages chained by NextCommand in one frame) counts as that many
// requests, and each answer in a compound answer as one; an encrypted
// frame, whose chain cannot be seen, counts as one either way.
type frameConn struct {
	net.Conn
	r *bufio.Reader

	answer time.Duration // 0: no watchdog

	dmu         sync.Mutex // guards outstanding and the read deadline
	outstanding int        // requests sent and not yet answered
	// The incoming frame being read: its transport header, how much of it
	// is left, where in it the next SMB2 header starts (-1: none), and
	// that header as far as it was read; and the answers seen in it.
	inHdr   [4]byte
	inHdrN  int
	inLeft  int
	inPos   int
	hdrAt   int
	smb     [64]byte
	smbN    int
	answers int
	opaque  bool // the frame is not a plain SMB2 chain (encrypted, compressed)

	wmu  sync.Mutex // held by the sender only; guards against misuse
	hdr  [4]byte
	held bool
	buf  []byte // header and a small message, sent in one write
}

// frameSmall is the largest message copied behind its header for one
// write; larger ones (data of big writes) go out with writev (net.Buffers).
const frameSmall = 64 << 10

// ErrStalled: the server stopped answering (Options.AnswerTimeout).
var ErrStalled = errors.New("the server stopped answering")

// stallError is ErrStalled with the bound that was exceeded.
type stallError struct{ d time.Duration }

func (e *stallError) Error() string        { return fmt.Sprintf("no answer from the server within %s", e.d) }
func (e *stallError) Is(target error) bool { return target == ErrStalled }
func (e *stallError) Timeout() bool        { return true }
func (e *stallError) Temporary() bool      { return false }

func newFrameConn(c net.Conn, answer time.Duration) *frameConn {
	return &frameConn{Conn: c, r: bufio.NewReaderSize(c, 64<<10), answer: answer}
}

func (c *frameConn) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.answer > 0 {
		c.scan(p[:n])
		if errors.Is(err, os.ErrDeadlineExceeded) {
			err = &stallError{c.answer}
		}
	}
	return n, err
}

// sent notes the requests of msg going on the wire: the first outstanding
// one arms the deadline. A CANCEL gets no answer of its own and is not
// counted.
func (c *frameConn) sent(msg []byte) {
	if c.answer <= 0 {
		return
	}
	n := requests(msg)
	if n == 0 {
		return
	}
	c.dmu.Lock()
	defer c.dmu.Unlock()
	was := c.outstanding
	c.outstanding += n
	if was == 0 {
		c.Conn.SetReadDeadline(time.Now().Add(c.answer))
	}
}

// requests counts the requests of the frame msg that expect an answer: the
// messages of its chain, less CANCELs; 1 for a frame that is not a plain
// SMB2 message (encrypted).
func requests(msg []byte) int {
	if len(msg) < 64 || msg[0] != 0xFE || msg[1] != 'S' {
		return 1
	}
	n := 0
	for off := 0; off+64 <= len(msg); {
		h := msg[off:]
		if h[0] != 0xFE || h[1] != 'S' {
			break
		}
		if binary.LittleEndian.Uint16(h[12:14]) != cmdCancel {
			n++
		}
		next := int(binary.LittleEndian.Uint32(h[20:24]))
		if next < 64 {
			break
		}
		off += next
	}
	return n
}

// scan follows the incoming frames through b, and the SMB2 headers
// chained in each, and settles the deadline at the end of each frame.
func (c *frameConn) scan(b []byte) {
	for len(b) > 0 {
		if c.inHdrN < 4 {
			k := copy(c.inHdr[c.inHdrN:], b)
			c.inHdrN += k
			b = b[k:]
			if c.inHdrN == 4 {
				c.inLeft = int(binary.BigEndian.Uint32(c.inHdr[:]) & 0xFFFFFF)
				c.inPos, c.hdrAt, c.smbN, c.answers, c.opaque = 0, 0, 0, 0, false
				if c.inLeft == 0 {
					c.frameDone()
				}
			}
			continue
		}
		k := min(len(b), c.inLeft)
		for c.hdrAt >= 0 {
			// The frame offset of the next header byte wanted.
			want := c.hdrAt + c.smbN
			if want < c.inPos || want >= c.inPos+k {
				break
			}
			c.smbN += copy(c.smb[c.smbN:], b[want-c.inPos:k])
			if c.smbN < len(c.smb) {
				break
			}
			c.header()
		}
		c.inPos += k
		c.inLeft -= k
		b = b[k:]
		if c.inLeft == 0 {
			c.frameDone()
		}
	}
}

// header reads the SMB2 header just collected in c.smb: whether it is an
// answer, and where the next one of its chain starts.
func (c *frameConn) header() {
	h := c.smb[:]
	c.smbN = 0
	if h[0] != 0xFE || h[1] != 'S' || h[2] != 'M' || h[3] != 'B' {
		c.opaque, c.hdrAt = true, -1 // encrypted (0xFD) or compressed (0xFC)
		return
	}
	status := binary.LittleEndian.Uint32(h[8:12])
	flags := binary.LittleEndian.Uint32(h[16:20])
	mid := binary.LittleEndian.Uint64(h[24:32])
	if !((status == statusPending && flags&flagAsync != 0) || mid == unsolicitedMID) {
		c.answers++
	}
	if next := int(binary.LittleEndian.Uint32(h[20:24])); next >= 64 {
		c.hdrAt += next
	} else {
		c.hdrAt = -1
	}
}

// SMB2 header fields the watchdog reads (MS-SMB2 2.2.1).
const (
	cmdCancel      = 0x000C
	statusPending  = 0x00000103
	flagAsync      = 0x00000002
	unsolicitedMID = 0xFFFFFFFFFFFFFFFF // an oplock or lease break
)

// frameDone settles one received frame: each answer in it completes a
// request; an interim answer or a break notification only shows the server
// alive.
func (c *frameConn) frameDone() {
	c.inHdrN = 0
	answers := c.answers
	if c.opaque || (answers == 0 && c.inPos < 64) {
		answers = 1 // encrypted, compressed, or too short to be SMB2: an answer
	}
	c.dmu.Lock()
	defer c.dmu.Unlock()
	c.outstanding = max(0, c.outstanding-answers)
	if c.outstanding > 0 {
		c.Conn.SetReadDeadline(time.Now().Add(c.answer))
	} else {
		c.Conn.SetReadDeadline(time.Time{})
	}
}

func (c *frameConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if !c.held && len(p) == 4 && p[0] == 0 {
		copy(c.hdr[:], p)
		c.held = true
		return len(p), nil
	}
	if !c.held {
		if len(p) > 4 {
			c.sent(p)
		}
		return c.Conn.Write(p)
	}
	c.held = false
	c.sent(p) // before the bytes leave: the answer may be read at once
	if len(p) <= frameSmall {
		c.buf = append(append(c.buf[:0], c.hdr[:]...), p...)
		n, err := c.Conn.Write(c.buf)
		return max(0, n-len(c.hdr)), err
	}
	bufs := net.Buffers{c.hdr[:], p}
	n, err := bufs.WriteTo(c.Conn)
	return int(max(0, n-int64(len(c.hdr)))), err
}
