package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/flow-lang/flow/runtime"
)

// decodeBytes decodes a whole body held in memory, with no limit on the
// examples.
func decodeBytes(body []byte, info *modelInfo) (*request, error) {
	return decodeRequest(bytes.NewReader(body), info, math.MaxInt, make([]byte, scanBufSize))
}

// values returns all the values of a column, in order.
func values(c *column) []float32 {
	var v []float32
	for _, ch := range c.chunks {
		v = append(v, ch...)
	}
	return v
}

// fuzzInfos are the models the decoder fuzzers decode for: the fake's
// x f32[N,4], and the multi model's a f32[N,2,2] and b i32[N], with a
// symbolic and with a fixed batch.
func fuzzInfos(tb testing.TB) []*modelInfo {
	var infos []*modelInfo
	for _, sig := range []*runtime.Signature{&newFakeModel().sig, &newMultiModel(0).sig, &newMultiModel(2).sig} {
		info, err := newModelInfo(sig)
		if err != nil {
			tb.Fatal(err)
		}
		infos = append(infos, info)
	}
	return infos
}

var decodeSeeds = []string{
	`{"instances": [[1, 2, 3, 4]]}`,
	`{"instances": [{"x": [[1], [2], [3], [4]]}], "top_k": 2}`,
	`{"inputs": {"x": [[1, 2, 3, 4]]}}`,
	`{"inputs": [[1, 2, 3, 4], [5, 6, 7, 8]], "signature_name": "serving_default"}`,
	`{"instances": [{"a": [[1, 2], [3, 4]], "b": 5}]}`,
	`{"inputs": {"a": [[1, 2, 3, 4]], "b": [true]}}`,
	`{"inputs": {"b": [1, 2], "a": [[[1, 2], [3, 4]], [5, 6, 7, 8]]}, "top_k": null}`,
	`{"instances": [[[1,2],[3]]]}`, `[]`, `null`, `{"instances": [1e999]}`,
	`{"in\u0073tances": [[1e1, -2.5E-1, 0, 4]], "top_k": 1.0}`,
	`{"instances": [[1, 2, 3, 4]], "instances": null}`,
	`{"instances": [[[[1]]]]}`, `{"instances": [[1,2,3,4]], "x": "\u00"}`,
	`{"signature_name": "a\"b", "inputs": null, "instances": [{"b": [-0], "a": [[0, 0], [0, 0]]}]}`,
}

// FuzzDecodeRequest checks the streaming decoder against the decoder it
// replaced (oracle_test.go), which parses a whole body into a tree before
// flattening it: both accept the same bodies with the same values, except
// that the streaming one refuses a key given twice, which the other took
// the last of. Reading the body a byte at a time through a small buffer
// must not change the outcome, and no body may make it panic.
func FuzzDecodeRequest(f *testing.F) {
	for _, seed := range decodeSeeds {
		f.Add([]byte(seed))
	}
	infos := fuzzInfos(f)
	seqInfo, err := newModelInfo(&newSeqModel().sig)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range seqSeeds {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzSequence(t, body, seqInfo)
		for _, info := range infos {
			req, err := decodeBytewise(t, body, info)

			old, oldErr := decodeTree(body, info)
			if err != nil && strings.Contains(err.Error(), "appears twice") {
				continue
			}
			if (err == nil) != (oldErr == nil) {
				t.Fatalf("%q: streaming decoder: %v; tree decoder: %v", body, err, oldErr)
			}
			if err != nil {
				continue
			}
			if req.n != old.n || req.columnar != old.columnar || req.topK != old.topK || len(req.in) != len(old.in) {
				t.Fatalf("%q: n=%d columnar=%v topK=%d; tree decoder: n=%d columnar=%v topK=%d", body, req.n, req.columnar, req.topK, old.n, old.columnar, old.topK)
			}
			for i := range req.in {
				if got := values(&req.in[i]); !slices.Equal(got, old.in[i]) || len(got) != req.n*info.inputs[i].per || req.in[i].n != req.n {
					t.Fatalf("%q: input %d: %v; tree decoder: %v", body, i, got, old.in[i])
				}
			}
			out := make([][]float32, len(info.outputs))
			for i, o := range info.outputs {
				out[i] = make([]float32, req.n*o.per)
			}
			if b := encodeResponse(info, req.columnar, min(req.topK, info.classes), req.n, out); !json.Valid(b) {
				t.Fatalf("invalid response JSON %s", b)
			}
		}
	})
}

// seqSeeds are requests for the sequence model x f32[N,T,2].
var seqSeeds = []string{
	`{"instances": [[[1,2],[3,4]], [5,6,7,8]]}`,
	`{"inputs": [[1,2], [3,4]]}`,
	`{"instances": [[[1,2]], [[1,2],[3,4]]]}`,
	`{"inputs": {"x": [[[1,2],[3,4],[5,6]]]}, "top_k": 0}`,
	`{"instances": [[1,2,3]]}`, `{"instances": [[]]}`, `{"instances": [[[]]]}`,
}

// fuzzSequence decodes body for a model of sequences (info, of
// seqModel): no panic, the same outcome a byte at a time, a budget that
// holds, and answers of valid JSON.
func fuzzSequence(t *testing.T, body []byte, info *modelInfo) {
	req, err := decodeBytewise(t, body, info)
	const budget = 4 << 10
	if tight, err := decodeWithin(bytes.NewReader(body), info, math.MaxInt, budget, make([]byte, scanBufSize)); err == nil {
		if cost := int64(tight.n) * info.exampleCostAt(tight.dims); cost > budget {
			t.Fatalf("%q: decoded within %d bytes examples that take %d", body, budget, cost)
		}
	}
	if err != nil {
		return
	}
	for i := range req.in {
		if got := values(&req.in[i]); len(got) != req.n*info.inputs[i].size(req.dims) || req.in[i].n != req.n {
			t.Fatalf("%q: input %d has %d values for %d examples at %v", body, i, len(got), req.n, req.dims)
		}
	}
	out := make([][]float32, len(info.outputs))
	for i, o := range info.outputs {
		out[i] = make([]float32, req.n*o.size(req.dims))
	}
	for _, columnar := range []bool{false, true} {
		b := encodeResponseAt(info, req.dims, columnar, 0, req.n, out)
		if !json.Valid(b) || int64(len(b)) > info.answerBytes(req.n, req.dims) {
			t.Fatalf("invalid or oversized response JSON %s", b)
		}
	}
}

// decodeBytewise decodes body for info, and checks that the error, if
// any, has a message and that decoding it a byte at a time through a
// buffer of 32 bytes has the same outcome, unless a token does not fit.
func decodeBytewise(t *testing.T, body []byte, info *modelInfo) (*request, error) {
	req, err := decodeBytes(body, info)
	if err != nil && err.Error() == "" {
		t.Fatalf("empty error message for %q", body)
	}
	small, err2 := decodeRequest(iotest.OneByteReader(bytes.NewReader(body)), info, math.MaxInt, make([]byte, 32))
	if err2 == nil || !strings.Contains(err2.Error(), "is longer than 32 bytes") {
		if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
			t.Fatalf("%q: %v, but a byte at a time: %v", body, err, err2)
		}
		if err == nil && !sameRequest(req, small) {
			t.Fatalf("%q: a byte at a time decodes differently", body)
		}
	}
	return req, err
}

// sameRequest reports whether two decoded requests hold the same.
func sameRequest(a, b *request) bool {
	if a.n != b.n || a.columnar != b.columnar || a.topK != b.topK || len(a.in) != len(b.in) || !slices.Equal(a.dims, b.dims) {
		return false
	}
	for i := range a.in {
		if !slices.Equal(values(&a.in[i]), values(&b.in[i])) {
			return false
		}
	}
	return true
}

// TestDecodeSeeds runs the fuzzer's seeds and spot-checks what they
// decode to.
func TestDecodeSeeds(t *testing.T) {
	infos := fuzzInfos(t)
	for _, s := range decodeSeeds {
		for _, info := range infos {
			req, err := decodeBytes([]byte(s), info)
			old, oldErr := decodeTree([]byte(s), info)
			dup := err != nil && strings.Contains(err.Error(), "appears twice")
			if !dup && (err == nil) != (oldErr == nil) {
				t.Errorf("%s for %s: %v; tree decoder: %v", s, info.sig.Model, err, oldErr)
			}
			if err == nil && oldErr == nil && !slices.Equal(values(&req.in[0]), old.in[0]) {
				t.Errorf("%s for %s: %v; tree decoder: %v", s, info.sig.Model, values(&req.in[0]), old.in[0])
			}
		}
	}
	req, err := decodeBytes([]byte(`{"inputs": {"b": [1, 2], "a": [[[1, 2], [3, 4]], [5, 6, 7, 8]]}, "top_k": null}`), infos[1])
	if err != nil {
		t.Fatal(err)
	}
	if a, b := values(&req.in[0]), values(&req.in[1]); req.n != 2 || !req.columnar || req.topK != -1 ||
		!slices.Equal(a, []float32{1, 2, 3, 4, 5, 6, 7, 8}) || !slices.Equal(b, []float32{1, 2}) {
		t.Errorf("n=%d columnar=%v topK=%d a=%v b=%v", req.n, req.columnar, req.topK, a, b)
	}
}

// TestDecodeErrorsAtBoundaries checks that the decoder reports the same
// error, at the same byte, wherever the body's reads end: tokens that
// straddle reads are put together.
func TestDecodeErrorsAtBoundaries(t *testing.T) {
	info := fuzzInfos(t)[0]
	for _, tc := range []struct{ body, want string }{
		{`{"instances": [[1,2,3,04]]}`, `invalid JSON request: unexpected '4' at byte 23, want ',' or ']'`},
		{`{"instances": [[1.5e+3,2,3,4.]]}`, `invalid JSON request: unexpected ']' at byte 29, want a digit after '.'`},
		{`{"signature_name": "serving_defaul", "instances": [[1,2,3,4]]}`, `unknown signature_name "serving_defaul"; the only signature is "serving_default"`},
		{`{"signature_name": "a` + "\x01" + `"}`, `invalid JSON request: control character '\x01' in a string at byte 21`},
		{`{"signature_name": "é` + "\xff" + `"}`, `unknown signature_name "é` + "\uFFFD" + `"; the only signature is "serving_default"`},
		{`{"instances": [[1,2,3,4]], "top_k": 2.5}`, `top_k must be a non-negative integer, got 2.5`},
		{`{"instances": [[1,2,3,tru]]}`, `invalid JSON request: unexpected 't' at byte 22, want a value`},
		{`{"instances": [[1,2,3,4]]`, `invalid JSON request: unexpected end of input, want ',' or '}'`},
		{`{"instances": [[1,2,3,4]]} x`, `invalid JSON request: unexpected data after the JSON value`},
		{`{"signature_name": "abc`, `invalid JSON request: unexpected end of input, want '"' closing the string`},
	} {
		for _, size := range []int{scanBufSize, 32, 24} {
			for _, oneByte := range []bool{false, true} {
				var r io.Reader = strings.NewReader(tc.body)
				if oneByte {
					r = iotest.OneByteReader(r)
				}
				_, err := decodeRequest(r, info, math.MaxInt, make([]byte, size))
				if err == nil || err.Error() != tc.want {
					t.Errorf("%s (buffer %d, a byte at a time: %v): %v, want %s", tc.body, size, oneByte, err, tc.want)
				}
			}
		}
	}
}

// TestDecodeLongTokens checks that a token longer than the buffer is a
// clear error rather than a reason to grow it.
func TestDecodeLongTokens(t *testing.T) {
	info := fuzzInfos(t)[0]
	for _, tc := range []struct{ body, want string }{
		{`{"instances": [[1,2,3,` + strings.Repeat("1", 40) + `]]}`, "a number at byte 22 is longer than 32 bytes"},
		{`{"signature_name": "` + strings.Repeat("s", 40) + `"}`, "a string at byte 19 is longer than 32 bytes"},
	} {
		_, err := decodeRequest(strings.NewReader(tc.body), info, math.MaxInt, make([]byte, 32))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%.40s...: %v, want %q", tc.body, err, tc.want)
		}
	}
}

// TestDecodeReadError checks that a failing body is reported as such,
// not as malformed JSON.
func TestDecodeReadError(t *testing.T) {
	info := fuzzInfos(t)[0]
	r := io.MultiReader(strings.NewReader(`{"instances": [[1,2,`), iotest.ErrReader(io.ErrUnexpectedEOF))
	_, err := decodeRequest(r, info, math.MaxInt, make([]byte, scanBufSize))
	var re *readError
	if !errors.As(err, &re) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("%v (%T), want a *readError of io.ErrUnexpectedEOF", err, err)
	}
}

// TestDecodeMaxExamples checks that the decoder stores no more examples
// than it is allowed, in either format.
func TestDecodeMaxExamples(t *testing.T) {
	info := fuzzInfos(t)[0]
	for _, body := range []string{
		`{"instances": [[1,2,3,4], [1,2,3,4], [1,2,3,4]]}`,
		`{"inputs": [[1,2,3,4], [1,2,3,4], [1,2,3,4]]}`,
	} {
		if _, err := decodeRequest(strings.NewReader(body), info, 3, make([]byte, scanBufSize)); err != nil {
			t.Errorf("%s with room for 3: %v", body, err)
		}
		_, err := decodeRequest(strings.NewReader(body), info, 2, make([]byte, scanBufSize))
		var tm *tooManyError
		if !errors.As(err, &tm) || tm.max != 2 {
			t.Errorf("%s with room for 2: %v, want a *tooManyError", body, err)
		}
	}
}

// TestColumn checks that a column grows in chunks without losing or
// reordering examples, takes at most twice the memory of its values (as
// the memory accounting assumes: exampleCost), and copies any range of
// examples.
func TestColumn(t *testing.T) {
	for _, per := range []int{0, 1, 3, 784, chunkBytes/4 + 1} {
		c := column{per: per}
		n := 300
		if per > chunkBytes/4 {
			n = 20
		}
		for k := range n {
			room := c.room()
			for i := range per {
				room = append(room, float32(k*per+i))
			}
			c.commit()
			stored := 4 * int64((k+1)*per)
			if b := c.bytes(); b > 2*stored {
				t.Fatalf("per %d: %d examples take %d bytes", per, k+1, b)
			}
		}
		want := make([]float32, n*per)
		for i := range want {
			want[i] = float32(i)
		}
		if got := values(&c); !slices.Equal(got, want) || c.n != n {
			t.Fatalf("per %d: the values are not in order", per)
		}
		for _, r := range [][2]int{{0, n}, {0, 1}, {5, 6}, {1, n - 1}, {3, 17}, {17, n}, {n, n}} {
			dst := make([]float32, (r[1]-r[0])*per)
			c.copyTo(dst, r[0], r[1])
			if !slices.Equal(dst, want[r[0]*per:r[1]*per]) {
				t.Fatalf("per %d: copyTo(%d, %d) = %v...", per, r[0], r[1], dst[:min(len(dst), 5)])
			}
		}
	}
}

// benchInfo is the interface of a model whose input x has one example of
// shape dims.
func benchInfo(b *testing.B, dims ...int) *modelInfo {
	b.Helper()
	shape := append([]int{-1}, dims...)
	names := make([]string, len(shape))
	names[0] = "N"
	info, err := newModelInfo(&runtime.Signature{
		Model:         "Bench",
		Inputs:        []runtime.TensorSpec{{Name: "x", DType: "f32", Shape: shape, Dims: names}},
		Outputs:       []runtime.TensorSpec{{Name: "y", DType: "f32", Shape: []int{-1, 10}, Dims: []string{"N", ""}}},
		PredictInputs: []string{"x"},
	})
	if err != nil {
		b.Fatal(err)
	}
	return info
}

// BenchmarkDecode decodes predict requests as a client's JSON encoder
// writes them (pixel values k/255 in [0, 1]) and reports the rate and the
// memory allocated per request.
func BenchmarkDecode(b *testing.B) {
	pixels := func(n int) [][]float32 {
		xs := make([][]float32, n)
		for k := range xs {
			xs[k] = make([]float32, 784)
			for i := range xs[k] {
				xs[k][i] = float32((i+k)%255) / 255
			}
		}
		return xs
	}
	nested := func(xs [][]float32) [][][]float32 {
		out := make([][][]float32, len(xs))
		for k, x := range xs {
			for r := range 28 {
				out[k] = append(out[k], x[r*28:(r+1)*28])
			}
		}
		return out
	}
	for _, bc := range []struct {
		name string
		dims []int
		body any
	}{
		{"instances/1x784", []int{784}, map[string]any{"instances": pixels(1)}},
		{"instances/64x784", []int{784}, map[string]any{"instances": pixels(64)}},
		{"instances/64x28x28", []int{28, 28}, map[string]any{"instances": nested(pixels(64))}},
		{"inputs/64x784", []int{784}, map[string]any{"inputs": map[string]any{"x": pixels(64)}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			info := benchInfo(b, bc.dims...)
			body, err := json.Marshal(bc.body)
			if err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, scanBufSize) // the server's come from a pool
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := decodeRequest(bytes.NewReader(body), info, math.MaxInt, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzScanNumber checks the scanner's numbers against strconv.ParseFloat,
// bit for bit: the same numbers accepted (JSON's grammar), the same
// values (its fast path for short decimals included).
func FuzzScanNumber(f *testing.F) {
	for _, s := range []string{"0", "-0", "1", "12.5", "0.003921569", "1e22", "1e23", "9007199254740993", "123456789012345678901234",
		"4.9e-324", "1.7976931348623157e308", "1e999", "-1E-7", "0.1e+2", "01", "1.", ".5", "-", "1e", "1e+", "+1", "00.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, num string) {
		s := scanner{r: strings.NewReader(num), buf: make([]byte, scanBufSize)}
		s.fill(0)
		if len(num) == 0 || num[0] != '-' && (num[0] < '0' || num[0] > '9') {
			return // the decoder only scans numbers from such a byte
		}
		got, err := s.number()
		consumed := s.pos == len(num)
		valid := json.Valid([]byte(num)) && strings.IndexFunc(num, func(r rune) bool { return !strings.ContainsRune("0123456789-+.eE", r) }) < 0
		if err == nil && consumed != valid {
			t.Fatalf("%q: scanned %d bytes without an error; valid JSON number: %v", num, s.pos, valid)
		}
		if !valid {
			return
		}
		want, werr := strconv.ParseFloat(num, 64)
		if werr != nil && !errors.Is(werr, strconv.ErrRange) {
			t.Fatalf("%q: ParseFloat: %v", num, werr)
		}
		if err != nil || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("%q: scanned %v (%v), ParseFloat %v", num, got, err, want)
		}
	})
}
