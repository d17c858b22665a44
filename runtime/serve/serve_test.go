package serve

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flow-lang/flow/runtime"
)

// newTestServer serves m with opt over httptest.
func newTestServer(t *testing.T, m runtime.Model, opt Options) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(m, opt)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(func() {
		hs.Close()
		s.Close()
	})
	return s, hs
}

// do sends a request and returns the status and body.
func do(t *testing.T, method, url, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

func TestName(t *testing.T) {
	for _, tc := range []struct {
		sig  runtime.Signature
		want string
	}{
		{runtime.Signature{Model: "MLP", Source: "examples/mlp.flow"}, "mlp"},
		{runtime.Signature{Model: "MnistSoftmax", Source: "/a/b/mnist_softmax.flow"}, "mnist_softmax"},
		{runtime.Signature{Model: "X", Source: `C:\m\lenet.flow`}, "lenet"},
		{runtime.Signature{Model: "LeNet"}, "lenet"},
	} {
		if got := Name(&tc.sig); got != tc.want {
			t.Errorf("Name(%+v) = %q, want %q", tc.sig, got, tc.want)
		}
	}
}

func TestStatus(t *testing.T) {
	_, hs := newTestServer(t, newFakeModel(), Options{})
	for _, tc := range []struct {
		method, path string
		code         int
		want         string
	}{
		{"GET", "/v1/models/fake", 200, string(statusBody)},
		{"GET", "/v1/models/Fake", 200, string(statusBody)}, // the declared name, any case
		{"GET", "/v1/models/FAKE", 200, string(statusBody)}, //
		{"GET", "/v1/models/fake/versions/1", 200, string(statusBody)},
		{"HEAD", "/v1/models/fake", 200, ""},
		{"GET", "/v1/models/fake/versions/2", 404, `no version \"2\"`},
		{"GET", "/v1/models/mlp", 404, `model \"mlp\" not found; this server serves \"fake\"`},
		{"GET", "/v1/models/", 404, "not found"},
		{"GET", "/", 404, "no such path"},
		{"GET", "/v1/models/fake/other", 404, "no such path"},
		{"GET", "/v1/models/fake:classify", 404, "unsupported method"},
		{"POST", "/v1/models/fake", 405, "method POST not allowed; use GET"},
		{"DELETE", "/v1/models/fake/metadata", 405, "not allowed"},
		{"GET", "/v1/models/fake:predict", 405, "method GET not allowed; use POST"},
	} {
		code, hdr, body := do(t, tc.method, hs.URL+tc.path, "")
		if code != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("%s %s = %d %q, want %d containing %q", tc.method, tc.path, code, body, tc.code, tc.want)
		}
		if code != 200 && !strings.HasPrefix(body, `{"error":`) {
			t.Errorf("%s %s: error body %q is not {\"error\": ...}", tc.method, tc.path, body)
		}
		if code == 405 && hdr.Get("Allow") == "" {
			t.Errorf("%s %s: 405 without Allow", tc.method, tc.path)
		}
		if ct := hdr.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %s: Content-Type %q", tc.method, tc.path, ct)
		}
	}
}

func TestMetadata(t *testing.T) {
	_, hs := newTestServer(t, newFakeModel(), Options{MaxBatch: 8})
	code, _, body := do(t, "GET", hs.URL+"/v1/models/fake/metadata", "")
	if code != 200 {
		t.Fatalf("metadata: %d %s", code, body)
	}
	var md struct {
		ModelSpec struct{ Name, Version string } `json:"model_spec"`
		Metadata  struct {
			SignatureDef struct {
				SignatureDef map[string]struct {
					Inputs, Outputs map[string]struct {
						DType       string `json:"dtype"`
						TensorShape struct {
							Dim []struct{ Size, Name string }
						} `json:"tensor_shape"`
					}
					MethodName string `json:"method_name"`
				} `json:"signature_def"`
			} `json:"signature_def"`
			Flow    runtime.Signature `json:"flow_signature"`
			Serving struct {
				MaxBatch int `json:"max_batch"`
				Classes  int `json:"classes"`
			} `json:"serving"`
		}
	}
	if err := json.Unmarshal([]byte(body), &md); err != nil {
		t.Fatal(err)
	}
	def, ok := md.Metadata.SignatureDef.SignatureDef["serving_default"]
	if !ok || md.ModelSpec.Name != "fake" || md.ModelSpec.Version != "1" || def.MethodName != "tensorflow/serving/predict" {
		t.Fatalf("metadata: %s", body)
	}
	x := def.Inputs["x"]
	if len(def.Inputs) != 1 || x.DType != "DT_FLOAT" || len(x.TensorShape.Dim) != 2 ||
		x.TensorShape.Dim[0].Size != "-1" || x.TensorShape.Dim[0].Name != "N" || x.TensorShape.Dim[1].Size != "4" {
		t.Errorf("inputs: %+v", def.Inputs)
	}
	// The scalar "loss" is not one value per example, so it is not served.
	if y := def.Outputs["y"]; len(def.Outputs) != 1 || y.DType != "DT_FLOAT" || y.TensorShape.Dim[1].Size != "3" {
		t.Errorf("outputs: %+v", def.Outputs)
	}
	if md.Metadata.Flow.Model != "Fake" || md.Metadata.Serving.MaxBatch != 8 || md.Metadata.Serving.Classes != 3 {
		t.Errorf("flow_signature/serving: %s", body)
	}
}

// predictions decodes a row-format answer of the fake model.
func predictions(t *testing.T, body string) [][]float32 {
	t.Helper()
	var r struct{ Predictions [][]float32 }
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return r.Predictions
}

func near(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > 1e-6*(1+math.Abs(float64(b[i]))) {
			return false
		}
	}
	return true
}

func TestPredictRows(t *testing.T) {
	_, hs := newTestServer(t, newFakeModel(), Options{})
	url := hs.URL + "/v1/models/fake:predict"
	for _, body := range []string{
		`{"instances": [[1, 2, 3, 4], [0.5, -1, 0, 1e-3]]}`,
		`{"signature_name": "serving_default", "instances": [{"x": [1, 2, 3, 4]}, {"x": [0.5, -1, 0, 0.001]}]}`,
		`{"instances": [[1, 2, 3, 4], [0.5, -1, 0, 1e-3]], "top_k": 0}`,
	} {
		code, _, resp := do(t, "POST", url, body)
		if code != 200 {
			t.Fatalf("%s: %d %s", body, code, resp)
		}
		got := predictions(t, resp)
		want := [][]float32{{6, 8, 10}, {1.001, -1.999, 0.001}}
		if len(got) != 2 || !near(got[0], want[0]) || !near(got[1], want[1]) {
			t.Errorf("%s: predictions %v, want %v", body, got, want)
		}
	}
}

func TestPredictColumns(t *testing.T) {
	_, hs := newTestServer(t, newFakeModel(), Options{})
	url := hs.URL + "/v1/models/fake:predict"
	for _, body := range []string{
		`{"inputs": [[1, 2, 3, 4], [0, 0, 1, 1]]}`,
		`{"inputs": {"x": [[1, 2, 3, 4], [0, 0, 1, 1]]}}`,
	} {
		code, _, resp := do(t, "POST", url, body)
		if code != 200 {
			t.Fatalf("%s: %d %s", body, code, resp)
		}
		if want := `{"outputs":[[6,8,10],[1,1,3]]}` + "\n"; resp != want {
			t.Errorf("%s: %s, want %s", body, resp, want)
		}
	}
}

func TestPredictMultiInput(t *testing.T) {
	_, hs := newTestServer(t, newMultiModel(0), Options{})
	url := hs.URL + "/v1/models/multi:predict"
	// Nested or flat values; b is a per-example scalar, a bare number.
	code, _, resp := do(t, "POST", url, `{"instances": [{"a": [[1, 2], [3, 4]], "b": 5}, {"b": [-1], "a": [0.5, 0, 0, 0]}]}`)
	if want := `{"predictions":[{"s":15,"p":[[5],[6]]},{"s":-0.5,"p":[[-1],[0]]}]}` + "\n"; code != 200 || resp != want {
		t.Errorf("rows: %d %s, want %s", code, resp, want)
	}
	code, _, resp = do(t, "POST", url, `{"inputs": {"a": [[[1, 2], [3, 4]], [0.5, 0, 0, 0]], "b": [5, -1]}}`)
	if want := `{"outputs":{"s":[15,-0.5],"p":[[[5],[6]],[[-1],[0]]]}}` + "\n"; code != 200 || resp != want {
		t.Errorf("columns: %d %s, want %s", code, resp, want)
	}
}

func TestTopK(t *testing.T) {
	_, hs := newTestServer(t, newFakeModel(), Options{TopK: 2})
	url := hs.URL + "/v1/models/fake:predict"
	for _, tc := range []struct{ body, want string }{
		{`{"instances": [[1, 2, 3, 0], [3, 1, 2, 1]]}`,
			`{"predictions":[{"classes":[2,1],"scores":[6,4]},{"classes":[0,2],"scores":[7,5]}]}`},
		{`{"instances": [[1, 2, 3, 0]], "top_k": 1}`, `{"predictions":[{"classes":[2],"scores":[6]}]}`},
		{`{"instances": [[1, 1, 3, 0]], "top_k": 9}`, `{"predictions":[{"classes":[2,0,1],"scores":[6,2,2]}]}`},
		{`{"instances": [[1, 2, 3, 0]], "top_k": 0}`, `{"predictions":[[2,4,6]]}`},
		{`{"inputs": [[1, 2, 3, 0], [3, 1, 2, 1]]}`, `{"outputs":{"classes":[[2,1],[0,2]],"scores":[[6,4],[7,5]]}}`},
	} {
		code, _, resp := do(t, "POST", url, tc.body)
		if code != 200 || resp != tc.want+"\n" {
			t.Errorf("%s: %d %s, want %s", tc.body, code, resp, tc.want)
		}
	}

	// Not a classifier: top_k is a client error, --top-k a setup error.
	_, hs2 := newTestServer(t, newMultiModel(0), Options{})
	code, _, resp := do(t, "POST", hs2.URL+"/v1/models/multi:predict", `{"instances": [{"a": [1, 2, 3, 4], "b": 1}], "top_k": 2}`)
	if code != 400 || !strings.Contains(resp, "top_k needs a classifier") {
		t.Errorf("top_k on a non-classifier: %d %s", code, resp)
	}
	if _, err := New(newMultiModel(0), Options{TopK: 3}); err == nil || !strings.Contains(err.Error(), "needs a classifier") {
		t.Errorf("New with TopK on a non-classifier: %v", err)
	}
}

func TestPredictErrors(t *testing.T) {
	_, hs := newTestServer(t, newFakeModel(), Options{})
	_, hsMulti := newTestServer(t, newMultiModel(0), Options{})
	url := hs.URL + "/v1/models/fake:predict"
	multi := hsMulti.URL + "/v1/models/multi:predict"
	for _, tc := range []struct{ url, body, want string }{
		{url, ``, "empty request body"},
		{url, `{"instances": [[1, 2, 3, 4]`, "invalid JSON request: unexpected end of input"},
		{url, `[[1, 2, 3, 4]]`, "the request is an array; want a JSON object"},
		{url, ` null `, "the request is null"},
		{url, `{"instances": [[1,2,3,4]]} {}`, "unexpected data after"},
		{url, `{"instances": [[1,2,3,4]], "inputs": [[1,2,3,4]]}`, "not both"},
		{url, `{}`, `neither "instances"`},
		{url, `{"instances": null}`, `neither "instances"`},
		{url, `{"instance": [[1,2,3,4]]}`, `unknown field "instance"`},
		{url, `{"instances": {"x": [1,2,3,4]}}`, `"instances" is an object`},
		{url, `{"instances": []}`, `"instances" is empty`},
		{url, `{"signature_name": "train", "instances": [[1,2,3,4]]}`, `unknown signature_name "train"`},
		{url, `{"instances": [[1,2,3,4]], "top_k": -1}`, "top_k must be a non-negative integer"},
		{url, `{"instances": [[1,2,3,4]], "top_k": 1.5}`, "top_k must be a non-negative integer, got 1.5"},
		{url, `{"instances": [[1,2,3,4]], "top_k": "2"}`, "top_k must be a non-negative integer, got a string"},
		{url, `{"instances": [[1,2,3,4],[1,2,3,4],[1,2,3,4],[1,2,3]]}`, `instance 3: input "x" has 3 values, want 4 (f32[4] per example)`},
		{url, `{"instances": [[1,2,3,4,5]]}`, `instance 0: input "x" has 5 values, want 4`},
		{url, `{"instances": [5]}`, `instance 0: input "x" has 1 values, want 4`},
		{url, `{"instances": [[1,2,3,4], 5]}`, `instance 1: input "x" has 1 values, want 4`},
		{url, `{"instances": [[1,2,3,4], [[1,2],[3,4]]]}`, `instance 1: input "x" has shape [2,2], want [4] or 4 flat values`},
		{url, `{"instances": [[1,2,"3",4]]}`, `instance 0: input "x": element 2 is a string, want a number (f32)`},
		{url, `{"instances": [[1,2,true,4]]}`, `element 2 is a boolean, want a number`},
		{url, `{"instances": [[1,2,null,4]]}`, `element 2 is null`},
		{url, `{"instances": [[1,2,1e39,4]]}`, `element 2 is out of the float32 range`},
		{url, `{"instances": [[1,2,1e999,4]]}`, `element 2 is out of the float32 range`},
		{url, `{"instances": [[1,2,3,04]]}`, `invalid JSON request: unexpected '4' at byte 23, want ',' or ']'`},
		{url, `{"instances": [[1,2,3,-]]}`, `want a digit`},
		{url, `{"instances": [[1,2,3,4.]]}`, `want a digit after '.'`},
		{url, `{"instances": [[1,2,3,4e]]}`, `want a digit in the exponent`},
		{url, `{"instances": [[1,2,3,4],]}`, `unexpected ']'`},
		{url, `{"instances": [[1,2,3,NaN]]}`, `unexpected 'N'`},
		{url, `{"instances" [[1,2,3,4]]}`, `want ':'`},
		{url, `{"instances": [[1,2,3,4]], }`, `want a string key`},
		{url, "{\"instances\": [[1,2,3,4]], \"signature_name\": \"\x01\"}", `control character '\x01' in a string at byte 46`},
		{url, `{"instances": [[1,2,3,4]]`, `unexpected end of input`},
		{url, `{"instances": ["x\u00"]}`, `instance 0: input "x": element 0 is a string, want a number (f32)`},
		{url, `{"signature_name": "x\u00"}`, `invalid JSON request: string at byte 19`},
		{url, `{"signature_name": 3, "instances": [[1,2,3,4]]}`, `"signature_name" is a number, want a string`},
		{url, `{"instances": [[[1,2],[3]]]}`, "ragged array"},
		{url, `{"instances": [[[1,2],3,4]]}`, "not a regular array"},
		{url, `{"instances": [[1,[2,3],4]]}`, "not a regular array"},
		{url, `{"instances": [[[1],[2],[3],[4]]]}`, `input "x" has shape [4,1], want [4] or 4 flat values`},
		{url, `{"instances": [{"y": [1,2,3,4]}]}`, `instance 0: unknown input "y"; the model's inputs are x`},
		{url, `{"instances": [{}]}`, `instance 0: missing input "x"`},
		{url, `{"instances": [{"x": [1,2,3,4], "x": [1,2,3,4]}]}`, `instance 0: input "x" appears twice`},
		{url, `{"instances": [[1,2,3,4]], "instances": [[1,2,3,4]]}`, `invalid request: field "instances" appears twice`},
		{url, `{"instances": [[[[1]]]]}`, `instance 0: input "x": is nested more than 2 deep; want shape [4] or 4 flat values`},
		{url, `{"instances": [[1,2,3,4,5,6,7,8,9]]}`, `instance 0: input "x" has 9 values, want 4`},
		{url, `{"instances": [{"x": [1,2,3,4], "z": 1}]}`, `instance 0: unknown input "z"; the model's inputs are x`},
		{url, `{"inputs": {"x": [1,2,3,4]}}`, `example 0: input "x" has 1 values, want 4`},
		{url, `{"inputs": 3}`, `input "x" is a number; want an array with one entry per example`},
		{url, `{"inputs": []}`, `input "x" has no examples`},
		{multi, `{"instances": [[1,2,3,4]]}`, "instance 0 is an array; the model has 2 inputs (a, b)"},
		{multi, `{"instances": [{"a": [1,2,3,4], "b": 1.5}]}`, `input "b": element 0 (1.5) is not an integer (i32)`},
		{multi, `{"instances": [{"a": [1,2,3,4], "b": 3e9}]}`, `out of the i32 range`},
		{multi, `{"instances": [{"a": [[1,2,3,4]], "b": 1}]}`, `input "a" has shape [1,4], want [2,2] or 4 flat values`},
		{multi, `{"inputs": {"a": [[1,2,3,4]], "b": [1, 2]}}`, `input "b" has more examples than input "a" (1)`},
		{multi, `{"inputs": {"a": [[1,2,3,4], [1,2,3,4]], "b": [1]}}`, `input "b" has 1 examples, but input "a" has 2`},
		{multi, `{"instances": [{"a": [1,2,3,4]}]}`, `instance 0: missing input "b"`},
		{multi, `{"instances": [{"a": [1,2,3,4], "b": 1, "c": 2}]}`, `instance 0: unknown input "c"; the model's inputs are a, b`},
		{multi, `{"inputs": {"a": [[1,2,3,4]]}}`, `"inputs": missing input "b"`},
		{multi, `{"inputs": [[1,2,3,4]]}`, `"inputs" is an array; the model has 2 inputs`},
	} {
		code, _, resp := do(t, "POST", tc.url, tc.body)
		var e struct{ Error string }
		if err := json.Unmarshal([]byte(resp), &e); err != nil || code != 400 || !strings.Contains(e.Error, tc.want) {
			t.Errorf("%s: %d %s, want 400 with %q", tc.body, code, resp, tc.want)
		}
	}
}

func TestBodyTooLarge(t *testing.T) {
	_, hs := newTestServer(t, newFakeModel(), Options{MaxBody: 100})
	url := hs.URL + "/v1/models/fake:predict"
	big := `{"instances": [` + strings.Repeat("[1,2,3,4],", 20) + `[1,2,3,4]]}`
	code, _, resp := do(t, "POST", url, big)
	if code != 413 || !strings.Contains(resp, "exceeds the limit of 100 bytes") {
		t.Errorf("declared length: %d %s", code, resp)
	}
	// Without a Content-Length (chunked), the limit applies while reading.
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte(big))
		pw.Close()
	}()
	r, err := http.Post(url, "application/json", pr)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 413 || !strings.Contains(string(b), "exceeds the limit") {
		t.Errorf("chunked: %d %s", r.StatusCode, b)
	}
	if code, _, resp := do(t, "POST", url, `{"instances": [[1,2,3,4]]}`); code != 200 {
		t.Errorf("small body: %d %s", code, resp)
	}
}

func TestModelFailure(t *testing.T) {
	m := newFakeModel()
	m.panic = true
	_, hs := newTestServer(t, m, Options{})
	code, _, resp := do(t, "POST", hs.URL+"/v1/models/fake:predict", `{"instances": [[1,2,3,4]]}`)
	if code != 500 || !strings.Contains(resp, "model fake failed: fake failure") {
		t.Errorf("%d %s", code, resp)
	}
}

func TestQueueFull(t *testing.T) {
	m := newFakeModel()
	m.block = make(chan struct{})
	m.entered = make(chan struct{}, 1)
	s, hs := newTestServer(t, m, Options{Queue: 2, MaxBatch: 1, MaxDelay: -1})
	url := hs.URL + "/v1/models/fake:predict"
	const clients = 6
	type result struct {
		code  int
		retry string
	}
	results := make(chan result, clients)
	send := func() {
		code, hdr, _ := do(t, "POST", url, `{"instances": [[1,2,3,4]]}`)
		results <- result{code, hdr.Get("Retry-After")}
	}
	go send()
	<-m.entered // the first request is in the model, which blocks
	for range clients - 1 {
		go send()
	}
	// Two more wait in the queue: the other three are turned away at once.
	for range clients - 3 {
		r := <-results
		if r.code != 503 || r.retry == "" {
			t.Errorf("got %d (Retry-After %q), want 503 with Retry-After", r.code, r.retry)
		}
	}
	close(m.block) // unblock every call
	for range 3 {
		if r := <-results; r.code != 200 {
			t.Errorf("queued request: %d", r.code)
		}
	}
	if st := s.Stats(); st.Requests != 3 || st.Batches != 3 {
		t.Errorf("stats %+v, want 3 requests in 3 batches", st)
	}
}

// TestBatching sends concurrent requests of 1 to 3 examples and checks that
// they are merged into fewer model calls, each within the maximum batch,
// and that every client gets its own results.
func TestBatching(t *testing.T) {
	m := newFakeModel()
	m.delay = 5 * time.Millisecond
	const maxBatch = 8
	s, hs := newTestServer(t, m, Options{MaxBatch: maxBatch, MaxDelay: 20 * time.Millisecond})
	url := hs.URL + "/v1/models/fake:predict"
	const clients, rounds = 16, 4
	var wg sync.WaitGroup
	examples := 0
	for c := range clients {
		n := 1 + c%3
		examples += n * rounds
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				xs := make([][]float32, n)
				for k := range xs {
					v := float32(c*100 + r*10 + k)
					xs[k] = []float32{v, v + 0.5, -v, float32(k)}
				}
				body, _ := json.Marshal(map[string]any{"instances": xs})
				code, _, resp := do(t, "POST", url, string(body))
				if code != 200 {
					t.Errorf("client %d: %d %s", c, code, resp)
					return
				}
				got := predictions(t, resp)
				if len(got) != n {
					t.Errorf("client %d: %d predictions, want %d", c, len(got), n)
					return
				}
				for k := range xs {
					if want := fakeWant(xs[k]); !near(got[k], want) {
						t.Errorf("client %d round %d example %d: %v, want %v", c, r, k, got[k], want)
					}
				}
			}
		}()
	}
	wg.Wait()
	calls := m.batches()
	total := 0
	for _, n := range calls {
		if n > maxBatch {
			t.Errorf("a batch of %d exceeds the maximum %d", n, maxBatch)
		}
		total += n
	}
	st := s.Stats()
	t.Logf("%d requests, %d examples in %d model calls: %v", clients*rounds, examples, len(calls), calls)
	if total != examples || st.Examples != int64(examples) || st.Requests != clients*rounds {
		t.Errorf("fed %d examples (stats %+v), want %d", total, st, examples)
	}
	if len(calls) >= clients*rounds {
		t.Errorf("%d model calls for %d requests: no batching", len(calls), clients*rounds)
	}
}

func TestSplitLargeRequest(t *testing.T) {
	m := newFakeModel()
	_, hs := newTestServer(t, m, Options{MaxBatch: 4, MaxDelay: -1})
	xs := make([][]float32, 10)
	for k := range xs {
		xs[k] = []float32{float32(k), 1, 2, 3}
	}
	body, _ := json.Marshal(map[string]any{"instances": xs})
	code, _, resp := do(t, "POST", hs.URL+"/v1/models/fake:predict", string(body))
	if code != 200 {
		t.Fatalf("%d %s", code, resp)
	}
	got := predictions(t, resp)
	for k := range xs {
		if want := fakeWant(xs[k]); !near(got[k], want) {
			t.Errorf("example %d: %v, want %v", k, got[k], want)
		}
	}
	if calls := fmt.Sprint(m.batches()); calls != "[4 4 2]" {
		t.Errorf("batches %s, want [4 4 2]", calls)
	}
}

func TestFixedBatch(t *testing.T) {
	m := newMultiModel(2)
	s, hs := newTestServer(t, m, Options{MaxBatch: 64})
	if s.MaxBatch() != 2 {
		t.Errorf("MaxBatch() = %d, want the fixed 2", s.MaxBatch())
	}
	code, _, resp := do(t, "POST", hs.URL+"/v1/models/multi:predict",
		`{"inputs": {"a": [[1,1,1,1], [2,2,2,2], [3,3,3,3]], "b": [1, 2, 3]}}`)
	if want := `{"outputs":{"s":[5,10,15],"p":[[[1],[2]],[[2],[3]],[[3],[4]]]}}` + "\n"; code != 200 || resp != want {
		t.Errorf("%d %s, want %s", code, resp, want)
	}
	if calls := fmt.Sprint(m.calls); calls != "[2 2]" {
		t.Errorf("calls %s, want [2 2] (the last one padded)", calls)
	}
}

func TestClosed(t *testing.T) {
	s, err := New(newFakeModel(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s.Close() // idempotent
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest("POST", "/v1/models/fake:predict", strings.NewReader(`{"instances": [[1,2,3,4]]}`)))
	if w.Code != 503 || !strings.Contains(w.Body.String(), "shutting down") {
		t.Errorf("after Close: %d %s", w.Code, w.Body)
	}
}

func TestNewErrors(t *testing.T) {
	noOut := newFakeModel()
	noOut.sig.Outputs = noOut.sig.Outputs[1:] // only the scalar loss
	noIn := newFakeModel()
	noIn.sig.PredictInputs = nil
	for _, tc := range []struct {
		m    runtime.Model
		want string
	}{
		{noOut, "no output with one entry per example"},
		{noIn, "no predict inputs"},
	} {
		if _, err := New(tc.m, Options{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New: %v, want %q", err, tc.want)
		}
	}
}
