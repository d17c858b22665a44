package serve

import (
	"math"
	"slices"
	"sort"
	"strconv"

	"github.com/flow-lang/flow/runtime"
)

// encodeResponse renders the results of n examples: out holds, per served
// output, n·per values. The row format answers {"predictions": [...]} with
// one entry per example (the output itself when there is one, else an
// object keyed by output name); the columnar format answers {"outputs":
// ...} with the whole batch (an object keyed by output name when there are
// several). With topK > 0, a classifier's entries are {"classes": [...],
// "scores": [...]} with the topK best classes, best first.
func encodeResponse(info *modelInfo, columnar bool, topK, n int, out [][]float32) []byte {
	return encodeResponseAt(info, nil, columnar, topK, n, out)
}

// encodeResponseAt is encodeResponse for examples whose symbolic
// dimensions after the batch have the sizes dims (a request's sequence
// length T, say; nil for a model without any): an output with such a
// dimension (per-step outputs f32[N,T,H], say) has n·size values, nested
// in the shape its example has at those sizes.
func encodeResponseAt(info *modelInfo, dims []int, columnar bool, topK, n int, out [][]float32) []byte {
	b := make([]byte, 0, info.answerBytes(n, dims)) // the memory accounting's bound: no growing
	if topK > 0 {
		topK = min(topK, info.classes)
		t := &info.outputs[0]
		// The best classes of every example in one slice, counted by the
		// memory accounting (exampleCost).
		idx := make([]int, t.per)
		best := make([]int, n*topK)
		classes := func(k int) []int { return best[k*topK : (k+1)*topK] }
		for k := range n {
			topIndices(out[0][k*t.per:(k+1)*t.per], idx, classes(k))
		}
		score := func(b []byte, k int) []byte {
			b = append(b, '[')
			for i, c := range classes(k) {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendValue(b, out[0][k*t.per+c], t.spec.DType)
			}
			return append(b, ']')
		}
		class := func(b []byte, k int) []byte {
			b = append(b, '[')
			for i, c := range classes(k) {
				if i > 0 {
					b = append(b, ',')
				}
				b = strconv.AppendInt(b, int64(c), 10)
			}
			return append(b, ']')
		}
		if columnar {
			b = append(b, `{"outputs":{"classes":[`...)
			for k := range n {
				if k > 0 {
					b = append(b, ',')
				}
				b = class(b, k)
			}
			b = append(b, `],"scores":[`...)
			for k := range n {
				if k > 0 {
					b = append(b, ',')
				}
				b = score(b, k)
			}
			return append(b, "]}}\n"...)
		}
		b = append(b, `{"predictions":[`...)
		for k := range n {
			if k > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"classes":`...)
			b = class(b, k)
			b = append(b, `,"scores":`...)
			b = score(b, k)
			b = append(b, '}')
		}
		return append(b, "]}\n"...)
	}

	if columnar {
		b = append(b, `{"outputs":`...)
		b = appendOutputs(b, info.outputs, true, func(b []byte, i int) []byte {
			t := &info.outputs[i]
			return appendNested(b, out[i][:n*t.size(dims)], append([]int{n}, t.shape(dims)...), t.spec.DType)
		}, nil)
		return append(b, "}\n"...)
	}
	b = append(b, `{"predictions":[`...)
	for k := range n {
		if k > 0 {
			b = append(b, ',')
		}
		b = appendOutputs(b, info.outputs, true, func(b []byte, i int) []byte {
			t := &info.outputs[i]
			per := t.size(dims)
			return appendNested(b, out[i][k*per:(k+1)*per], t.shape(dims), t.spec.DType)
		}, nil)
	}
	return append(b, "]}\n"...)
}

// Outputs are the outputs a prediction holds: those of a model with one
// entry per example along the batch dimension of its predict inputs.
// Serve's answers and the predict command's results are written by one
// writer of the outputs object, so they agree on keys, nesting and
// number formats.
type Outputs struct {
	list []tensor
}

// NewOutputs returns the outputs of sig with one entry per example along
// a batch dimension that is fixed at fixed examples, or symbolic when
// fixed is 0 (as the model's predict inputs have it).
func NewOutputs(sig *runtime.Signature, fixed int) *Outputs {
	o := &Outputs{}
	for i, spec := range sig.Outputs {
		t, f, err := batchTensor(spec, i)
		if err != nil || f != fixed {
			continue // not one entry per example: cannot be split between requests
		}
		o.list = append(o.list, t)
	}
	return o
}

// Len returns the number of outputs.
func (o *Outputs) Len() int { return len(o.list) }

// Index returns the position of output i in the signature's outputs.
func (o *Outputs) Index(i int) int { return o.list[i].index }

// PerExample returns the number of values of output i per example.
func (o *Outputs) PerExample(i int) int { return o.list[i].per }

// AppendExample appends example k of a batch as a JSON object mapping
// each output's name to its value, nested like the output's per-example
// shape (integers for integer dtypes, true or false for bool, null for
// values JSON cannot represent): out holds, per output in the order of o,
// the batch's values. With label the position of an output, the object
// also maps "label" to the index of that output's largest value — unless
// an output is itself named "label", whose value then stands, so that no
// key appears twice.
func (o *Outputs) AppendExample(b []byte, out [][]float32, k, label int) []byte {
	var scores []float32
	if label >= 0 {
		t := &o.list[label]
		scores = out[label][k*t.per : (k+1)*t.per]
	}
	return appendOutputs(b, o.list, false, func(b []byte, i int) []byte {
		return appendOutputValue(b, &o.list[i], out[i], k)
	}, scores)
}

// labelKey is the key of the index of the best class that AppendExample
// adds for the predict command.
const labelKey = "label"

// appendOutputs is the one writer of the outputs object: it appends the
// outputs as a JSON object mapping each output's name to its value,
// which value(b, i) appends for output i — or, when bare and there is
// only one output, that output's value alone. With scores, the object
// also maps "label" to the index of the largest score, unless an output
// is named "label".
func appendOutputs(b []byte, outs []tensor, bare bool, value func(b []byte, i int) []byte, scores []float32) []byte {
	if bare && len(outs) == 1 {
		return value(b, 0)
	}
	b = append(b, '{')
	for i := range outs {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, outs[i].spec.Name)
		b = append(b, ':')
		b = value(b, i)
	}
	if scores != nil && !slices.ContainsFunc(outs, func(t tensor) bool { return t.spec.Name == labelKey }) {
		if len(outs) > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, labelKey)
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(runtime.Argmax(scores)), 10)
	}
	return append(b, '}')
}

// appendOutputValue appends example k of output t, whose batch's values are
// vals.
func appendOutputValue(b []byte, t *tensor, vals []float32, k int) []byte {
	return appendNested(b, vals[k*t.per:(k+1)*t.per], t.dims, t.spec.DType)
}

// appendNested appends vals as nested JSON arrays of shape dims (a bare
// value when dims is empty).
func appendNested(b []byte, vals []float32, dims []int, dtype string) []byte {
	if len(dims) == 0 {
		return appendValue(b, vals[0], dtype)
	}
	b = append(b, '[')
	stride := 1
	for _, d := range dims[1:] {
		stride *= d
	}
	for i := range dims[0] {
		if i > 0 {
			b = append(b, ',')
		}
		if len(dims) == 1 {
			b = appendValue(b, vals[i], dtype)
		} else {
			b = appendNested(b, vals[i*stride:(i+1)*stride], dims[1:], dtype)
		}
	}
	return append(b, ']')
}

// appendValue appends one value as its dtype's JSON: an integer for
// integer dtypes, true or false for bool, else a number; null for values
// JSON cannot represent (NaN, ±Inf).
func appendValue(b []byte, v float32, dtype string) []byte {
	f := float64(v)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	switch dtype {
	case "bool":
		return strconv.AppendBool(b, v != 0)
	case "i32", "i64":
		return strconv.AppendInt(b, int64(v), 10)
	case "f64":
		return strconv.AppendFloat(b, f, 'g', -1, 64)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 32)
}

// topIndices writes to dst the indices of the len(dst) largest scores,
// largest first (ties by index; NaN ranks last). idx is scratch of
// len(scores).
func topIndices(scores []float32, idx, dst []int) {
	for i := range idx {
		idx[i] = i
	}
	less := func(a, b int) bool {
		x, y := scores[a], scores[b]
		switch {
		case x != x && y != y:
			return a < b
		case x != x:
			return false
		case y != y:
			return true
		case x != y:
			return x > y
		}
		return a < b
	}
	sort.Slice(idx, func(i, j int) bool { return less(idx[i], idx[j]) })
	copy(dst, idx)
}
