package serve

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/flow-lang/flow/runtime"
)

// tensor is one predict input or served output seen as a batch of
// examples along its first dimension.
type tensor struct {
	spec  runtime.TensorSpec
	index int   // position in Signature.PredictInputs or Signature.Outputs
	dims  []int // the shape of one example: spec.Shape[1:]
	per   int   // values per example
}

// modelInfo is what requests are checked against and responses built from.
type modelInfo struct {
	inputs  []tensor
	outputs []tensor // the outputs with one entry per example
	fixed   int      // the fixed batch size of every input, 0 when symbolic
	classes int      // number of classes when the model is a classifier, else 0
	sig     *runtime.Signature
}

// batchTensor interprets spec as a batch of examples.
func batchTensor(spec runtime.TensorSpec, index int) (tensor, int, error) {
	if len(spec.Shape) == 0 {
		return tensor{}, 0, fmt.Errorf("%s is %s, a scalar with no batch dimension", spec.Name, spec)
	}
	t := tensor{spec: spec, index: index, dims: spec.Shape[1:], per: 1}
	fixed := 0
	switch d := spec.Shape[0]; {
	case d > 0:
		fixed = d
	case d == 0:
		return tensor{}, 0, fmt.Errorf("%s is %s, with an empty batch dimension", spec.Name, spec)
	}
	for _, d := range t.dims {
		if d < 0 {
			return tensor{}, 0, fmt.Errorf("%s is %s: only the first (batch) dimension may be symbolic", spec.Name, spec)
		}
		t.per *= d
	}
	return t, fixed, nil
}

func newModelInfo(sig *runtime.Signature) (*modelInfo, error) {
	info := &modelInfo{sig: sig}
	if len(sig.PredictInputs) == 0 {
		return nil, fmt.Errorf("serve: model %s has no predict inputs", sig.Model)
	}
	for i, name := range sig.PredictInputs {
		spec, ok := sig.Input(name)
		if !ok {
			return nil, fmt.Errorf("serve: model %s: predict input %q is not among its inputs", sig.Model, name)
		}
		t, fixed, err := batchTensor(spec, i)
		if err != nil {
			return nil, fmt.Errorf("serve: model %s: predict input %v", sig.Model, err)
		}
		if i > 0 && fixed != info.fixed {
			return nil, fmt.Errorf("serve: model %s: predict inputs %s and %s disagree on the batch size", sig.Model, sig.PredictInputs[0], name)
		}
		info.fixed = fixed
		info.inputs = append(info.inputs, t)
	}
	info.outputs = NewOutputs(sig, info.fixed).list
	if len(info.outputs) == 0 {
		return nil, fmt.Errorf("serve: model %s has no output with one entry per example along the batch dimension of its inputs", sig.Model)
	}
	if len(info.outputs) == 1 && len(info.outputs[0].dims) == 1 && info.outputs[0].per > 1 && info.outputs[0].spec.DType != "bool" {
		info.classes = info.outputs[0].per
	}
	return info, nil
}

// describeOutputs lists the served outputs with their types.
func (info *modelInfo) describeOutputs() string {
	parts := make([]string, len(info.outputs))
	for i, t := range info.outputs {
		parts[i] = t.spec.Name + " " + t.spec.String()
	}
	return strings.Join(parts, ", ")
}

// request is a decoded predict request.
type request struct {
	n        int         // examples
	in       [][]float32 // per predict input, n·per values
	columnar bool        // "inputs" rather than "instances"
	topK     int         // the request's top_k, or -1
}

// decodeRequest parses and checks a predict request body.
func decodeRequest(body []byte, info *modelInfo) (*request, error) {
	top, err := parseJSON(body)
	if err != nil {
		return nil, err
	}
	if top.kind != kindObject {
		return nil, fmt.Errorf(`the request is %s; want a JSON object {"instances": [...]} or {"inputs": ...}`, top.describe())
	}
	req := &request{topK: -1}
	var instances, inputs *value
	for i, key := range top.keys {
		v := &top.vals[i]
		switch key {
		case "signature_name":
			if v.kind != kindString {
				return nil, fmt.Errorf(`"signature_name" is %s, want a string`, v.describe())
			}
			if v.str != "" && v.str != "serving_default" {
				return nil, fmt.Errorf("unknown signature_name %q; the only signature is \"serving_default\"", v.str)
			}
		case "instances":
			instances = v
		case "inputs":
			inputs = v
		case "top_k":
			switch {
			case v.kind == kindNull:
				req.topK = -1
			case v.kind != kindNumber || v.num != math.Trunc(v.num) || v.num < 0 || v.num > math.MaxInt32:
				what := v.describe()
				if v.kind == kindNumber {
					what = strconv.FormatFloat(v.num, 'g', -1, 64)
				}
				return nil, fmt.Errorf("top_k must be a non-negative integer, got %s", what)
			default:
				req.topK = int(v.num)
			}
		default:
			return nil, fmt.Errorf(`invalid request: unknown field %q; want "instances" or "inputs", and optionally "signature_name" and "top_k"`, key)
		}
	}
	if instances != nil && instances.kind == kindNull {
		instances = nil
	}
	if inputs != nil && inputs.kind == kindNull {
		inputs = nil
	}
	switch {
	case instances != nil && inputs != nil:
		return nil, errors.New(`give either "instances" (row format) or "inputs" (columnar format), not both`)
	case instances == nil && inputs == nil:
		return nil, errors.New(`the request has neither "instances" (row format) nor "inputs" (columnar format)`)
	case instances != nil:
		err = decodeInstances(req, instances, info, maxValues(body))
	default:
		req.columnar = true
		err = decodeInputs(req, inputs, info, maxValues(body))
	}
	if err != nil {
		return nil, err
	}
	return req, nil
}

// maxValues bounds the number of values a request body can hold: each
// takes at least one byte and a separator. Buffers are preallocated for
// no more than that, so that a small body claiming many examples of a
// large input (e.g. a million zeros for a model whose examples have 784
// values) cannot make the server reserve gigabytes before the first
// example is found to be malformed.
func maxValues(body []byte) int { return len(body)/2 + 1 }

// prealloc returns a buffer for n examples of per values, with its
// capacity capped at limit (see maxValues).
func prealloc(n, per, limit int) []float32 {
	return make([]float32, 0, min(n*per, limit))
}

// element returns element k of an array.
func element(v *value, k int) *value {
	if v.elems != nil {
		return &v.elems[k]
	}
	return &value{kind: kindNumber, num: v.nums[k]}
}

// decodeInstances reads the row format: one instance per example, the
// tensor itself for a single-input model or an object keyed by input name.
func decodeInstances(req *request, v *value, info *modelInfo, limit int) error {
	if v.kind != kindArray {
		return fmt.Errorf(`"instances" is %s; want an array with one instance per example`, v.describe())
	}
	req.n = v.arrayLen()
	if req.n == 0 {
		return errors.New(`"instances" is empty`)
	}
	req.in = make([][]float32, len(info.inputs))
	for i, t := range info.inputs {
		req.in[i] = prealloc(req.n, t.per, limit)
	}
	for k := range req.n {
		item := element(v, k)
		keyed := item.kind == kindObject
		if !keyed && len(info.inputs) > 1 {
			return fmt.Errorf("instance %d is %s; the model has %d inputs (%s), so each instance must be an object mapping their names to values", k, item.describe(), len(info.inputs), strings.Join(info.sig.PredictInputs, ", "))
		}
		for i := range info.inputs {
			t := &info.inputs[i]
			val := item
			if keyed {
				var ok bool
				if val, ok = item.field(t.spec.Name); !ok {
					return fmt.Errorf("instance %d: missing input %q", k, t.spec.Name)
				}
			}
			var err error
			if req.in[i], err = appendExample(req.in[i], val, t); err != nil {
				return fmt.Errorf("instance %d: %v", k, err)
			}
		}
		if keyed {
			if err := unknownKeys(item, info); err != nil {
				return fmt.Errorf("instance %d: %v", k, err)
			}
		}
	}
	return nil
}

// decodeInputs reads the columnar format: for each input a tensor whose
// first dimension is the batch; an object keyed by input name, or the
// tensor itself for a single-input model.
func decodeInputs(req *request, v *value, info *modelInfo, limit int) error {
	values := make([]*value, len(info.inputs))
	switch {
	case v.kind == kindObject:
		for i, t := range info.inputs {
			val, ok := v.field(t.spec.Name)
			if !ok {
				return fmt.Errorf(`"inputs": missing input %q`, t.spec.Name)
			}
			values[i] = val
		}
		if err := unknownKeys(v, info); err != nil {
			return fmt.Errorf(`"inputs": %v`, err)
		}
	case len(info.inputs) > 1:
		return fmt.Errorf(`"inputs" is %s; the model has %d inputs (%s), so it must be an object mapping their names to batches`, v.describe(), len(info.inputs), strings.Join(info.sig.PredictInputs, ", "))
	default:
		values[0] = v
	}
	req.in = make([][]float32, len(info.inputs))
	for i := range info.inputs {
		t := &info.inputs[i]
		batch := values[i]
		if batch.kind != kindArray {
			return fmt.Errorf("input %q is %s; want an array with one entry per example", t.spec.Name, batch.describe())
		}
		n := batch.arrayLen()
		if n == 0 {
			return fmt.Errorf("input %q has no examples", t.spec.Name)
		}
		if i == 0 {
			req.n = n
		} else if n != req.n {
			return fmt.Errorf("input %q has %d examples, but input %q has %d", t.spec.Name, n, info.inputs[0].spec.Name, req.n)
		}
		req.in[i] = prealloc(n, t.per, limit)
		for k := range n {
			var err error
			if req.in[i], err = appendExample(req.in[i], element(batch, k), t); err != nil {
				return fmt.Errorf("example %d: %v", k, err)
			}
		}
	}
	return nil
}

// unknownKeys rejects object keys that name no predict input.
func unknownKeys(obj *value, info *modelInfo) error {
	var unknown []string
	for _, key := range obj.keys {
		if q := strconv.Quote(key); !slices.Contains(info.sig.PredictInputs, key) && !slices.Contains(unknown, q) {
			unknown = append(unknown, q)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	return fmt.Errorf("unknown input %s; the model's inputs are %s", strings.Join(unknown, ", "), strings.Join(info.sig.PredictInputs, ", "))
}

// appendExample appends one example of input t to dst. The value is a
// nested array of t's per-example shape, or a flat array of all its
// values; a per-example scalar may also be a bare number.
func appendExample(dst []float32, v *value, t *tensor) ([]float32, error) {
	start := len(dst)
	f := flattener{dtype: t.spec.DType, leafDepth: -1, dst: dst, limit: start + t.per}
	if err := f.flatten(v, 0); err != nil {
		return dst[:start], fmt.Errorf("input %q: %v", t.spec.Name, err)
	}
	if f.count != t.per {
		return dst[:start], fmt.Errorf("input %q has %d values, want %d (%s per example)", t.spec.Name, f.count, t.per, exampleType(t))
	}
	if len(f.shape) > 1 && !slices.Equal(f.shape, t.dims) {
		return dst[:start], fmt.Errorf("input %q has shape %s, want %s or %d flat values", t.spec.Name, shapeString(f.shape), shapeString(t.dims), t.per)
	}
	return f.dst, nil
}

// flattener collects the numbers of a nested JSON array, checking that it
// is regular (every array at one depth has the same length, every number
// at the same depth) and that each element fits the dtype.
type flattener struct {
	dtype     string
	shape     []int // lengths of the arrays at each depth
	leafDepth int   // depth of the numbers, -1 before the first
	count     int   // numbers seen, including those past limit
	dst       []float32
	limit     int // dst grows no longer than this: the caller rejects more
}

func (f *flattener) flatten(v *value, depth int) error {
	if v.kind == kindArray {
		if f.leafDepth >= 0 && depth >= f.leafDepth {
			return fmt.Errorf("is not a regular array: an array where element %d should be a number", f.count)
		}
		n := v.arrayLen()
		if depth == len(f.shape) {
			f.shape = append(f.shape, n)
		} else if f.shape[depth] != n {
			return fmt.Errorf("is a ragged array: arrays of lengths %d and %d at depth %d", f.shape[depth], n, depth)
		}
		if v.elems != nil {
			for i := range v.elems {
				if err := f.flatten(&v.elems[i], depth+1); err != nil {
					return err
				}
			}
			return nil
		}
		if n == 0 {
			return nil
		}
		if err := f.leaf(depth + 1); err != nil {
			return err
		}
		for _, x := range v.nums { // the common case: an array of numbers
			y, err := f.number(x)
			if err != nil {
				return err
			}
			if len(f.dst) < f.limit {
				f.dst = append(f.dst, y)
			}
			f.count++
		}
		return nil
	}
	if err := f.leaf(depth); err != nil {
		return err
	}
	var x float32
	switch v.kind {
	case kindNumber:
		var err error
		if x, err = f.number(v.num); err != nil {
			return err
		}
	case kindBool:
		if f.dtype != "bool" {
			return fmt.Errorf("element %d is a boolean, want a number (%s)", f.count, f.dtype)
		}
		if v.b {
			x = 1
		}
	default:
		want := "a number"
		if f.dtype == "bool" {
			want = "a boolean or a number"
		}
		return fmt.Errorf("element %d is %s, want %s (%s)", f.count, v.describe(), want, f.dtype)
	}
	if len(f.dst) < f.limit {
		f.dst = append(f.dst, x)
	}
	f.count++
	return nil
}

// leaf checks that numbers may appear at depth: the same depth as every
// number before, below every array.
func (f *flattener) leaf(depth int) error {
	if f.leafDepth < 0 {
		f.leafDepth = depth
	} else if depth != f.leafDepth || depth < len(f.shape) {
		return fmt.Errorf("is not a regular array: element %d is a number where an array should be", f.count)
	}
	return nil
}

// number converts one element to a feed value of the tensor's dtype.
func (f *flattener) number(x float64) (float32, error) {
	if math.Abs(x) > math.MaxFloat32 {
		return 0, fmt.Errorf("element %d is out of the float32 range (±3.4e38)", f.count)
	}
	switch f.dtype {
	case "i32", "i64":
		if x != math.Trunc(x) {
			return 0, fmt.Errorf("element %d (%v) is not an integer (%s)", f.count, x, f.dtype)
		}
		if f.dtype == "i32" && (x < math.MinInt32 || x > math.MaxInt32) {
			return 0, fmt.Errorf("element %d (%v) is out of the i32 range", f.count, x)
		}
	}
	return float32(x), nil
}

// exampleType renders the type of one example, e.g. "f32[28,28]".
func exampleType(t *tensor) string {
	return t.spec.DType + shapeString(t.dims)
}

func shapeString(dims []int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, d := range dims {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprint(&b, d)
	}
	b.WriteByte(']')
	return b.String()
}
