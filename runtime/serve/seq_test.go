package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flow-lang/flow/runtime"
)

// seqModel takes sequences x f32[N,T,2] and answers per step
// h f32[N,T,2] = 2·x and per example s f32[N,2], the sum of x over T. It
// records the (n, T) of every PredictFeed call.
type seqModel struct {
	sig   runtime.Signature
	delay time.Duration // each call sleeps this long

	mu    sync.Mutex
	calls [][2]int
}

func newSeqModel() *seqModel {
	return &seqModel{sig: runtime.Signature{
		Model:  "Seq",
		Source: "seq.flow",
		Inputs: []runtime.TensorSpec{
			{Name: "x", DType: "f32", Shape: []int{-1, -1, 2}, Dims: []string{"N", "T", ""}},
		},
		Outputs: []runtime.TensorSpec{
			{Name: "h", DType: "f32", Shape: []int{-1, -1, 2}, Dims: []string{"N", "T", ""}},
			{Name: "s", DType: "f32", Shape: []int{-1, 2}, Dims: []string{"N", ""}},
		},
		PredictInputs: []string{"x"},
		Syms:          []string{"N", "T"},
	}}
}

func (m *seqModel) Signature() *runtime.Signature { return &m.sig }

func (m *seqModel) PredictFeed(n int, in [][]float32) [][]float32 {
	if n < 1 || len(in) != 1 || len(in[0])%(2*n) != 0 || len(in[0]) == 0 {
		panic("seq: wrong feed")
	}
	steps := len(in[0]) / (2 * n)
	time.Sleep(m.delay)
	m.mu.Lock()
	m.calls = append(m.calls, [2]int{n, steps})
	m.mu.Unlock()
	h := make([]float32, len(in[0]))
	s := make([]float32, 2*n)
	for i, v := range in[0] {
		h[i] = 2 * v
		k := i / (2 * steps)
		s[2*k+i%2] += v
	}
	return [][]float32{h, s}
}

func (m *seqModel) TrainFeed(n int, in [][]float32) float32 { return 0 }
func (m *seqModel) LossFeed(n int, in [][]float32) float32  { return 0 }
func (m *seqModel) Params() []runtime.Param                 { return nil }

// seqBody renders n sequences of steps steps, example k's step i being
// [k+i, -k].
func seqBody(n, steps int) ([][][]float32, string) {
	ex := make([][][]float32, n)
	for k := range ex {
		ex[k] = make([][]float32, steps)
		for i := range ex[k] {
			ex[k][i] = []float32{float32(k + i), float32(-k)}
		}
	}
	b, _ := json.Marshal(map[string]any{"instances": ex})
	return ex, string(b)
}

// TestServeSequences sends requests of different sequence lengths, each
// answered with its per-step output nested at its T, and checks the
// batcher never feeds two lengths at once.
func TestServeSequences(t *testing.T) {
	m := newSeqModel()
	_, hs := newTestServer(t, m, Options{})
	url := hs.URL + "/v1/models/seq:predict"
	for _, steps := range []int{3, 1, 7} {
		ex, body := seqBody(2, steps)
		code, _, resp := do(t, http.MethodPost, url, body)
		if code != http.StatusOK {
			t.Fatalf("T=%d: %d %s", steps, code, resp)
		}
		var got struct {
			Predictions []struct {
				H [][]float32
				S []float32
			}
		}
		if err := json.Unmarshal([]byte(resp), &got); err != nil {
			t.Fatal(err, resp)
		}
		if len(got.Predictions) != 2 {
			t.Fatalf("T=%d: %s", steps, resp)
		}
		for k, p := range got.Predictions {
			if len(p.H) != steps {
				t.Fatalf("T=%d example %d: h has %d steps: %s", steps, k, len(p.H), resp)
			}
			var sum [2]float32
			for i, step := range p.H {
				if len(step) != 2 || step[0] != 2*ex[k][i][0] || step[1] != 2*ex[k][i][1] {
					t.Fatalf("T=%d example %d step %d: %v", steps, k, i, step)
				}
				sum[0] += ex[k][i][0]
				sum[1] += ex[k][i][1]
			}
			if len(p.S) != 2 || p.S[0] != sum[0] || p.S[1] != sum[1] {
				t.Fatalf("T=%d example %d: s = %v, want %v", steps, k, p.S, sum)
			}
		}
	}

	// Columnar, flat steps.
	code, _, resp := do(t, http.MethodPost, url, `{"inputs": [[1, 2, 3, 4], [5, 6, 7, 8]]}`)
	if want := `{"outputs":{"h":[[[2,4],[6,8]],[[10,12],[14,16]]],"s":[[4,6],[12,14]]}}`; code != http.StatusOK || strings.TrimSpace(resp) != want {
		t.Fatalf("columnar: %d %s, want %s", code, resp, want)
	}
	for _, c := range m.calls {
		if c[0] != 2 {
			t.Errorf("fed %v, want each request alone", m.calls)
		}
	}
}

// TestServeSequenceErrors checks the messages for sequences that do not
// fit the request's first example or the model.
func TestServeSequenceErrors(t *testing.T) {
	_, hs := newTestServer(t, newSeqModel(), Options{})
	url := hs.URL + "/v1/models/seq:predict"
	for _, tc := range []struct{ body, want string }{
		{`{"instances": [[[1,2]], [[1,2],[3,4]]]}`, `instance 1: input \"x\" has T = 2, but example 0 has T = 1`},
		{`{"instances": [[1,2,3,4], [1,2]]}`, `instance 1: input \"x\" has T = 1, but example 0 has T = 2`},
		{`{"inputs": [[[1,2],[3,4]], [[1,2]]]}`, `example 1: input \"x\" has T = 1, but example 0 has T = 2`},
		{`{"instances": [[1,2,3]]}`, `input \"x\" has 3 values, not a positive multiple of 2, its values per unit of T`},
		{`{"instances": [[]]}`, `input \"x\" has 0 values`},
		{`{"instances": [[[1,2,3]]]}`, `input \"x\" has shape [1,3], want [T,2] or its values flat`},
		{`{"instances": [[[1,2],[3]]]}`, `ragged`},
	} {
		code, _, resp := do(t, http.MethodPost, url, tc.body)
		if code != http.StatusBadRequest || !strings.Contains(resp, tc.want) {
			t.Errorf("%s: %d %s, want 400 with %q", tc.body, code, resp, tc.want)
		}
	}
}

// TestServeSequenceTooLong checks that a sequence longer than the memory
// limit allows is refused with 413, and that the decoder stops reading
// it — without storing it — as soon as it passes the budget.
func TestServeSequenceTooLong(t *testing.T) {
	m := newSeqModel()
	info, err := newModelInfo(&m.sig)
	if err != nil {
		t.Fatal(err)
	}
	limit := scanBufSize + 100*info.exampleCost()
	_, hs := newTestServer(t, m, Options{MaxMemory: limit})
	url := hs.URL + "/v1/models/seq:predict"
	_, body := seqBody(1, 20)
	if code, _, resp := do(t, http.MethodPost, url, body); code != http.StatusOK {
		t.Fatalf("T=20: %d %s", code, resp)
	}
	_, body = seqBody(1, 5000)
	code, _, resp := do(t, http.MethodPost, url, body)
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(resp, "request too large") || !strings.Contains(resp, "--request-memory") {
		t.Fatalf("T=5000: %d %s", code, resp)
	}
	// Many short sequences that fit one by one but not together.
	_, body = seqBody(200, 3)
	code, _, resp = do(t, http.MethodPost, url, body)
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(resp, "request too large") {
		t.Fatalf("200 examples: %d %s", code, resp)
	}

	// The decoder reads an endless sequence only up to its budget.
	const budget = 64 << 10
	r := &countingReader{r: io.MultiReader(strings.NewReader(`{"instances": [[`), endless("[1,2],"))}
	_, err = decodeWithin(r, info, math.MaxInt, budget, make([]byte, scanBufSize))
	var tl *tooLargeError
	if !errors.As(err, &tl) {
		t.Fatalf("endless sequence: %v", err)
	}
	// budget/8 values of 3 bytes each, and one buffer more.
	if max := int64(budget/8*3 + 2*scanBufSize); r.n > max {
		t.Errorf("read %d bytes of an endless sequence, want at most %d", r.n, max)
	}
}

// TestServeSequenceMetadataAndNew checks that New takes a sequence model
// and refuses an output whose symbolic dimension no input gives.
func TestServeSequenceNew(t *testing.T) {
	m := newSeqModel()
	m.sig.Outputs = append(m.sig.Outputs, runtime.TensorSpec{Name: "u", DType: "f32", Shape: []int{-1, -1}, Dims: []string{"N", "U"}})
	s, err := New(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if len(s.info.outputs) != 2 || s.info.outputs[0].spec.Name != "h" || s.info.outputs[1].spec.Name != "s" {
		t.Errorf("served outputs %s, want h and s", s.info.describeOutputs())
	}
	if s.info.perValue == 0 {
		t.Errorf("no bound per body byte for outputs h f32[N,T,2] and s f32[N,2] of x f32[N,T,2]")
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// endlessReader repeats s forever.
type endlessReader struct {
	s   string
	off int
}

func endless(s string) *endlessReader { return &endlessReader{s: s} }

func (e *endlessReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], e.s[e.off:])
		n += c
		e.off = (e.off + c) % len(e.s)
	}
	return n, nil
}

// TestDecodeSequenceBytewise decodes sequence requests a byte at a time
// through a small buffer, as the fuzzer does.
func TestDecodeSequenceBytewise(t *testing.T) {
	info, err := newModelInfo(&newSeqModel().sig)
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{`{"instances": [[[1,2],[3,4]], [5,6,7,8]]}`, `{"inputs": [[1,2]]}`} {
		a, err := decodeBytes([]byte(body), info)
		if err != nil {
			t.Fatal(err)
		}
		b, err := decodeRequest(bytes.NewReader([]byte(body)), info, math.MaxInt, make([]byte, 32))
		if err != nil {
			t.Fatal(err)
		}
		if !sameRequest(a, b) || fmt.Sprint(a.dims) != fmt.Sprint(b.dims) {
			t.Errorf("%s: decodes differently through a small buffer", body)
		}
	}
}

// TestServeSequencesConcurrent sends requests of three lengths at once:
// the batcher merges only those of one length, and each gets its own
// results.
func TestServeSequencesConcurrent(t *testing.T) {
	m := newSeqModel()
	m.delay = 10 * time.Millisecond // requests queue while the model runs
	_, hs := newTestServer(t, m, Options{MaxDelay: 20 * time.Millisecond, MaxBatch: 8})
	url := hs.URL + "/v1/models/seq:predict"
	var wg sync.WaitGroup
	errs := make(chan error, 30)
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			steps, n := 1+i%3, 1+i%4
			ex, body := seqBody(n, steps)
			code, _, resp := do(t, http.MethodPost, url, body)
			var got struct{ Predictions []struct{ S []float32 } }
			if err := json.Unmarshal([]byte(resp), &got); code != http.StatusOK || err != nil || len(got.Predictions) != n {
				errs <- fmt.Errorf("T=%d n=%d: %d %s", steps, n, code, resp)
				return
			}
			for k, p := range got.Predictions {
				var sum [2]float32
				for _, step := range ex[k] {
					sum[0] += step[0]
					sum[1] += step[1]
				}
				if len(p.S) != 2 || p.S[0] != sum[0] || p.S[1] != sum[1] {
					errs <- fmt.Errorf("T=%d n=%d example %d: s = %v, want %v", steps, n, k, p.S, sum)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	examples := 0
	for _, c := range m.calls {
		if c[0] > 8 {
			t.Errorf("fed %d examples at once, more than --max-batch 8", c[0])
		}
		examples += c[0]
	}
	if len(m.calls) >= 30 {
		t.Errorf("no two requests were merged (%d calls for %d examples)", len(m.calls), examples)
	}
}
