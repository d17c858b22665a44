package npy

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// fuzzLimit bounds the array data a fuzzed input may claim.
const fuzzLimit = 1 << 20

// FuzzRead feeds Read arbitrary bytes, seeded with every .npy fixture: it
// must not panic, must not allocate much beyond the limit whatever the
// header claims, must name the file in every error, and on success must
// return an array whose accessors agree with its shape.
func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.npy"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		a, err := Read(bytes.NewReader(in), "fuzz.npy", fuzzLimit)
		runtime.ReadMemStats(&after)
		// Data (≤ limit), a Fortran-order copy (≤ limit), the header
		// (≤ 64 KiB) and small change.
		if d := after.TotalAlloc - before.TotalAlloc; d > 2*fuzzLimit+MaxHeaderLen+64<<10 {
			t.Fatalf("allocated %d bytes for a %d-byte input", d, len(in))
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.npy: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		n := 1
		for _, d := range a.Shape {
			n *= d
		}
		if a.Len() != n || len(a.Float32s()) != n || len(a.Float64s()) != n {
			t.Fatalf("shape %v but Len %d", a.Shape, a.Len())
		}
		a.Int64s()
		a.Int32s()
	})
}
