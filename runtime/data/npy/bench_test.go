package npy

import (
	"bytes"
	"testing"
)

// BenchmarkReadF32 reads a 1024×1024 float32 array (4 MiB) from memory and
// converts it with Float32s; b.SetBytes makes the figure MB/s.
func BenchmarkReadF32(b *testing.B) {
	const rows, cols = 1024, 1024
	vals := make([]float32, rows*cols)
	for i := range vals {
		vals[i] = float32(i) * 0.5
	}
	in := encodeF32(vals, []int{rows, cols})
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		a, err := Read(bytes.NewReader(in), "bench.npy", int64(len(in)))
		if err != nil {
			b.Fatal(err)
		}
		if got := a.Float32s(); got[len(got)-1] != vals[len(vals)-1] {
			b.Fatal("wrong last value")
		}
	}
}
