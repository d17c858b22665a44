package tfrecord

import (
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
)

// Writer writes records in TFRecord framing, optionally gzip-compressed.
type Writer struct {
	w   io.Writer
	gz  *gzip.Writer
	hdr [12]byte
	buf []byte
}

// NewWriter returns a Writer to w with the given compression (None, GZIP;
// Auto means None). Close it to flush a GZIP stream; it does not close w.
func NewWriter(w io.Writer, c Compression) (*Writer, error) {
	switch c {
	case Auto, None:
		return &Writer{w: w}, nil
	case GZIP:
		gz := gzip.NewWriter(w)
		return &Writer{w: gz, gz: gz}, nil
	}
	return nil, errors.New("tfrecord: unknown compression")
}

// Write writes data as one record.
func (w *Writer) Write(data []byte) error {
	binary.LittleEndian.PutUint64(w.hdr[:8], uint64(len(data)))
	binary.LittleEndian.PutUint32(w.hdr[8:], MaskedCRC(w.hdr[:8]))
	if _, err := w.w.Write(w.hdr[:]); err != nil {
		return err
	}
	if _, err := w.w.Write(data); err != nil {
		return err
	}
	var foot [4]byte
	binary.LittleEndian.PutUint32(foot[:], MaskedCRC(data))
	_, err := w.w.Write(foot[:])
	return err
}

// WriteExample writes ex's encoding as one record.
func (w *Writer) WriteExample(ex *Example) error {
	w.buf = ex.AppendMarshal(w.buf[:0])
	return w.Write(w.buf)
}

// Close flushes and closes the gzip stream, if any. It does not close the
// underlying writer.
func (w *Writer) Close() error {
	if w.gz != nil {
		return w.gz.Close()
	}
	return nil
}
