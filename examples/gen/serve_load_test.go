package gen_test

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/flow-lang/flow/examples/gen/mlp"
	"github.com/flow-lang/flow/runtime/serve"
)

// TestServeLoad serves the generated MLP over loopback HTTP with the
// default batching options (as `mlp serve` does) and logs the throughput
// and latency of one-example predict requests from 1 and from 16
// concurrent clients, 2 s each. It checks the answers against a direct
// call of the generated package; it asserts no timing.
//
//	go test ./examples/gen -run TestServeLoad -v
func TestServeLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	const duration = 2 * time.Second
	s, err := serve.New(mlp.New(), serve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	defer s.Close()
	defer hs.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	url := hs.URL + "/v1/models/mlp:predict"

	x, _ := randomBatch(1)
	body, _ := json.Marshal(map[string]any{"instances": [][]float32{x}})
	want := mlp.New().Predict(1, x)

	post := func() ([]float32, error) {
		resp, err := client.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, err
		}
		var r struct{ Predictions [][]float32 }
		if resp.StatusCode != 200 {
			return nil, &httpError{resp.StatusCode, string(b)}
		}
		if err := json.Unmarshal(b, &r); err != nil || len(r.Predictions) != 1 {
			return nil, &httpError{resp.StatusCode, string(b)}
		}
		return r.Predictions[0], nil
	}
	got, err := post()
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-6 {
			t.Fatalf("served %v, direct Predict %v", got, want)
		}
	}

	for _, clients := range []int{1, 16} {
		before := s.Stats()
		var mu sync.Mutex
		var lat []time.Duration
		var failed error
		start := time.Now()
		var wg sync.WaitGroup
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var mine []time.Duration
				for time.Since(start) < duration {
					t0 := time.Now()
					if _, err := post(); err != nil {
						mu.Lock()
						failed = err
						mu.Unlock()
						return
					}
					mine = append(mine, time.Since(t0))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		if failed != nil {
			t.Fatalf("%d clients: %v", clients, failed)
		}
		slices.Sort(lat)
		after := s.Stats()
		batches := after.Batches - before.Batches
		t.Logf("%2d clients: %6.0f requests/s, p50 %v, p99 %v, %d requests in %d model calls (%.1f examples per call)",
			clients, float64(len(lat))/elapsed.Seconds(), quantile(lat, 0.50), quantile(lat, 0.99),
			len(lat), batches, float64(after.Examples-before.Examples)/float64(max(batches, 1)))
	}
}

// quantile returns the q-quantile of sorted durations (nearest rank).
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(i, 0)].Round(time.Microsecond)
}

type httpError struct {
	code int
	body string
}

func (e *httpError) Error() string { return "HTTP " + http.StatusText(e.code) + ": " + e.body }
