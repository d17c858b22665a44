package tfrecord

import (
	"bytes"
	"io"
	"testing"
)

// mnistFile returns a TFRecord file of n MNIST-like Examples: "image", 784
// floats, and "label", one int64.
func mnistFile(b *testing.B, n int) []byte {
	pix := make([]float32, 784)
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, None)
	for i := range n {
		for j := range pix {
			pix[j] = float32((i*31+j*7)%256) / 255
		}
		ex := &Example{Features: map[string]Feature{"image": FloatFeature(pix...), "label": Int64Feature(int64(i % 10))}}
		if err := w.WriteExample(ex); err != nil {
			b.Fatal(err)
		}
	}
	return buf.Bytes()
}

func benchRead(b *testing.B, decode bool) {
	const n = 1000
	file := mnistFile(b, n)
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	var ex Example
	for b.Loop() {
		r, err := NewReader(bytes.NewReader(file), ReaderOptions{Compression: None})
		if err != nil {
			b.Fatal(err)
		}
		for {
			rec, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if decode {
				if err := ex.Unmarshal(rec); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkReadFraming reads and CRC-checks the records of a file of 1000
// MNIST-like Examples (784 floats + an int64 label).
func BenchmarkReadFraming(b *testing.B) { benchRead(b, false) }

// BenchmarkReadExamples also decodes each record into a reused Example.
func BenchmarkReadExamples(b *testing.B) { benchRead(b, true) }
