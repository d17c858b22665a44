package gen_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/compiler"
	"github.com/flow-lang/flow/compiler/ir"
	"github.com/flow-lang/flow/examples/gen/seqrnn"
	"github.com/flow-lang/flow/runtime/cli"
	"github.com/flow-lang/flow/runtime/serve"
)

// runSeqCLI runs the model binary's command line on a seq_rnn model.
func runSeqCLI(t *testing.T, m *seqrnn.Model, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Main(args, m, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestSeqRnnCLIPredict feeds `predict --input FILE` JSON sequences of one
// length per file — each example an array of T steps of 5 numbers — at
// two lengths, and compares the answers with the interpreter's; examples
// of different lengths in one file are refused with a message.
func TestSeqRnnCLIPredict(t *testing.T) {
	g, err := compiler.CompileFile("../seq_rnn.flow", compiler.Options{})
	require.NoError(t, err)
	it, err := compiler.NewInterpreter(g)
	require.NoError(t, err)
	m := seqrnn.New()
	for i, p := range g.Params {
		for j, v := range m.Params()[i].Data {
			it.State[p].Data[j] = float64(v)
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	dir := t.TempDir()
	for _, steps := range []int{6, 2} {
		const n = 3
		x := ir.NewTensor(ir.F32, []int{n, steps, 5})
		examples := make([][][]float64, n)
		for k := range examples {
			examples[k] = make([][]float64, steps)
			for s := range examples[k] {
				examples[k][s] = make([]float64, 5)
				for d := range examples[k][s] {
					v := float64(float32(r.Float64() - 0.5))
					examples[k][s][d] = v
					x.Data[(k*steps+s)*5+d] = v
				}
			}
		}
		raw, err := json.Marshal(examples)
		require.NoError(t, err)
		path := filepath.Join(dir, fmt.Sprintf("seq%d.json", steps))
		require.NoError(t, os.WriteFile(path, raw, 0o644))
		code, stdout, stderr := runSeqCLI(t, m, "predict", "--input", path)
		require.Equal(t, cli.ExitOK, code, stderr)
		var got []struct{ Y []float64 }
		require.NoError(t, json.Unmarshal([]byte(stdout), &got), stdout)
		require.Len(t, got, n)
		want, err := it.Predict(map[string]*ir.Tensor{"x": x, "y_": ir.NewTensor(ir.F32, []int{n, 3})})
		require.NoError(t, err)
		for k := range got {
			require.Len(t, got[k].Y, 3)
			for c := range 3 {
				require.InDelta(t, want[0].Data[k*3+c], got[k].Y[c], 1e-5, "T=%d example %d class %d", steps, k, c)
			}
		}
	}

	// Examples of different lengths in one input.
	mixed := filepath.Join(dir, "mixed.json")
	require.NoError(t, os.WriteFile(mixed, []byte(`[[[1,2,3,4,5]], [[1,2,3,4,5],[6,7,8,9,10]]]`), 0o644))
	code, _, stderr := runSeqCLI(t, m, "predict", "--input", mixed)
	require.NotEqual(t, cli.ExitOK, code)
	require.Contains(t, stderr, "example 1 has T = 2, example 0 T = 1")
	// A step of the wrong width.
	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`[[[1,2,3,4,5],[6,7]]]`), 0o644))
	code, _, stderr = runSeqCLI(t, m, "predict", "--input", bad)
	require.NotEqual(t, cli.ExitOK, code)
	require.Contains(t, stderr, "input x has 7 numbers, not a positive multiple of 5, its numbers per unit of T")
}

// TestSeqRnnCLIInfo checks that info lists the symbolic dimensions.
func TestSeqRnnCLIInfo(t *testing.T) {
	code, stdout, stderr := runSeqCLI(t, seqrnn.New(), "info")
	require.Equal(t, cli.ExitOK, code, stderr)
	require.Contains(t, stdout, "dims:       N (the batch), T: symbolic, sized per call")
	require.Contains(t, stdout, "f32[N,T,5]")
}

// TestSeqRnnCLITrainRefusesMNIST checks that train says why a model with a
// sequence input cannot be fed MNIST, before loading any data.
func TestSeqRnnCLITrainRefusesMNIST(t *testing.T) {
	code, _, stderr := runSeqCLI(t, seqrnn.New(), "train", "--steps", "1")
	require.NotEqual(t, cli.ExitOK, code)
	require.Contains(t, stderr, "model SeqRnn does not fit MNIST training: x is f32[N,T,5]: only the first (batch) dimension may be symbolic, and its dimension 1 is the symbolic dimension T")
}

// TestSeqRnnServe serves the model over HTTP: requests of different
// sequence lengths T, each answered as the generated model's Predict
// answers at that T; examples of different lengths in one request are
// refused with a message naming them.
func TestSeqRnnServe(t *testing.T) {
	m := seqrnn.New()
	ref := seqrnn.New()
	for i, p := range m.Params() {
		copy(ref.Params()[i].Data, p.Data)
	}
	s, err := serve.New(m, serve.Options{})
	require.NoError(t, err)
	hs := httptest.NewServer(s)
	defer s.Close()
	defer hs.Close()
	post := func(body string) (int, string) {
		resp, err := http.Post(hs.URL+"/v1/models/seq_rnn:predict", "application/json", strings.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, steps := range []int{6, 2, 11} {
		const n = 3
		x := make([]float32, n*steps*5)
		examples := make([][][]float32, n)
		for k := range examples {
			examples[k] = make([][]float32, steps)
			for s := range examples[k] {
				examples[k][s] = make([]float32, 5)
				for d := range examples[k][s] {
					v := float32(r.Float64() - 0.5)
					examples[k][s][d] = v
					x[(k*steps+s)*5+d] = v
				}
			}
		}
		raw, err := json.Marshal(map[string]any{"instances": examples})
		require.NoError(t, err)
		code, body := post(string(raw))
		require.Equal(t, http.StatusOK, code, body)
		var got struct{ Predictions [][]float32 }
		require.NoError(t, json.Unmarshal([]byte(body), &got), body)
		want := ref.Predict(n, steps, x)
		require.Len(t, got.Predictions, n)
		for k := range got.Predictions {
			require.Len(t, got.Predictions[k], 3)
			for c := range 3 {
				require.InDelta(t, want[k*3+c], got.Predictions[k][c], 1e-6, "T=%d example %d class %d", steps, k, c)
			}
		}
	}
	code, body := post(`{"instances": [[[1,2,3,4,5]], [[1,2,3,4,5],[6,7,8,9,10]]]}`)
	require.Equal(t, http.StatusBadRequest, code, body)
	require.Contains(t, body, `instance 1: input \"x\" has T = 2, but example 0 has T = 1`)
}
