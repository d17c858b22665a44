package gen_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/flow-lang/flow/examples/gen/lenet"
	"github.com/flow-lang/flow/examples/gen/mlp"
	"github.com/flow-lang/flow/examples/gen/mnistsoftmax"
	"github.com/flow-lang/flow/runtime"
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

// benchModel measures a generated model through runtime.Model: one
// training step at batch 64 and inference at batch 1 and 64, the sizes
// issue 3 reports.
func benchModel(b *testing.B, newModel func() runtime.Model) {
	b.Run("train/batch=64", func(b *testing.B) {
		const n = 64
		m := newModel()
		x, y := randomBatch(n)
		in := [][]float32{x, y}
		m.TrainFeed(n, in)
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			m.TrainFeed(n, in)
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "examples/s")
	})
	for _, n := range []int{1, 64} {
		b.Run(fmt.Sprintf("predict/batch=%d", n), func(b *testing.B) {
			m := newModel()
			x, _ := randomBatch(n)
			in := [][]float32{x}
			m.PredictFeed(n, in)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				m.PredictFeed(n, in)
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "examples/s")
		})
	}
}

// BenchmarkMLP measures examples/mlp.flow (784-512-512-10, Adam).
func BenchmarkMLP(b *testing.B) { benchModel(b, func() runtime.Model { return mlp.New() }) }

// BenchmarkLeNet measures examples/lenet.flow (two conv layers, Adam).
func BenchmarkLeNet(b *testing.B) { benchModel(b, func() runtime.Model { return lenet.New() }) }
