package engine

import (
	"fmt"
	"hash/crc32"
	"math"
	"os"
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// spillBlock is one block written to a blockFile: where it is, its length,
// how many records it holds and its CRC-32C. It stays in memory; the bytes
// it names are in the file, and hostile when read back.
type spillBlock struct {
	off   int64
	n     int32
	count int32
	crc   uint32
}

// blockFile is the nameless spill file (spillFile) of a ChangeList or a
// SortedStrings, written as CRC-32C-checked blocks one after the other.
// The file is made at the first write. what names the owner in errors
// ("change list", "sorted strings").
type blockFile struct {
	file *os.File
	size int64 // bytes written to file
}

// writeBlock appends b, count records, as one block.
func (f *blockFile) writeBlock(what string, b []byte, count int32) (spillBlock, error) {
	if f.file == nil {
		sf, err := spillFile()
		if err != nil {
			return spillBlock{}, fmt.Errorf("%s: %w", what, err)
		}
		f.file = sf
	}
	if len(b) > math.MaxInt32 {
		return spillBlock{}, fmt.Errorf("%s: a block of %d bytes", what, len(b))
	}
	if _, err := f.file.WriteAt(b, f.size); err != nil {
		return spillBlock{}, fmt.Errorf("%s: write spill file: %w", what, err)
	}
	blk := spillBlock{off: f.size, n: int32(len(b)), count: count, crc: crc32.Checksum(b, crcTable)}
	f.size += int64(len(b))
	return blk, nil
}

// readBlock reads block b into buf (or a larger buffer when buf is too
// small) and returns its bytes after checking its checksum. It may run
// at the same time as other readBlocks.
func (f *blockFile) readBlock(what string, b *spillBlock, buf []byte) ([]byte, error) {
	if b.n < 0 || b.count < 0 {
		return nil, fmt.Errorf("%s: a malformed block", what)
	}
	if cap(buf) < int(b.n) {
		buf = make([]byte, b.n)
	}
	buf = buf[:b.n]
	if _, err := f.file.ReadAt(buf, b.off); err != nil {
		return nil, fmt.Errorf("%s: read spill file: %w", what, err)
	}
	if crc32.Checksum(buf, crcTable) != b.crc {
		return nil, fmt.Errorf("%s: the spill file was changed behind robo's back (checksum)", what)
	}
	return buf, nil
}

// close closes the file, if one was made.
func (f *blockFile) close() error {
	if f.file == nil {
		return nil
	}
	return f.file.Close()
}
