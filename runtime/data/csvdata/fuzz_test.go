package csvdata

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzRead reads arbitrary input under limits: it must not panic, must keep
// within MaxBytes and MaxRecords, and every error must name the file.
func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob("testdata/bad/*")
	files = append(files, "testdata/iris.csv")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, true, false, uint8(0))
		f.Add(b, false, true, uint8(1))
	}
	const name, maxBytes, maxRecords = "fuzz.csv", 4096, 64
	f.Fuzz(func(t *testing.T, data []byte, header, tab bool, skip uint8) {
		opts := Options{Header: header, Comment: '#', SkipLines: int(skip % 4), MaxBytes: maxBytes, MaxRecords: maxRecords}
		if tab {
			opts.Comma = '\t'
		}
		nameErr := func(err error) {
			if err != nil && !strings.HasPrefix(err.Error(), name+":") {
				t.Fatalf("error without the file name: %v", err)
			}
		}
		tb, err := Read(bytes.NewReader(data), name, opts)
		nameErr(err)
		if err != nil {
			if len(data) <= maxBytes && strings.Contains(err.Error(), "MaxBytes") {
				t.Fatalf("%d bytes refused: %v", len(data), err)
			}
			return
		}
		if len(data) > maxBytes {
			t.Fatalf("%d bytes read with MaxBytes %d", len(data), maxBytes)
		}
		if tb.Len() == 0 || tb.Len() > maxRecords {
			t.Fatalf("%d records, want 1..%d", tb.Len(), maxRecords)
		}
		stored := 0
		for _, col := range tb.cols {
			if len(col) != tb.Len() {
				t.Fatalf("column of %d values, %d records", len(col), tb.Len())
			}
			for _, s := range col {
				stored += len(s)
			}
		}
		if stored > len(data) {
			t.Fatalf("%d bytes stored from %d read", stored, len(data))
		}
		for i := range tb.Len() {
			if l := tb.Line(i); l < 1 || l > bytes.Count(data, []byte{'\n'})+1 {
				t.Fatalf("record %d on line %d of %d-line input", i, l, bytes.Count(data, []byte{'\n'})+1)
			}
		}
		names := tb.Names()
		x, err := tb.Float32s(names)
		nameErr(err)
		if err == nil && len(x) != tb.Len()*len(names) {
			t.Fatalf("%d values, want %d", len(x), tb.Len()*len(names))
		}
		for _, c := range names {
			y, classes, err := tb.Categorical(c)
			nameErr(err)
			for _, k := range y {
				if k < 0 || int(k) >= len(classes) {
					t.Fatalf("index %d of %d classes", k, len(classes))
				}
			}
		}
	})
}
