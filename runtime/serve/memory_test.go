package serve

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/flow-lang/flow/runtime"
)

// TestMemoryBudget checks the weighted semaphore requests reserve memory
// from: first come first served (a small request does not overtake a
// large one that waits), a waiter that gives up takes nothing, and every
// byte comes back.
func TestMemoryBudget(t *testing.T) {
	m := &memory{free: 10}
	ctx := context.Background()
	if err := m.acquire(ctx, 6); err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() { got <- m.acquire(ctx, 6) }()
	waitFor(t, "the second request to wait", func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return len(m.waiters) == 1
	})
	// 4 bytes are free, but a request of 1 must not pass the one waiting.
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if err := m.acquire(short, 1); err == nil {
		t.Fatal("a small request overtook a waiting one")
	}
	if m.available() != 4 {
		t.Fatalf("a request that gave up kept bytes: %d free, want 4", m.available())
	}
	m.release(6)
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	if m.available() != 4 {
		t.Fatalf("%d free, want 4", m.available())
	}
	m.release(6)
	if m.available() != 10 {
		t.Fatalf("%d free after releasing everything, want 10", m.available())
	}
}

// waitFor polls cond until it holds, failing after a long while (only a
// broken server takes that long).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(safety); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: gave up", what)
		}
	}
}

// fakeBatch returns a body of n examples for the fake model, in either
// format.
func fakeBatch(n int, columnar bool) string {
	rows := strings.TrimSuffix(strings.Repeat("[1,2,3,4],", n), ",")
	if columnar {
		return `{"inputs": [` + rows + `]}`
	}
	return `{"instances": [` + rows + `]}`
}

// TestRequestTooLargeForMemory checks that a request holding more
// examples than one request may within the memory limit is refused with
// 413, and one at the limit is answered.
func TestRequestTooLargeForMemory(t *testing.T) {
	info, err := newModelInfo(&newFakeModel().sig)
	if err != nil {
		t.Fatal(err)
	}
	limit := scanBufSize + 3*info.exampleCost()
	s, hs := newTestServer(t, newFakeModel(), Options{MaxMemory: limit})
	if s.maxExamples != 3 {
		t.Fatalf("maxExamples = %d, want 3", s.maxExamples)
	}
	url := hs.URL + "/v1/models/fake:predict"
	for _, columnar := range []bool{false, true} {
		if code, _, resp := do(t, "POST", url, fakeBatch(3, columnar)); code != 200 {
			t.Errorf("3 examples: %d %s", code, resp)
		}
		code, _, resp := do(t, "POST", url, fakeBatch(4, columnar))
		want := fmt.Sprintf("request too large: it holds more than 3 examples, the most one request may hold within the server's memory limit of %d bytes", limit)
		if code != 413 || !strings.Contains(resp, want) {
			t.Errorf("4 examples: %d %s, want 413 with %q", code, resp, want)
		}
	}
	if _, err := New(newFakeModel(), Options{MaxMemory: scanBufSize + info.exampleCost() - 1}); err == nil || !strings.Contains(err.Error(), "holds no example") {
		t.Errorf("New with room for no example: %v", err)
	}
}

// TestRequestsWaitForMemory checks that a request whose body could need
// more memory than is free waits for it, before its body is read, and is
// answered once the requests holding it are; and that every request
// gives back all it reserved.
func TestRequestsWaitForMemory(t *testing.T) {
	m := newFakeModel()
	m.block = make(chan struct{})
	m.entered = make(chan struct{}, 1)
	const limit = 64 << 10
	s, hs := newTestServer(t, m, Options{MaxMemory: limit, MaxDelay: -1})
	url := hs.URL + "/v1/models/fake:predict"
	codes := make(chan int, 2)
	post := func(body io.Reader) {
		resp, err := http.Post(url, "application/json", body)
		if err != nil {
			codes <- -1
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		codes <- resp.StatusCode
	}
	go post(strings.NewReader(fakeBatch(1, false)))
	<-m.entered // the first request is in the model and holds its example's memory
	held := limit - s.mem.available()
	if held <= 0 || held > 1024 {
		t.Fatalf("the first request holds %d bytes, want its example's few hundred", held)
	}
	// Without a length, the second body could be up to MaxBody: it
	// reserves all the limit allows, more than is free.
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte(fakeBatch(1, false)))
		pw.Close()
	}()
	go post(pr)
	waitFor(t, "the second request to wait for memory", func() bool {
		s.mem.mu.Lock()
		defer s.mem.mu.Unlock()
		return len(s.mem.waiters) == 1
	})
	select {
	case code := <-codes:
		t.Fatalf("a request was answered (%d) while the model was blocked", code)
	default:
	}
	close(m.block)
	for range 2 {
		if code := <-codes; code != 200 {
			t.Errorf("status %d, want 200", code)
		}
	}
	waitFor(t, "every reserved byte to come back", func() bool { return s.mem.available() == limit })
}

// TestCancelledRequestsKeepTheirMemory checks that a request whose
// client goes away while its job waits in the queue gives its memory back
// only once the batcher drops the job (which still holds the decoded
// inputs and the outputs), not when the client leaves.
func TestCancelledRequestsKeepTheirMemory(t *testing.T) {
	m := newFakeModel()
	m.block = make(chan struct{})
	m.entered = make(chan struct{}, 1)
	const limit = 1 << 20
	s, err := New(m, Options{MaxMemory: limit, MaxDelay: -1, MaxBatch: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Count the handlers that saw their client leave, and that returned.
	var left, returned atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stop := context.AfterFunc(r.Context(), func() { left.Add(1) })
		defer stop()
		s.ServeHTTP(w, r)
		returned.Add(1)
	}))
	t.Cleanup(func() {
		hs.Close()
		s.Close()
	})
	url := hs.URL + "/v1/models/fake:predict"
	post := func(ctx context.Context) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(fakeBatch(1, false)))
		req.Header.Set("Content-Type", "application/json")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	go post(context.Background())
	<-m.entered // the first request is in the model, which blocks
	held := limit - s.mem.available()
	ctx, cancel := context.WithCancel(context.Background())
	const queued = 5
	for range queued {
		go post(ctx)
	}
	waitFor(t, "the requests to queue", func() bool { return len(s.queue) == queued })
	cancel()
	waitFor(t, "the server to see the clients leave", func() bool { return left.Load() == queued })
	// Give the handlers time to return if they would (they must not: their
	// jobs are still queued, holding what they decoded).
	for deadline := time.Now().Add(time.Second); returned.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if got, want := limit-s.mem.available(), held*(queued+1); got != want || returned.Load() != 0 {
		t.Errorf("%d handlers returned with their jobs queued; %d bytes reserved, want %d", returned.Load(), got, want)
	}
	close(m.block)
	waitFor(t, "every reserved byte to come back", func() bool { return s.mem.available() == limit })
	waitFor(t, "every handler to return", func() bool { return returned.Load() == queued+1 })
}

// heapBytes returns the bytes of heap objects, live or not yet swept.
func heapBytes() uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}

// patternReader produces prefix, then unit n times (joined by commas),
// then suffix, without holding the body.
type patternReader struct {
	cur    []byte // what to produce next
	unit   []byte // ",unit"
	n      int    // units still to produce after cur
	suffix []byte // nil once produced
}

func newPatternReader(prefix, unit string, n int, suffix string) (*patternReader, int64) {
	size := int64(len(prefix)+len(suffix)) + int64(n)*int64(len(unit)+1) - 1
	return &patternReader{cur: []byte(prefix + unit), unit: []byte("," + unit), n: n - 1, suffix: []byte(suffix)}, size
}

func (r *patternReader) Read(p []byte) (int, error) {
	total := 0
	for len(p) > 0 {
		if len(r.cur) == 0 {
			switch {
			case r.n > 0:
				r.cur, r.n = r.unit, r.n-1
			case r.suffix != nil:
				r.cur, r.suffix = r.suffix, nil
			case total == 0:
				return 0, io.EOF
			default:
				return total, nil
			}
		}
		k := copy(p, r.cur)
		r.cur, p, total = r.cur[k:], p[k:], total+k
	}
	return total, nil
}

// TestPatternReader checks the bodies the hostile clients send.
func TestPatternReader(t *testing.T) {
	r, size := newPatternReader("{[", "ab", 3, "]}")
	got, err := io.ReadAll(iotest.OneByteReader(r))
	if string(got) != "{[ab,ab,ab]}" || int64(len(got)) != size || err != nil {
		t.Errorf("%q (size %d), %v", got, size, err)
	}
}

// hostileBodies are the bodies TestHostileBodiesBoundedMemory sends to a
// model of f32[N,784] examples, and the status each gets.
var hostileBodies = []struct {
	name string
	body func() (io.Reader, int64)
	code int
}{
	{"999,000 empty arrays in 3 MB", func() (io.Reader, int64) {
		return newPatternReader(`{"instances": [`, "[]", 999_000, "]}")
	}, 400},
	{"4 million one-number examples in 16 MiB", func() (io.Reader, int64) {
		return newPatternReader(`{"instances": [`, "[0]", 4_190_000, "]}")
	}, 400},
	{"2,000 valid examples in 15 MiB", func() (io.Reader, int64) {
		var ex strings.Builder
		ex.WriteByte('[')
		for i := range 784 {
			if i > 0 {
				ex.WriteByte(',')
			}
			ex.WriteString(strconv.FormatFloat(float64(i%255)/255, 'g', 7, 64))
		}
		ex.WriteByte(']')
		return newPatternReader(`{"instances": [`, ex.String(), 2_000, "]}")
	}, 200},
}

// TestHostileBodiesBoundedMemory sends hostile and large bodies from 64
// concurrent clients and checks that the heap stays under a bound set by
// the memory limit: 2 × MaxMemory + 32 MiB (twice, for the garbage the
// collector lets grow up to the size of the live heap; 32 MiB for the
// connections' buffers and the runtime). The clients generate their
// bodies as they send them, so the heap holds the server's memory. The
// decoder that built a tree of each body took the heap of a server to
// hundreds of megabytes per body of empty arrays (the issue measured
// 483 MB of RSS for one, 1.05 GB for eight), and a server of many cores
// to gigabytes for 16 MiB bodies.
func TestHostileBodiesBoundedMemory(t *testing.T) {
	const maxMemory = 32 << 20
	s, err := New(newWideModel(), Options{MaxMemory: maxMemory})
	if err != nil {
		t.Fatal(err)
	}
	addr, _, _ := serveOn(t, s)
	url := "http://" + addr + "/v1/models/wide:predict"

	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			if h := heapBytes(); h > peak.Load() {
				peak.Store(h)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	const clients = 64
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hb := hostileBodies[c%len(hostileBodies)]
			body, size := hb.body()
			req, err := http.NewRequest("POST", url, body)
			if err != nil {
				t.Error(err)
				return
			}
			req.ContentLength = size
			resp, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
			if err != nil {
				t.Errorf("%s: %v", hb.name, err)
				return
			}
			var msg bytes.Buffer
			io.Copy(&msg, io.LimitReader(resp.Body, 200))
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != hb.code {
				t.Errorf("%s: %d %s, want %d", hb.name, resp.StatusCode, msg.String(), hb.code)
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-sampled
	bound := uint64(2*maxMemory + 32<<20)
	t.Logf("peak heap %.1f MiB with a memory limit of %d MiB (bound %d MiB)", float64(peak.Load())/(1<<20), maxMemory>>20, bound>>20)
	if peak.Load() > bound {
		t.Errorf("the heap reached %.1f MiB, more than the bound of %d MiB", float64(peak.Load())/(1<<20), bound>>20)
	}
}

// TestAnswerBytesBound checks that answers stay within the bound the
// memory accounting reserves for them, with the longest values each
// dtype can be written with, in every format.
func TestAnswerBytesBound(t *testing.T) {
	longest := map[string]float32{"f32": -1.17549435e-38, "i32": math.MinInt32, "i64": -3.4e38, "bool": 0}
	for _, sig := range []*runtime.Signature{&newFakeModel().sig, &newMultiModel(0).sig, &newWideModel().sig} {
		info, err := newModelInfo(sig)
		if err != nil {
			t.Fatal(err)
		}
		const n = 5
		out := make([][]float32, len(info.outputs))
		for i, o := range info.outputs {
			out[i] = make([]float32, n*o.per)
			for k := range out[i] {
				out[i][k] = longest[o.spec.DType]
			}
		}
		for _, columnar := range []bool{false, true} {
			for _, topK := range []int{0, info.classes} {
				b := encodeResponse(info, columnar, topK, n, out)
				if bound := info.answerBytes(n, nil); int64(len(b)) > bound || int64(cap(b)) != bound {
					t.Errorf("%s (columnar %v, top-k %d): an answer of %d bytes (capacity %d), bound %d", sig.Model, columnar, topK, len(b), cap(b), bound)
				}
			}
		}
	}
	if n := nestedArrays([]int{3, 0}); n != 4 {
		t.Errorf("nestedArrays([3 0]) = %d, want 4", n)
	}
}
