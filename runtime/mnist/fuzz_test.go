package mnist

import (
	"bytes"
	"testing"
)

func FuzzDecodeImages(f *testing.F) {
	f.Add(imageBytes(ImageMagic, 2, 2, 2, seq(8)), true)
	f.Add(imageBytes(ImageMagic, 1, 3, 1, seq(3)), false)
	f.Add(imageBytes(ImageMagic, 5, 28, 28, seq(10)), false)
	f.Add(imageBytes(LabelMagic, 1, 1, 1, seq(1)), true)
	f.Add([]byte{}, false)
	f.Fuzz(func(t *testing.T, data []byte, compress bool) {
		var im *Images
		var err error
		if compress {
			im, err = DecodeImages(bytes.NewReader(gz(t, data)), "fuzz")
		} else {
			im, err = ParseImages(data, "fuzz")
			// The raw bytes, read as if they were a gzip file, must not panic either.
			_, _ = DecodeImages(bytes.NewReader(data), "fuzz")
		}
		if err != nil {
			if im != nil {
				t.Fatalf("got images and error %v", err)
			}
			return
		}
		if im.N <= 0 || im.Rows <= 0 || im.Cols <= 0 || len(im.Pixels) != im.N*im.Rows*im.Cols {
			t.Fatalf("inconsistent result: N=%d Rows=%d Cols=%d len(Pixels)=%d", im.N, im.Rows, im.Cols, len(im.Pixels))
		}
		if len(data) != imageHeaderLen+len(im.Pixels) || !bytes.Equal(data[imageHeaderLen:], im.Pixels) {
			t.Fatalf("pixels do not match the input")
		}
	})
}

func FuzzDecodeLabels(f *testing.F) {
	f.Add(labelBytes(LabelMagic, 3, []byte{1, 2, 3}), true)
	f.Add(labelBytes(LabelMagic, 2, []byte{9, 10}), false)
	f.Add(labelBytes(ImageMagic, 1, []byte{1}), false)
	f.Add([]byte{0x1f, 0x8b, 8, 0}, false)
	f.Fuzz(func(t *testing.T, data []byte, compress bool) {
		var labels []uint8
		var err error
		if compress {
			labels, err = DecodeLabels(bytes.NewReader(gz(t, data)), "fuzz")
		} else {
			labels, err = ParseLabels(data, "fuzz")
			_, _ = DecodeLabels(bytes.NewReader(data), "fuzz")
		}
		if err != nil {
			if labels != nil {
				t.Fatalf("got labels and error %v", err)
			}
			return
		}
		if len(labels) == 0 || len(data) != labelHeaderLen+len(labels) || !bytes.Equal(data[labelHeaderLen:], labels) {
			t.Fatalf("labels do not match the input")
		}
		for _, l := range labels {
			if l > 9 {
				t.Fatalf("label %d accepted", l)
			}
		}
	})
}
