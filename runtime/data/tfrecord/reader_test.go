package tfrecord

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
)

func TestCRC32CVector(t *testing.T) {
	// The CRC-32C check value (RFC 3720 / the Castagnoli catalogue).
	if got := MaskedCRC([]byte("123456789")); got != mask(0xe3069283) {
		t.Errorf("MaskedCRC(123456789) = %#x, want mask(0xe3069283) = %#x", got, mask(0xe3069283))
	}
	// (0xe3069283>>15 | 0xe3069283<<17) mod 2^32 + 0xa282ead8, computed apart.
	if got, want := mask(0xe3069283), uint32(0xc78ab0e5); got != want {
		t.Errorf("mask(0xe3069283) = %#x, want %#x", got, want)
	}
	if got := crc32cRaw([]byte("123456789")); got != 0xe3069283 {
		t.Errorf("crc32c(123456789) = %#x, want 0xe3069283", got)
	}
}

func readAll(t *testing.T, r *Reader) [][]byte {
	t.Helper()
	var recs [][]byte
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return recs
		}
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, bytes.Clone(rec))
	}
}

// singles.tfrecords was written by TensorFlow (see testdata/README.md).
var singles = []map[string]Feature{
	{"int_feature": Int64Feature(42)},
	{"float_feature": FloatFeature(3.14)},
	{"byte_feature": BytesFeature([]byte("@ABCD"))},
}

func TestTensorFlowFile(t *testing.T) {
	r, err := Open("testdata/singles.tfrecords", ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	recs := readAll(t, r)
	if len(recs) != len(singles) {
		t.Fatalf("read %d records, want %d", len(recs), len(singles))
	}
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, None)
	for i, rec := range recs {
		ex, err := DecodeExample(rec)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if !sameFeatures(ex.Features, singles[i]) {
			t.Errorf("record %d: got %v, want %v", i, ex.Features, singles[i])
		}
		// TensorFlow's encoding of a one-feature Example is canonical, so
		// ours must match it byte for byte.
		if enc := (&Example{Features: singles[i]}).Marshal(); !bytes.Equal(enc, rec) {
			t.Errorf("record %d: Marshal\n got % x\nwant % x", i, enc, rec)
		}
		if err := w.WriteExample(&Example{Features: singles[i]}); err != nil {
			t.Fatal(err)
		}
	}
	want, _ := os.ReadFile("testdata/singles.tfrecords")
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("Writer output differs from TensorFlow's file\n got % x\nwant % x", buf.Bytes(), want)
	}
}

func TestTFRecordLiteFile(t *testing.T) {
	r, err := Open("testdata/tfrecord_lite_test.tfrecord", ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	recs := readAll(t, r)
	if len(recs) != 42 || r.Record() != 42 {
		t.Fatalf("read %d records (Record() = %d), want 42", len(recs), r.Record())
	}
	for i, rec := range recs {
		ex, err := DecodeExample(rec)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if len(ex.Features) != 4 {
			t.Errorf("record %d: %d features, want 4", i, len(ex.Features))
		}
		back, err := DecodeExample(ex.Marshal())
		if err != nil || !sameFeatures(back.Features, ex.Features) {
			t.Errorf("record %d: re-encoding changed it: %v", i, err)
		}
		if i == 0 {
			want := map[string]Feature{
				"feature0": Int64Feature(0),
				"feature1": Int64Feature(2),
				"feature2": BytesFeature([]byte("chicken")),
				"feature3": FloatFeature(float32frombits(0xbf8fd70f)),
			}
			if !sameFeatures(ex.Features, want) {
				t.Errorf("record 0: got %v, want %v", ex.Features, want)
			}
		}
	}
}

func writeRecords(t testing.TB, c Compression, recs ...[]byte) []byte {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, c)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	recs := [][]byte{{}, []byte("a"), bytes.Repeat([]byte{0x1f, 0x8b}, 100000)}
	for _, wc := range []Compression{None, GZIP} {
		file := writeRecords(t, wc, recs...)
		for _, rc := range []Compression{Auto, wc} {
			r, err := NewReader(bytes.NewReader(file), ReaderOptions{Compression: rc})
			if err != nil {
				t.Fatal(err)
			}
			got := readAll(t, r)
			if len(got) != len(recs) {
				t.Fatalf("write %v read %v: %d records, want %d", wc, rc, len(got), len(recs))
			}
			for i := range recs {
				if !bytes.Equal(got[i], recs[i]) {
					t.Errorf("write %v read %v: record %d differs", wc, rc, i)
				}
			}
			if _, err := r.Next(); err != io.EOF {
				t.Errorf("Next after EOF: %v", err)
			}
		}
	}
}

func TestReaderErrors(t *testing.T) {
	file := writeRecords(t, None, []byte("first"), []byte("second record"))
	second := int64(12 + 5 + 4)
	flip := func(i int) []byte {
		b := bytes.Clone(file)
		b[i] ^= 1
		return b
	}
	hostile := binary.LittleEndian.AppendUint64(nil, 1<<40)
	hostile = binary.LittleEndian.AppendUint32(hostile, MaskedCRC(hostile))
	short := binary.LittleEndian.AppendUint64(nil, 1<<25)
	short = binary.LittleEndian.AppendUint32(short, MaskedCRC(short))
	short = append(short, "only a few bytes"...)
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"truncated header", file[:second+5], fmt.Sprintf("f.tfrecord: record 1 at byte %d: truncated header", second)},
		{"truncated data", file[:second+14], fmt.Sprintf("record 1 at byte %d: truncated data", second)},
		{"truncated data CRC", file[:len(file)-1], "record 1 at byte 21: truncated data"},
		{"length CRC", flip(8), "record 0 at byte 0: length CRC mismatch"},
		{"length", flip(0), "record 0 at byte 0: length CRC mismatch"},
		{"data", flip(int(second) + 13), "record 1 at byte 21: data CRC mismatch"},
		{"data CRC", flip(len(file) - 1), "record 1 at byte 21: data CRC mismatch"},
		{"hostile length", hostile, "record 0 at byte 0: record length 1099511627776 exceeds the limit of 67108864 bytes"},
		{"short file, long length", short, "record 0 at byte 0: truncated data"},
	}
	for _, tt := range tests {
		r, err := NewReader(bytes.NewReader(tt.file), ReaderOptions{Name: "f.tfrecord", Compression: None, MaxRecordSize: DefaultMaxRecordSize})
		if err != nil {
			t.Fatal(err)
		}
		for err == nil {
			_, err = r.Next()
		}
		var e *Error
		if !errors.As(err, &e) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want *Error containing %q", tt.name, err, tt.want)
		}
		if _, again := r.Next(); again != err {
			t.Errorf("%s: Next after error returned %v", tt.name, again)
		}
	}
}

// A length just under the limit in a short file must not allocate the
// length up front.
func TestBoundedAllocation(t *testing.T) {
	short := binary.LittleEndian.AppendUint64(nil, 1<<30-1)
	short = binary.LittleEndian.AppendUint32(short, MaskedCRC(short))
	short = append(short, make([]byte, 1000)...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r, _ := NewReader(bytes.NewReader(short), ReaderOptions{MaxRecordSize: 1 << 30})
	if _, err := r.Next(); err == nil {
		t.Fatal("no error")
	}
	runtime.ReadMemStats(&after)
	if d := after.TotalAlloc - before.TotalAlloc; d > 4<<20 {
		t.Errorf("allocated %d bytes reading a 1 KB file", d)
	}
}

func TestDetectRawFileStartingWithGzipMagic(t *testing.T) {
	rec := make([]byte, 0x8b1f) // length bytes 1f 8b 00 ...
	file := writeRecords(t, None, rec)
	r, err := NewReader(bytes.NewReader(file), ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, r); len(got) != 1 || len(got[0]) != len(rec) {
		t.Errorf("read %d records", len(got))
	}
}

func crc32cRaw(b []byte) uint32 { return crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)) }
