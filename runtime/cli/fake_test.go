package cli

import (
	"math"

	"github.com/flow-lang/flow/runtime"
)

// softmaxModel is a hand-written softmax regression, y = softmax(x W + b),
// trained with plain SGD on the mean cross-entropy: what flowc generates for
// the seed's MNIST model, written out by hand to drive the CLI. Its
// signature says its loss is a mean over the batch.
type softmaxModel struct {
	sig    runtime.Signature
	w, b   []float32
	lr     float32
	nanAt  int // TrainFeed returns NaN from this step on (0: never)
	steps  int
	probs  []float32
	dW, db []float32
}

func newSoftmaxModel() *softmaxModel {
	return &softmaxModel{
		sig: runtime.Signature{
			Model:  "FakeSoftmax",
			Source: "fake_softmax.flow",
			Inputs: []runtime.TensorSpec{
				{Name: "x", DType: "f32", Shape: []int{-1, 784}, Dims: []string{"N", ""}},
				{Name: "y_", DType: "f32", Shape: []int{-1, 10}, Dims: []string{"N", ""}},
			},
			Outputs: []runtime.TensorSpec{
				{Name: "y", DType: "f32", Shape: []int{-1, 10}, Dims: []string{"N", ""}},
			},
			Params: []runtime.TensorSpec{
				{Name: "W", DType: "f32", Shape: []int{784, 10}},
				{Name: "b", DType: "f32", Shape: []int{10}},
			},
			PredictInputs: []string{"x"},
			TrainInputs:   []string{"x", "y_"},
			Loss:          "xent",
			LossReduction: runtime.LossMean,
			Optimizer:     "sgd(lr=0.5)",
			ParamCount:    7850,
			MaxBatch:      1000,
		},
		w:  make([]float32, 784*10),
		b:  make([]float32, 10),
		dW: make([]float32, 784*10),
		db: make([]float32, 10),
		lr: 0.5,
	}
}

func (m *softmaxModel) Signature() *runtime.Signature { return &m.sig }

func (m *softmaxModel) Params() []runtime.Param {
	return []runtime.Param{{Name: "W", Shape: []int{784, 10}, Data: m.w}, {Name: "b", Shape: []int{10}, Data: m.b}}
}

func (m *softmaxModel) forward(n int, x []float32) []float32 {
	if cap(m.probs) < n*10 {
		m.probs = make([]float32, n*10)
	}
	p := m.probs[:n*10]
	for i := 0; i < n; i++ {
		copy(p[i*10:], m.b)
	}
	runtime.Sgemm(false, false, n, 10, 784, 1, x, 784, m.w, 10, 1, p, 10)
	runtime.SoftmaxRows(p, p, n, 10)
	return p
}

func (m *softmaxModel) PredictFeed(n int, in [][]float32) [][]float32 {
	return [][]float32{m.forward(n, in[0])}
}

func (m *softmaxModel) loss(n int, p, y []float32) float32 {
	var sum float64
	for i, t := range y[:n*10] {
		if t != 0 {
			sum -= float64(t) * math.Log(math.Max(float64(p[i]), 1e-30))
		}
	}
	return float32(sum / float64(n))
}

func (m *softmaxModel) LossFeed(n int, in [][]float32) float32 {
	return m.loss(n, m.forward(n, in[0]), in[1])
}

func (m *softmaxModel) TrainFeed(n int, in [][]float32) float32 {
	m.steps++
	if m.nanAt > 0 && m.steps >= m.nanAt {
		return float32(math.NaN())
	}
	x, y := in[0], in[1]
	p := m.forward(n, x)
	loss := m.loss(n, p, y)
	// d loss / d logits = (p - y) / n.
	for i := range p {
		p[i] = (p[i] - y[i]) / float32(n)
	}
	runtime.Sgemm(true, false, 784, 10, n, 1, x, 784, p, 10, 0, m.dW, 10)
	clear(m.db)
	for i := 0; i < n; i++ {
		for j := 0; j < 10; j++ {
			m.db[j] += p[i*10+j]
		}
	}
	for i, g := range m.dW {
		m.w[i] -= m.lr * g
	}
	for j, g := range m.db {
		m.b[j] -= m.lr * g
	}
	return loss
}
