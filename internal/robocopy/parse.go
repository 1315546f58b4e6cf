package robocopy

import (
	"bytes"
	"io"

	"golang.org/x/text/encoding"
)

// ParseOptions tune parsing.
type ParseOptions struct {
	// Encoding forces the text encoding (see [EncodingByName]); nil detects
	// it: BOM, BOM-less UTF-16, UTF-8, else the most plausible OEM code page
	// among CP850, CP437, CP866, CP932 and CP936. Logs written with /LOG are
	// in the OEM code page of the machine that ran robocopy; pass it here
	// when known (GetOEMCP) because detection is a heuristic.
	Encoding encoding.Encoding
}

// Parse reads a whole robocopy log and parses it. Only a read error is
// returned; content never causes an error.
func Parse(r io.Reader) (*Log, error) {
	return ParseWith(r, ParseOptions{})
}

// ParseWith is Parse with options.
func ParseWith(r io.Reader, opts ParseOptions) (*Log, error) {
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, err
	}
	return parseBytes(buf.Bytes(), opts), nil
}

// ParseBytes parses a robocopy log held in memory. It never panics and
// never fails: unknown lines are recorded in Job.Unrecognized.
func ParseBytes(b []byte) *Log {
	return parseBytes(b, ParseOptions{})
}

func parseBytes(b []byte, opts ParseOptions) *Log {
	text, enc := decode(b, opts.Encoding)
	p := &parser{log: &Log{Encoding: enc, Jobs: []Job{}}}
	p.run(splitLines(text))
	return p.log
}
