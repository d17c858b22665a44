package mnist

import (
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// EncodeImages writes im to w as a gzip-compressed IDX image file, the
// format DecodeImages reads.
func EncodeImages(w io.Writer, im *Images) error {
	if im.N <= 0 || im.Rows <= 0 || im.Cols <= 0 || len(im.Pixels) != im.N*im.Rows*im.Cols {
		return fmt.Errorf("mnist: cannot encode %d images of %dx%d pixels from %d pixel bytes", im.N, im.Rows, im.Cols, len(im.Pixels))
	}
	var hdr [imageHeaderLen]byte
	binary.BigEndian.PutUint32(hdr[0:], ImageMagic)
	binary.BigEndian.PutUint32(hdr[4:], uint32(im.N))
	binary.BigEndian.PutUint32(hdr[8:], uint32(im.Rows))
	binary.BigEndian.PutUint32(hdr[12:], uint32(im.Cols))
	return writeGzip(w, hdr[:], im.Pixels)
}

// EncodeLabels writes labels to w as a gzip-compressed IDX label file, the
// format DecodeLabels reads.
func EncodeLabels(w io.Writer, labels []uint8) error {
	if len(labels) == 0 {
		return fmt.Errorf("mnist: cannot encode an empty label set")
	}
	if err := checkLabels(labels, "mnist: encoding labels"); err != nil {
		return err
	}
	var hdr [labelHeaderLen]byte
	binary.BigEndian.PutUint32(hdr[0:], LabelMagic)
	binary.BigEndian.PutUint32(hdr[4:], uint32(len(labels)))
	return writeGzip(w, hdr[:], labels)
}

// WriteImages writes im to the file path with EncodeImages.
func WriteImages(path string, im *Images) error {
	return writeFile(path, func(w io.Writer) error { return EncodeImages(w, im) })
}

// WriteLabels writes labels to the file path with EncodeLabels.
func WriteLabels(path string, labels []uint8) error {
	return writeFile(path, func(w io.Writer) error { return EncodeLabels(w, labels) })
}

func writeGzip(w io.Writer, hdr, body []byte) error {
	zw := gzip.NewWriter(w)
	if _, err := zw.Write(hdr); err != nil {
		return err
	}
	if _, err := zw.Write(body); err != nil {
		return err
	}
	return zw.Close()
}

func writeFile(path string, encode func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := encode(f); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}
