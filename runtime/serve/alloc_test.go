package serve

import (
	"bytes"
	"io"
	"net/http"
	goruntime "runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flow-lang/flow/runtime"
)

// wideInfo is the interface of an MNIST-sized model: x f32[N,784] → y f32[N,10].
func wideInfo(t *testing.T) *modelInfo {
	t.Helper()
	info, err := newModelInfo(&runtime.Signature{
		Model:         "Wide",
		Inputs:        []runtime.TensorSpec{{Name: "x", DType: "f32", Shape: []int{-1, 784}, Dims: []string{"N", ""}}},
		Outputs:       []runtime.TensorSpec{{Name: "y", DType: "f32", Shape: []int{-1, 10}, Dims: []string{"N", ""}}},
		PredictInputs: []string{"x"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// allocated returns the bytes fn allocates.
func allocated(fn func()) uint64 {
	var before, after goruntime.MemStats
	goruntime.GC()
	goruntime.ReadMemStats(&before)
	fn()
	goruntime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestDecodeAllocationIsBoundedByBody checks that a small body claiming
// many examples of a wide input costs memory in proportion to the body,
// not to examples × values per example: 200,000 bare zeros (400 KB) for
// a model with 784 values per example once made the decoder reserve
// 200,000 × 784 × 4 bytes = 627 MB before rejecting the first example,
// and a few concurrent 16 MiB bodies got the server killed for lack of
// memory.
func TestDecodeAllocationIsBoundedByBody(t *testing.T) {
	info := wideInfo(t)
	const n = 200_000
	zeros := strings.TrimSuffix(strings.Repeat("0,", n), ",")
	for _, body := range []string{
		`{"instances": [` + zeros + `]}`,
		`{"inputs": [` + zeros + `]}`,
	} {
		var err error
		got := allocated(func() { _, err = decodeRequest([]byte(body), info) })
		if err == nil || !strings.Contains(err.Error(), "want 784") {
			t.Fatalf("decodeRequest(%.30q...) = %v, want a 784-values error", body, err)
		}
		// The parsed array of n float64s takes 8n bytes (16n while it
		// grows); anything near n×784×4 is the bug.
		if limit := uint64(64 * len(body)); got > limit {
			t.Errorf("decoding a %d-byte body of %d bare numbers allocated %d bytes, more than %d", len(body), n, got, limit)
		}
	}
}

// TestDecodeValidWideRequest checks that the capped preallocation still
// decodes well-formed requests completely.
func TestDecodeValidWideRequest(t *testing.T) {
	info := wideInfo(t)
	var b bytes.Buffer
	b.WriteString(`{"instances": [`)
	for k := range 3 {
		if k > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('[')
		for i := range 784 {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString([]string{"1", "2", "3"}[k])
		}
		b.WriteByte(']')
	}
	b.WriteString(`]}`)
	req, err := decodeRequest(b.Bytes(), info)
	if err != nil {
		t.Fatal(err)
	}
	if req.n != 3 || len(req.in[0]) != 3*784 {
		t.Fatalf("n=%d, %d values; want 3 and %d", req.n, len(req.in[0]), 3*784)
	}
	for k := range 3 {
		for i := range 784 {
			if got := req.in[0][k*784+i]; got != float32(k+1) {
				t.Fatalf("example %d value %d = %v, want %d", k, i, got, k+1)
			}
		}
	}
}

// TestConcurrentDecodesAreBounded checks that no more request bodies are
// parsed at once than the server has parsing slots, however many clients
// send at the same time: parsing expands a body to many times its size,
// and eight concurrent 15 MB bodies of empty arrays once took the
// server's resident memory to 15 GB.
func TestConcurrentDecodesAreBounded(t *testing.T) {
	var active, most atomic.Int64
	entered := make(chan struct{}, 100)
	release := make(chan struct{})
	decode = func(body []byte, info *modelInfo) (*request, error) {
		n := active.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		entered <- struct{}{}
		<-release
		active.Add(-1)
		return decodeRequest(body, info)
	}
	t.Cleanup(func() { decode = decodeRequest })

	s, hs := newTestServer(t, newFakeModel(), Options{MaxDelay: -1})
	slots := cap(s.decoding)
	clients := slots + 3
	codes := make(chan int, clients)
	for range clients {
		go func() {
			resp, err := http.Post(hs.URL+"/v1/models/fake:predict", "application/json", strings.NewReader(`{"instances": [[1, 2, 3, 4]]}`))
			if err != nil {
				codes <- -1
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	for range slots {
		<-entered
	}
	// Every request has reached the handler; give the ones beyond the
	// slots time to (wrongly) start parsing too.
	for s.arriving.Load() < int64(clients) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	for range clients {
		if code := <-codes; code != http.StatusOK {
			t.Errorf("status %d, want 200", code)
		}
	}
	if m := most.Load(); m > int64(slots) {
		t.Errorf("%d bodies were parsed at once, more than the %d slots", m, slots)
	}
}

// TestParseBoundsValueCount checks that a body of many tiny values is
// refused once it holds more than maxJSONValues of them, instead of growing
// about 170-fold in memory, while arrays of numbers of any length (stored
// compactly) are not counted.
func TestParseBoundsValueCount(t *testing.T) {
	var b strings.Builder
	b.WriteString("[")
	for i := 0; i <= maxJSONValues; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("[]")
	}
	b.WriteString("]")
	_, err := parseJSON([]byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "values outside arrays of numbers") {
		t.Fatalf("%d empty arrays: err = %v", maxJSONValues+1, err)
	}
	nums := "[" + strings.Repeat("1,", 2*maxJSONValues) + "1]"
	v, err := parseJSON([]byte(nums))
	if err != nil || len(v.nums) != 2*maxJSONValues+1 {
		t.Fatalf("a long array of numbers: %v", err)
	}
}
