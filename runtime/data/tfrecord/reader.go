package tfrecord

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// DefaultMaxRecordSize is the largest record a Reader accepts when
// ReaderOptions.MaxRecordSize is zero.
const DefaultMaxRecordSize = 64 << 20

// Compression says how a TFRecord file is compressed.
type Compression int

const (
	// Auto detects GZIP from the file's first bytes when reading: a file
	// whose first 12 bytes are a valid frame header is read uncompressed,
	// otherwise a file starting with the gzip magic is decompressed. A Writer
	// treats Auto as None.
	Auto Compression = iota
	// None is an uncompressed file (TFRecordOptions compression "").
	None
	// GZIP is a gzip-compressed file (TFRecordOptions compression "GZIP").
	GZIP
)

// ReaderOptions configure a Reader. The zero value detects compression and
// uses DefaultMaxRecordSize.
type ReaderOptions struct {
	// Name names the file in errors; Open sets it to the path.
	Name string
	// MaxRecordSize bounds a record's length; a longer one is an error
	// rather than an allocation. Zero means DefaultMaxRecordSize.
	MaxRecordSize int
	// Compression is Auto, None or GZIP.
	Compression Compression
}

// Error is a malformed, truncated or corrupt record: the file, the index of
// the record (from 0) and the byte offset of its frame in the uncompressed
// stream.
type Error struct {
	File   string
	Record int
	Offset int64
	Msg    string
}

// Error implements error.
func (e *Error) Error() string {
	name := e.File
	if name == "" {
		name = "tfrecord"
	}
	return fmt.Sprintf("%s: record %d at byte %d: %s", name, e.Record, e.Offset, e.Msg)
}

// Reader reads the records of a TFRecord file in order.
type Reader struct {
	r      *bufio.Reader
	gz     *gzip.Reader
	closer io.Closer
	name   string
	max    int
	record int   // index of the next record
	offset int64 // offset of the next frame in the uncompressed stream
	hdr    [12]byte
	buf    []byte
	err    error // sticky: after an error or io.EOF, Next returns it again
}

// NewReader returns a Reader of the TFRecord stream r.
func NewReader(r io.Reader, opts ReaderOptions) (*Reader, error) {
	rd := &Reader{name: opts.Name, max: opts.MaxRecordSize}
	if rd.max <= 0 {
		rd.max = DefaultMaxRecordSize
	}
	br := bufio.NewReaderSize(r, 64<<10)
	c := opts.Compression
	if c == Auto {
		c = detect(br)
	}
	switch c {
	case None:
		rd.r = br
	case GZIP:
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: gzip: %w", rd.errName(), err)
		}
		rd.gz = gz
		rd.r = bufio.NewReaderSize(gz, 64<<10)
	default:
		return nil, fmt.Errorf("%s: unknown compression %d", rd.errName(), c)
	}
	return rd, nil
}

// Open opens the TFRecord file at path; opts.Name defaults to path. Close
// the Reader to close the file.
func Open(path string, opts ReaderOptions) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if opts.Name == "" {
		opts.Name = path
	}
	r, err := NewReader(f, opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closer = f
	return r, nil
}

// detect reports GZIP if br starts with the gzip magic and not with a frame
// header whose length CRC checks out.
func detect(br *bufio.Reader) Compression {
	b, _ := br.Peek(12)
	if len(b) == 12 && binary.LittleEndian.Uint32(b[8:]) == MaskedCRC(b[:8]) {
		return None
	}
	if len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b {
		return GZIP
	}
	return None
}

func (r *Reader) errName() string {
	if r.name == "" {
		return "tfrecord"
	}
	return r.name
}

func (r *Reader) fail(format string, args ...any) error {
	r.err = &Error{File: r.name, Record: r.record, Offset: r.offset, Msg: fmt.Sprintf(format, args...)}
	return r.err
}

// Next returns the next record's data, or io.EOF after the last record. The
// slice is valid until the next call to Next. A truncated record, a CRC
// mismatch or a length over the limit is an *Error; after any error Next
// returns the same error again.
func (r *Reader) Next() ([]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	n, err := io.ReadFull(r.r, r.hdr[:])
	if err != nil {
		if n == 0 && err == io.EOF {
			r.err = io.EOF
			return nil, io.EOF
		}
		return nil, r.readFail("header", err)
	}
	length := binary.LittleEndian.Uint64(r.hdr[:8])
	if got, want := binary.LittleEndian.Uint32(r.hdr[8:]), MaskedCRC(r.hdr[:8]); got != want {
		return nil, r.fail("length CRC mismatch: stored %#08x, computed %#08x", got, want)
	}
	if length > uint64(r.max) {
		return nil, r.fail("record length %d exceeds the limit of %d bytes", length, r.max)
	}
	if err := r.readData(int(length) + 4); err != nil {
		return nil, r.readFail("data", err)
	}
	data, crc := r.buf[:length], binary.LittleEndian.Uint32(r.buf[length:])
	if want := MaskedCRC(data); crc != want {
		return nil, r.fail("data CRC mismatch: stored %#08x, computed %#08x", crc, want)
	}
	r.record++
	r.offset += 12 + int64(length) + 4
	return data, nil
}

// readData reads n bytes into r.buf, growing it as bytes arrive so that a
// hostile length in a short file costs memory in proportion to the file.
func (r *Reader) readData(n int) error {
	if cap(r.buf) >= n {
		r.buf = r.buf[:n]
		_, err := io.ReadFull(r.r, r.buf)
		return err
	}
	r.buf = r.buf[:0]
	for len(r.buf) < n {
		step := min(n-len(r.buf), max(len(r.buf), 64<<10))
		old := len(r.buf)
		r.buf = append(r.buf, make([]byte, step)...)
		if _, err := io.ReadFull(r.r, r.buf[old:]); err != nil {
			return err
		}
	}
	return nil
}

func (r *Reader) readFail(what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return r.fail("truncated %s", what)
	}
	return r.fail("reading %s: %v", what, err)
}

// Record returns the index of the record the next call to Next reads, which
// after io.EOF is the number of records read.
func (r *Reader) Record() int { return r.record }

// Close releases the gzip reader and closes the file if the Reader was made
// by Open.
func (r *Reader) Close() error {
	var err error
	if r.gz != nil {
		err = r.gz.Close()
	}
	if r.closer != nil {
		if cerr := r.closer.Close(); err == nil {
			err = cerr
		}
	}
	return err
}
