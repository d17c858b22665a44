package mnist

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// IDX magic numbers: two zero bytes, the element type (0x08 = unsigned
// byte) and the number of dimensions.
const (
	// ImageMagic is the magic number of an IDX file of uint8 images
	// (3 dimensions: count, rows, columns).
	ImageMagic = 0x00000803
	// LabelMagic is the magic number of an IDX file of uint8 labels
	// (1 dimension: count).
	LabelMagic = 0x00000801
)

// Limits that bound what a file header may claim before any data is read.
const (
	// MaxCount is the largest number of images or labels a file may hold.
	MaxCount = 10_000_000
	// MaxPixelBytes is the largest total pixel data an image file may hold
	// (2 GiB - 1, so that sizes fit an int on 32-bit platforms too).
	MaxPixelBytes = 1<<31 - 1
	// NumClasses is the number of digit classes; labels are 0..NumClasses-1.
	NumClasses = 10
)

const (
	imageHeaderLen = 16
	labelHeaderLen = 8
)

// Images is a set of equally sized grayscale images.
type Images struct {
	// N is the number of images.
	N int
	// Rows and Cols are the height and width of every image.
	Rows, Cols int
	// Pixels holds the N images one after another, each row-major, one
	// byte per pixel (0 = background, 255 = ink); len(Pixels) == N*Rows*Cols.
	Pixels []uint8
}

// Size returns the number of pixels in one image, Rows*Cols.
func (im *Images) Size() int { return im.Rows * im.Cols }

// Image returns the pixels of image i, aliasing im.Pixels.
func (im *Images) Image(i int) []uint8 {
	s := im.Size()
	return im.Pixels[i*s : (i+1)*s]
}

// ReadImages reads a gzip-compressed IDX image file.
func ReadImages(path string) (*Images, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return DecodeImages(f, path)
}

// ReadLabels reads a gzip-compressed IDX label file.
func ReadLabels(path string) ([]uint8, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return DecodeLabels(f, path)
}

// DecodeImages decodes a gzip-compressed IDX image file from r; name
// identifies the file in error messages.
func DecodeImages(r io.Reader, name string) (*Images, error) {
	zr, err := newGzipReader(r, name)
	if err != nil {
		return nil, err
	}
	var hdr [imageHeaderLen]byte
	if err := readHeader(zr, hdr[:], name); err != nil {
		return nil, err
	}
	im, size, err := parseImageHeader(hdr[:], name)
	if err != nil {
		return nil, err
	}
	if im.Pixels, err = readBody(zr, size, "pixel", name); err != nil {
		return nil, err
	}
	return im, nil
}

// DecodeLabels decodes a gzip-compressed IDX label file from r; name
// identifies the file in error messages.
func DecodeLabels(r io.Reader, name string) ([]uint8, error) {
	zr, err := newGzipReader(r, name)
	if err != nil {
		return nil, err
	}
	var hdr [labelHeaderLen]byte
	if err := readHeader(zr, hdr[:], name); err != nil {
		return nil, err
	}
	n, err := parseLabelHeader(hdr[:], name)
	if err != nil {
		return nil, err
	}
	labels, err := readBody(zr, n, "label", name)
	if err != nil {
		return nil, err
	}
	if err := checkLabels(labels, name); err != nil {
		return nil, err
	}
	return labels, nil
}

// ParseImages parses an uncompressed IDX image file held in data; name
// identifies the file in error messages. The returned Pixels alias data.
func ParseImages(data []byte, name string) (*Images, error) {
	if len(data) < imageHeaderLen {
		return nil, fmt.Errorf("%s: truncated header: want %d bytes, got %d", name, imageHeaderLen, len(data))
	}
	im, size, err := parseImageHeader(data[:imageHeaderLen], name)
	if err != nil {
		return nil, err
	}
	if err := checkBodyLen(len(data)-imageHeaderLen, size, "pixel", name); err != nil {
		return nil, err
	}
	im.Pixels = data[imageHeaderLen:]
	return im, nil
}

// ParseLabels parses an uncompressed IDX label file held in data; name
// identifies the file in error messages. The returned labels alias data.
func ParseLabels(data []byte, name string) ([]uint8, error) {
	if len(data) < labelHeaderLen {
		return nil, fmt.Errorf("%s: truncated header: want %d bytes, got %d", name, labelHeaderLen, len(data))
	}
	n, err := parseLabelHeader(data[:labelHeaderLen], name)
	if err != nil {
		return nil, err
	}
	if err := checkBodyLen(len(data)-labelHeaderLen, n, "label", name); err != nil {
		return nil, err
	}
	labels := data[labelHeaderLen:]
	if err := checkLabels(labels, name); err != nil {
		return nil, err
	}
	return labels, nil
}

func newGzipReader(r io.Reader, name string) (*gzip.Reader, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty file, want gzip-compressed IDX data", name)
		}
		return nil, fmt.Errorf("%s: not gzip-compressed IDX data: %v", name, err)
	}
	return zr, nil
}

// readHeader reads exactly len(hdr) bytes of header.
func readHeader(r io.Reader, hdr []byte, name string) error {
	n, err := io.ReadFull(r, hdr)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s: truncated header: want %d bytes, got %d", name, len(hdr), n)
	default:
		return fmt.Errorf("%s: reading header: %v", name, err)
	}
}

// readChunk bounds the up-front allocation for a body, so that a header
// claiming a huge body costs memory only as data actually arrives.
const readChunk = 1 << 24

// readBody reads exactly want bytes of data and then checks that the stream
// ends there (which also verifies the gzip checksum).
func readBody(r io.Reader, want int, what, name string) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(min(want, readChunk))
	if _, err := buf.ReadFrom(io.LimitReader(r, int64(want))); err != nil {
		return nil, fmt.Errorf("%s: reading %s data: %v", name, what, err)
	}
	if buf.Len() < want {
		return nil, fmt.Errorf("%s: truncated: want %d %s bytes, got %d", name, want, what, buf.Len())
	}
	extra, err := io.Copy(io.Discard, r)
	if err != nil {
		return nil, fmt.Errorf("%s: reading %s data: %v", name, what, err)
	}
	if extra > 0 {
		return nil, fmt.Errorf("%s: %d unexpected trailing bytes after %d %s bytes", name, extra, want, what)
	}
	return buf.Bytes(), nil
}

func checkBodyLen(got, want int, what, name string) error {
	if got < want {
		return fmt.Errorf("%s: truncated: want %d %s bytes, got %d", name, want, what, got)
	}
	if got > want {
		return fmt.Errorf("%s: %d unexpected trailing bytes after %d %s bytes", name, got-want, want, what)
	}
	return nil
}

// parseImageHeader validates a 16-byte image header and returns the image
// set (without pixels) and the number of pixel bytes that must follow.
func parseImageHeader(hdr []byte, name string) (*Images, int, error) {
	if magic := binary.BigEndian.Uint32(hdr[0:]); magic != ImageMagic {
		return nil, 0, fmt.Errorf("%s: bad magic number 0x%08x, want 0x%08x (an IDX image file)", name, magic, ImageMagic)
	}
	count := uint64(binary.BigEndian.Uint32(hdr[4:]))
	rows := uint64(binary.BigEndian.Uint32(hdr[8:]))
	cols := uint64(binary.BigEndian.Uint32(hdr[12:]))
	if count == 0 || rows == 0 || cols == 0 {
		return nil, 0, fmt.Errorf("%s: empty image set: %d images of %dx%d pixels", name, count, rows, cols)
	}
	if count > MaxCount {
		return nil, 0, fmt.Errorf("%s: %d images is more than the limit of %d", name, count, MaxCount)
	}
	// rows and cols are each < 2^32, so their product cannot overflow.
	if size := rows * cols; size > MaxPixelBytes || size*count > MaxPixelBytes {
		return nil, 0, fmt.Errorf("%s: %d images of %dx%d pixels is more than the limit of %d pixel bytes", name, count, rows, cols, MaxPixelBytes)
	}
	im := &Images{N: int(count), Rows: int(rows), Cols: int(cols)}
	return im, im.N * im.Rows * im.Cols, nil
}

// parseLabelHeader validates an 8-byte label header and returns the number
// of labels that must follow.
func parseLabelHeader(hdr []byte, name string) (int, error) {
	if magic := binary.BigEndian.Uint32(hdr[0:]); magic != LabelMagic {
		return 0, fmt.Errorf("%s: bad magic number 0x%08x, want 0x%08x (an IDX label file)", name, magic, LabelMagic)
	}
	count := binary.BigEndian.Uint32(hdr[4:])
	if count == 0 {
		return 0, fmt.Errorf("%s: empty label set: 0 labels", name)
	}
	if count > MaxCount {
		return 0, fmt.Errorf("%s: %d labels is more than the limit of %d", name, count, MaxCount)
	}
	return int(count), nil
}

func checkLabels(labels []uint8, name string) error {
	for i, l := range labels {
		if l >= NumClasses {
			return fmt.Errorf("%s: label %d at index %d is out of range 0..%d", name, l, i, NumClasses-1)
		}
	}
	return nil
}
