package serve

import (
	"sync"
	"time"

	"github.com/flow-lang/flow/runtime"
)

// fakeModel computes y[k][c] = 2·x[k][c] + x[k][3] for c < 3 from
// x f32[N,4]: a 3-class "classifier" whose results are easy to check by
// hand. It records the batch size of every PredictFeed call.
type fakeModel struct {
	sig     runtime.Signature
	delay   time.Duration // each call sleeps this long
	block   chan struct{} // when non-nil, each call waits for a value
	entered chan struct{} // when non-nil, each call signals it without blocking
	panic   bool          // PredictFeed panics

	mu    sync.Mutex
	calls []int
	out   []float32
}

func newFakeModel() *fakeModel {
	return &fakeModel{sig: runtime.Signature{
		Model:  "Fake",
		Source: "testdata/fake.flow",
		Inputs: []runtime.TensorSpec{
			{Name: "x", DType: "f32", Shape: []int{-1, 4}, Dims: []string{"N", ""}},
			{Name: "label", DType: "f32", Shape: []int{-1, 3}, Dims: []string{"N", ""}},
		},
		Outputs: []runtime.TensorSpec{
			{Name: "y", DType: "f32", Shape: []int{-1, 3}, Dims: []string{"N", ""}},
			{Name: "loss", DType: "f32", Shape: []int{}},
		},
		PredictInputs: []string{"x"},
		TrainInputs:   []string{"x", "label"},
		MaxBatch:      1000,
	}}
}

// want is the fake's output for one example.
func fakeWant(x []float32) []float32 {
	return []float32{2*x[0] + x[3], 2*x[1] + x[3], 2*x[2] + x[3]}
}

func (m *fakeModel) Signature() *runtime.Signature { return &m.sig }

func (m *fakeModel) PredictFeed(n int, in [][]float32) [][]float32 {
	if m.entered != nil {
		select {
		case m.entered <- struct{}{}:
		default:
		}
	}
	if m.block != nil {
		<-m.block
	}
	if m.delay > 0 {
		time.Sleep(m.delay)
	}
	if m.panic {
		panic("fake failure")
	}
	if len(in) != 1 || len(in[0]) != n*4 {
		panic("fake: wrong feed")
	}
	m.mu.Lock()
	m.calls = append(m.calls, n)
	m.mu.Unlock()
	if cap(m.out) < n*3 {
		m.out = make([]float32, n*3)
	}
	out := m.out[:n*3]
	for k := range n {
		copy(out[k*3:], fakeWant(in[0][k*4:(k+1)*4]))
	}
	// Results alias the model's buffer, as generated models' do.
	return [][]float32{out, {0}}
}

func (m *fakeModel) batches() []int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]int(nil), m.calls...)
}

func (m *fakeModel) TrainFeed(n int, in [][]float32) float32 { return 0 }
func (m *fakeModel) LossFeed(n int, in [][]float32) float32  { return 0 }
func (m *fakeModel) Params() []runtime.Param                 { return nil }

// multiModel has two predict inputs of different dtypes and shapes, a
// f32[N,2,2] and b i32[N], and two per-example outputs: s f32[N] =
// sum(a) + b and p i32[N,2,1] = [[b], [b+1]]. With fixed > 0 its batch
// size is fixed instead of symbolic.
type multiModel struct {
	sig   runtime.Signature
	fixed int
	calls []int
	s, p  []float32
}

func newMultiModel(fixed int) *multiModel {
	batch, dims := -1, "N"
	if fixed > 0 {
		batch, dims = fixed, ""
	}
	return &multiModel{fixed: fixed, sig: runtime.Signature{
		Model:  "Multi",
		Source: "multi.flow",
		Inputs: []runtime.TensorSpec{
			{Name: "a", DType: "f32", Shape: []int{batch, 2, 2}, Dims: []string{dims, "", ""}},
			{Name: "b", DType: "i32", Shape: []int{batch}, Dims: []string{dims}},
		},
		Outputs: []runtime.TensorSpec{
			{Name: "s", DType: "f32", Shape: []int{batch}, Dims: []string{dims}},
			{Name: "p", DType: "i32", Shape: []int{batch, 2, 1}, Dims: []string{dims, "", ""}},
		},
		PredictInputs: []string{"a", "b"},
	}}
}

func (m *multiModel) Signature() *runtime.Signature { return &m.sig }

func (m *multiModel) PredictFeed(n int, in [][]float32) [][]float32 {
	if m.fixed > 0 && n != m.fixed || len(in[0]) != n*4 || len(in[1]) != n {
		panic("multi: wrong feed")
	}
	m.calls = append(m.calls, n)
	m.s = make([]float32, n)
	m.p = make([]float32, n*2)
	for k := range n {
		a := in[0][k*4 : (k+1)*4]
		m.s[k] = a[0] + a[1] + a[2] + a[3] + in[1][k]
		m.p[2*k], m.p[2*k+1] = in[1][k], in[1][k]+1
	}
	return [][]float32{m.s, m.p}
}

func (m *multiModel) TrainFeed(n int, in [][]float32) float32 { return 0 }
func (m *multiModel) LossFeed(n int, in [][]float32) float32  { return 0 }
func (m *multiModel) Params() []runtime.Param                 { return nil }

// wideModel has the interface of an MNIST classifier, x f32[N,784] →
// y f32[N,10], and answers y[k][c] = x[k][c].
type wideModel struct{ sig runtime.Signature }

func newWideModel() *wideModel {
	return &wideModel{sig: runtime.Signature{
		Model:         "Wide",
		Source:        "wide.flow",
		Inputs:        []runtime.TensorSpec{{Name: "x", DType: "f32", Shape: []int{-1, 784}, Dims: []string{"N", ""}}},
		Outputs:       []runtime.TensorSpec{{Name: "y", DType: "f32", Shape: []int{-1, 10}, Dims: []string{"N", ""}}},
		PredictInputs: []string{"x"},
	}}
}

func (m *wideModel) Signature() *runtime.Signature { return &m.sig }

func (m *wideModel) PredictFeed(n int, in [][]float32) [][]float32 {
	y := make([]float32, n*10)
	for k := range n {
		copy(y[k*10:(k+1)*10], in[0][k*784:])
	}
	return [][]float32{y}
}

func (m *wideModel) TrainFeed(n int, in [][]float32) float32 { return 0 }
func (m *wideModel) LossFeed(n int, in [][]float32) float32  { return 0 }
func (m *wideModel) Params() []runtime.Param                 { return nil }
