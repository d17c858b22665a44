package gen_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/flow-lang/flow/examples/gen/mnistsoftmax"
)

// randomBatch returns n MNIST-shaped examples with one-hot labels.
func randomBatch(n int) (x, y []float32) {
	r := rand.New(rand.NewPCG(1, 2))
	x = make([]float32, n*784)
	for i := range x {
		x[i] = float32(r.Float64())
	}
	y = make([]float32, n*10)
	for i := 0; i < n; i++ {
		y[i*10+r.IntN(10)] = 1
	}
	return x, y
}

// BenchmarkMnistSoftmaxTrainStep measures one SGD step of the seed model
// at the seed's batch size, 100.
func BenchmarkMnistSoftmaxTrainStep(b *testing.B) {
	const n = 100
	m := mnistsoftmax.New()
	x, y := randomBatch(n)
	m.TrainStep(n, x, y)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		m.TrainStep(n, x, y)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "examples/s")
}

// BenchmarkMnistSoftmaxPredict measures inference at batch 1 and 100.
func BenchmarkMnistSoftmaxPredict(b *testing.B) {
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			m := mnistsoftmax.New()
			x, _ := randomBatch(n)
			m.Predict(n, x)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				m.Predict(n, x)
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "examples/s")
		})
	}
}
