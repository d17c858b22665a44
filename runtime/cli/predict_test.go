package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/runtime"
	"github.com/flow-lang/flow/runtime/serve"
)

// labelModel is the softmax model with a second output named "label": the
// index of the best class, i32[N]. Such a model once made predict write
// the key "label" twice.
type labelModel struct{ *softmaxModel }

func newLabelModel() *labelModel {
	m := &labelModel{softmaxModel: newSoftmaxModel()}
	m.sig.Outputs = []runtime.TensorSpec{
		{Name: "probs", DType: "f32", Shape: []int{-1, 10}, Dims: []string{"N", ""}},
		{Name: "label", DType: "i32", Shape: []int{-1}, Dims: []string{"N"}},
	}
	return m
}

func (m *labelModel) PredictFeed(n int, in [][]float32) [][]float32 {
	p := m.softmaxModel.PredictFeed(n, in)[0]
	labels := make([]float32, n)
	for k := range n {
		labels[k] = float32(runtime.Argmax(p[k*10 : (k+1)*10]))
	}
	return [][]float32{p, labels}
}

// objectKeys returns the keys of the JSON object in data, in order and
// with repetitions, which encoding/json's decoding into a map would hide.
func objectKeys(t *testing.T, data []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	require.NoError(t, err)
	require.Equal(t, json.Delim('{'), tok, "%s", data)
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		require.NoError(t, err)
		keys = append(keys, tok.(string))
		var v json.RawMessage
		require.NoError(t, dec.Decode(&v))
	}
	return keys
}

// predictLines runs predict on examples and returns its objects, one per
// example, as written.
func predictLines(t *testing.T, m runtime.Model, examples [][]float64) [][]byte {
	t.Helper()
	code, stdout, stderr := run(m, "predict", "--input", writeFile(t, string(mustJSON(examples))))
	require.Equal(t, ExitOK, code, stderr)
	var all []json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(stdout), &all), stdout)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	require.Len(t, lines, len(examples)+2, "[, one line per example, ]: %s", stdout)
	objects := make([][]byte, len(examples))
	for i := range objects {
		objects[i] = []byte(strings.TrimSuffix(strings.TrimSpace(lines[i+1]), ","))
		require.JSONEq(t, string(all[i]), string(objects[i]))
	}
	return objects
}

// TestPredictOutputNamedLabel checks that predict writes every key once
// for a model with an output named "label" (whose value then stands
// instead of the index predict adds for other classifiers), and that it
// writes the very object serve answers with.
func TestPredictOutputNamedLabel(t *testing.T) {
	m := newLabelModel()
	m.b[7] = 1
	m.b[2] = 2
	examples := [][]float64{numbers(784, 0), numbers(784, 1)}
	objects := predictLines(t, m, examples)
	for _, obj := range objects {
		require.Equal(t, []string{"probs", "label"}, objectKeys(t, obj), "%s", obj)
		var v struct {
			Probs []float64
			Label int
		}
		require.NoError(t, json.Unmarshal(obj, &v))
		require.Len(t, v.Probs, 10)
		require.Equal(t, 2, v.Label)
	}

	srv, err := serve.New(m, serve.Options{})
	require.NoError(t, err)
	hs := httptest.NewServer(srv)
	defer srv.Close()
	defer hs.Close()
	resp, err := http.Post(hs.URL+"/v1/models/fake_softmax:predict", "application/json",
		bytes.NewReader(mustJSON(map[string]any{"instances": examples})))
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	var answer struct{ Predictions []json.RawMessage }
	require.NoError(t, json.Unmarshal(body, &answer))
	require.Len(t, answer.Predictions, len(objects))
	for i := range objects {
		require.Equal(t, string(answer.Predictions[i]), string(objects[i]), "serve and predict disagree on example %d", i)
	}
}

// TestPredictAddsLabel checks the index predict adds for a model whose
// output of 10 class scores is not named "label".
func TestPredictAddsLabel(t *testing.T) {
	m := newSoftmaxModel()
	m.b[4] = 3
	for _, obj := range predictLines(t, m, [][]float64{numbers(784, 0)}) {
		require.Equal(t, []string{"y", "label"}, objectKeys(t, obj), "%s", obj)
		require.Contains(t, string(obj), `,"label":4}`)
	}
}
