package mnist

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// imageBytes builds an uncompressed IDX image file by hand.
func imageBytes(magic, count, rows, cols uint32, pixels []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	b = binary.BigEndian.AppendUint32(b, count)
	b = binary.BigEndian.AppendUint32(b, rows)
	b = binary.BigEndian.AppendUint32(b, cols)
	return append(b, pixels...)
}

// labelBytes builds an uncompressed IDX label file by hand.
func labelBytes(magic, count uint32, labels []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	b = binary.BigEndian.AppendUint32(b, count)
	return append(b, labels...)
}

func gz(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(data)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}

func TestDecodeImages(t *testing.T) {
	im, err := DecodeImages(bytes.NewReader(gz(t, imageBytes(ImageMagic, 3, 2, 4, seq(24)))), "x.gz")
	require.NoError(t, err)
	require.Equal(t, &Images{N: 3, Rows: 2, Cols: 4, Pixels: seq(24)}, im)
	require.Equal(t, 8, im.Size())
	require.Equal(t, seq(24)[16:24], im.Image(2))
}

func TestDecodeLabels(t *testing.T) {
	labels, err := DecodeLabels(bytes.NewReader(gz(t, labelBytes(LabelMagic, 4, []byte{0, 9, 3, 3}))), "y.gz")
	require.NoError(t, err)
	require.Equal(t, []uint8{0, 9, 3, 3}, labels)
}

func TestDecodeImagesErrors(t *testing.T) {
	const name = "train-images-idx3-ubyte.gz"
	corrupt := gz(t, imageBytes(ImageMagic, 1, 2, 2, seq(4)))
	corrupt[len(corrupt)-6] ^= 0xff // damage the CRC-32 in the gzip trailer
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"empty file", nil, name + ": empty file, want gzip-compressed IDX data"},
		{"not gzip", imageBytes(ImageMagic, 1, 1, 1, seq(1)), name + ": not gzip-compressed IDX data: gzip: invalid header"},
		{"bad magic", gz(t, imageBytes(LabelMagic, 1, 1, 1, seq(1))), name + ": bad magic number 0x00000801, want 0x00000803 (an IDX image file)"},
		{"short header", gz(t, imageBytes(ImageMagic, 1, 1, 1, nil)[:10]), name + ": truncated header: want 16 bytes, got 10"},
		{"zero count", gz(t, imageBytes(ImageMagic, 0, 28, 28, nil)), name + ": empty image set: 0 images of 28x28 pixels"},
		{"zero rows", gz(t, imageBytes(ImageMagic, 5, 0, 28, nil)), name + ": empty image set: 5 images of 0x28 pixels"},
		{"zero cols", gz(t, imageBytes(ImageMagic, 5, 28, 0, nil)), name + ": empty image set: 5 images of 28x0 pixels"},
		{"too many images", gz(t, imageBytes(ImageMagic, 10_000_001, 1, 1, nil)), name + ": 10000001 images is more than the limit of 10000000"},
		{"too many pixels", gz(t, imageBytes(ImageMagic, 60000, 1000, 1000, nil)), name + ": 60000 images of 1000x1000 pixels is more than the limit of 2147483647 pixel bytes"},
		{"huge dims", gz(t, imageBytes(ImageMagic, 1, 0xffffffff, 0xffffffff, nil)), name + ": 1 images of 4294967295x4294967295 pixels is more than the limit of 2147483647 pixel bytes"},
		{"truncated", gz(t, imageBytes(ImageMagic, 60000, 28, 28, seq(1000))), name + ": truncated: want 47040000 pixel bytes, got 1000"},
		{"trailing bytes", gz(t, imageBytes(ImageMagic, 1, 2, 2, seq(7))), name + ": 3 unexpected trailing bytes after 4 pixel bytes"},
		{"bad checksum", corrupt, name + ": reading pixel data: gzip: invalid checksum"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			im, err := DecodeImages(bytes.NewReader(tc.file), name)
			require.Nil(t, im)
			require.EqualError(t, err, tc.want)
		})
	}
}

func TestDecodeLabelsErrors(t *testing.T) {
	const name = "t10k-labels-idx1-ubyte.gz"
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"not gzip", []byte("hello, world"), name + ": not gzip-compressed IDX data: gzip: invalid header"},
		{"bad magic", gz(t, labelBytes(ImageMagic, 1, []byte{1})), name + ": bad magic number 0x00000803, want 0x00000801 (an IDX label file)"},
		{"short header", gz(t, []byte{0, 0, 8}), name + ": truncated header: want 8 bytes, got 3"},
		{"zero count", gz(t, labelBytes(LabelMagic, 0, nil)), name + ": empty label set: 0 labels"},
		{"too many", gz(t, labelBytes(LabelMagic, 0xffffffff, nil)), name + ": 4294967295 labels is more than the limit of 10000000"},
		{"truncated", gz(t, labelBytes(LabelMagic, 10000, []byte{1, 2})), name + ": truncated: want 10000 label bytes, got 2"},
		{"trailing bytes", gz(t, labelBytes(LabelMagic, 2, []byte{1, 2, 3})), name + ": 1 unexpected trailing bytes after 2 label bytes"},
		{"label above 9", gz(t, labelBytes(LabelMagic, 3, []byte{1, 2, 10})), name + ": label 10 at index 2 is out of range 0..9"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			labels, err := DecodeLabels(bytes.NewReader(tc.file), name)
			require.Nil(t, labels)
			require.EqualError(t, err, tc.want)
		})
	}
}

func TestParseImagesAndLabels(t *testing.T) {
	im, err := ParseImages(imageBytes(ImageMagic, 2, 1, 3, seq(6)), "a")
	require.NoError(t, err)
	require.Equal(t, &Images{N: 2, Rows: 1, Cols: 3, Pixels: seq(6)}, im)

	labels, err := ParseLabels(labelBytes(LabelMagic, 2, []byte{7, 8}), "b")
	require.NoError(t, err)
	require.Equal(t, []uint8{7, 8}, labels)

	errs := []struct {
		err  error
		want string
	}{
		{second(ParseImages(nil, "a")), "a: truncated header: want 16 bytes, got 0"},
		{second(ParseImages(imageBytes(ImageMagic, 2, 1, 3, seq(5)), "a")), "a: truncated: want 6 pixel bytes, got 5"},
		{second(ParseImages(imageBytes(ImageMagic, 2, 1, 3, seq(8)), "a")), "a: 2 unexpected trailing bytes after 6 pixel bytes"},
		{second(ParseImages(imageBytes(1, 2, 1, 3, seq(6)), "a")), "a: bad magic number 0x00000001, want 0x00000803 (an IDX image file)"},
		{second(ParseLabels([]byte{0, 0, 8, 1}, "b")), "b: truncated header: want 8 bytes, got 4"},
		{second(ParseLabels(labelBytes(LabelMagic, 2, []byte{1}), "b")), "b: truncated: want 2 label bytes, got 1"},
		{second(ParseLabels(labelBytes(LabelMagic, 2, []byte{1, 255}), "b")), "b: label 255 at index 1 is out of range 0..9"},
	}
	for _, e := range errs {
		require.EqualError(t, e.err, e.want)
	}
}

func second[T any](_ T, err error) error { return err }

func TestReadFiles(t *testing.T) {
	dir := t.TempDir()
	imgPath := filepath.Join(dir, "img.gz")
	require.NoError(t, os.WriteFile(imgPath, gz(t, imageBytes(ImageMagic, 1, 2, 2, seq(4))), 0o644))
	im, err := ReadImages(imgPath)
	require.NoError(t, err)
	require.Equal(t, seq(4), im.Pixels)

	_, err = ReadImages(filepath.Join(dir, "nope.gz"))
	require.ErrorIs(t, err, os.ErrNotExist)
	require.Contains(t, err.Error(), "nope.gz")

	lblPath := filepath.Join(dir, "lbl.gz")
	require.NoError(t, os.WriteFile(lblPath, gz(t, labelBytes(LabelMagic, 1, []byte{11})), 0o644))
	_, err = ReadLabels(lblPath)
	require.EqualError(t, err, lblPath+": label 11 at index 0 is out of range 0..9")
}

func TestEncodeRoundTrip(t *testing.T) {
	im := &Images{N: 3, Rows: 2, Cols: 2, Pixels: seq(12)}
	var buf bytes.Buffer
	require.NoError(t, EncodeImages(&buf, im))
	got, err := DecodeImages(&buf, "rt")
	require.NoError(t, err)
	require.Equal(t, im, got)

	buf.Reset()
	require.NoError(t, EncodeLabels(&buf, []uint8{1, 2, 3}))
	labels, err := DecodeLabels(&buf, "rt")
	require.NoError(t, err)
	require.Equal(t, []uint8{1, 2, 3}, labels)

	require.EqualError(t, EncodeImages(&buf, &Images{N: 2, Rows: 2, Cols: 2, Pixels: seq(3)}), "mnist: cannot encode 2 images of 2x2 pixels from 3 pixel bytes")
	require.EqualError(t, EncodeLabels(&buf, []uint8{10}), "mnist: encoding labels: label 10 at index 0 is out of range 0..9")
	require.EqualError(t, EncodeLabels(&buf, nil), "mnist: cannot encode an empty label set")
}
