package tfrecord

import (
	"bytes"
	"os"
	"testing"
)

func FuzzReader(f *testing.F) {
	for _, name := range []string{"testdata/singles.tfrecords", "testdata/tfrecord_lite_test.tfrecord"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(writeRecords(f, GZIP, []byte("gz")))
	f.Fuzz(func(t *testing.T, file []byte) {
		r, err := NewReader(bytes.NewReader(file), ReaderOptions{MaxRecordSize: 1 << 20})
		if err != nil {
			return
		}
		for range 1000 {
			rec, err := r.Next()
			if err != nil {
				return
			}
			if len(rec) > 1<<20 {
				t.Fatalf("record of %d bytes over the limit", len(rec))
			}
		}
	})
}

func FuzzDecodeExample(f *testing.F) {
	for _, tt := range encodingTests {
		f.Add(tt.enc)
	}
	f.Add([]byte{0x0a, 0x0f, 0x0a, 0x0d, 0x0a, 0x01, 'n', 0x12, 0x08, 0x1a, 0x06, 0x08, 0x07, 0x08, 0x08, 0x08, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		ex, err := DecodeExample(data)
		if err != nil {
			return
		}
		// Values are bounded by the input: no list longer than its bytes.
		for _, f := range ex.Features {
			if len(f.Bytes)+len(f.Floats)+len(f.Int64s) > len(data) {
				t.Fatalf("feature with %d values from %d bytes", len(f.Bytes)+len(f.Floats)+len(f.Int64s), len(data))
			}
		}
		back, err := DecodeExample(ex.Marshal())
		if err != nil {
			t.Fatalf("re-decoding our encoding: %v", err)
		}
		if !sameFeatures(back.Features, ex.Features) {
			t.Fatalf("round trip changed %v to %v", ex.Features, back.Features)
		}
		var reuse Example
		reuse.Unmarshal(ex.Marshal())
		if err := reuse.Unmarshal(data); err != nil || !sameFeatures(reuse.Features, ex.Features) {
			t.Fatalf("Unmarshal into a used Example: %v, %v, want %v", err, reuse.Features, ex.Features)
		}
	})
}
