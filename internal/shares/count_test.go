package shares_test

import (
	"context"
	"encoding/binary"
	"net"
	"sync/atomic"
)

// countConn counts what a client sends by following the direct-TCP framing
// (a 4-byte header: 0x00 and a 24-bit length) through the byte stream,
// however the writes cut it: the frames, and the SMB2 requests in them (a
// compound request chains several with NextCommand in one frame; one round
// trip for all).
type countConn struct {
	net.Conn
	c *benchCounter

	hdr  []byte // header bytes seen so far
	left int    // bytes of the current frame still to pass
	pos  int    // of the current frame, passed so far
	next int    // frame offset of the next SMB2 header (-1: none)
	smb  []byte // that header's first 24 bytes, as far as seen
}

func (c *countConn) Write(p []byte) (int, error) {
	c.c.bytes.Add(int64(len(p)))
	for q := p; len(q) > 0; {
		if c.left == 0 {
			k := min(4-len(c.hdr), len(q))
			c.hdr = append(c.hdr, q[:k]...)
			q = q[k:]
			if len(c.hdr) == 4 {
				c.left = int(c.hdr[1])<<16 | int(c.hdr[2])<<8 | int(c.hdr[3])
				c.hdr, c.pos, c.next, c.smb = c.hdr[:0], 0, 0, c.smb[:0]
				c.c.frames.Add(1)
			}
			continue
		}
		k := min(c.left, len(q))
		for c.next >= 0 {
			want := c.next + len(c.smb)
			if want < c.pos || want >= c.pos+k {
				break
			}
			n := min(24-len(c.smb), c.pos+k-want)
			c.smb = append(c.smb, q[want-c.pos:want-c.pos+n]...)
			if len(c.smb) < 24 {
				break
			}
			if c.smb[0] == 0xFE && c.smb[1] == 'S' {
				c.c.msgs.Add(1)
			} else if c.next == 0 {
				c.c.msgs.Add(1) // encrypted: one frame, its chain unseen
			}
			if nc := int(binary.LittleEndian.Uint32(c.smb[20:24])); nc >= 64 && c.smb[0] == 0xFE {
				c.next += nc
			} else {
				c.next = -1
			}
			c.smb = c.smb[:0]
		}
		c.pos += k
		c.left -= k
		q = q[k:]
	}
	return c.Conn.Write(p)
}

// benchCounter totals what the connections it dialled sent.
type benchCounter struct{ msgs, frames, bytes atomic.Int64 }

func (bc *benchCounter) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &countConn{Conn: c, c: bc}, nil
}
