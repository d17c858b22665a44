package serve

import (
	"math"
	"sort"
	"strconv"
)

// encodeResponse renders the results of n examples: out holds, per served
// output, n·per values. The row format answers {"predictions": [...]} with
// one entry per example (the output itself when there is one, else an
// object keyed by output name); the columnar format answers {"outputs":
// ...} with the whole batch (an object keyed by output name when there are
// several). With topK > 0, a classifier's entries are {"classes": [...],
// "scores": [...]} with the topK best classes, best first.
func encodeResponse(info *modelInfo, columnar bool, topK, n int, out [][]float32) []byte {
	b := make([]byte, 0, 64+n*len(out)*16)
	if topK > 0 {
		topK = min(topK, info.classes)
		t := &info.outputs[0]
		idx := make([]int, t.per)
		classes := make([][]int, n)
		for k := range n {
			classes[k] = topIndices(out[0][k*t.per:(k+1)*t.per], topK, idx)
		}
		score := func(b []byte, k int) []byte {
			b = append(b, '[')
			for i, c := range classes[k] {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendValue(b, out[0][k*t.per+c], t.spec.DType)
			}
			return append(b, ']')
		}
		class := func(b []byte, k int) []byte {
			b = append(b, '[')
			for i, c := range classes[k] {
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
		b = appendOutputs(b, info, out, func(b []byte, t *tensor, o []float32) []byte {
			return appendNested(b, o[:n*t.per], append([]int{n}, t.dims...), t.spec.DType)
		})
		return append(b, "}\n"...)
	}
	b = append(b, `{"predictions":[`...)
	for k := range n {
		if k > 0 {
			b = append(b, ',')
		}
		b = appendOutputs(b, info, out, func(b []byte, t *tensor, o []float32) []byte {
			return appendNested(b, o[k*t.per:(k+1)*t.per], t.dims, t.spec.DType)
		})
	}
	return append(b, "]}\n"...)
}

// appendOutputs appends the model's outputs as one JSON value: the one
// output itself, or an object keyed by output name when there are
// several. value appends to b output t's part of its values o.
func appendOutputs(b []byte, info *modelInfo, out [][]float32, value func(b []byte, t *tensor, o []float32) []byte) []byte {
	single := len(info.outputs) == 1
	if !single {
		b = append(b, '{')
	}
	for i := range info.outputs {
		t := &info.outputs[i]
		if !single {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendQuote(b, t.spec.Name)
			b = append(b, ':')
		}
		b = value(b, t, out[i])
	}
	if !single {
		b = append(b, '}')
	}
	return b
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

// topIndices returns the indices of the k largest scores, largest first
// (ties by index; NaN ranks last). idx is scratch of len(scores).
func topIndices(scores []float32, k int, idx []int) []int {
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
	return append([]int(nil), idx[:k]...)
}
