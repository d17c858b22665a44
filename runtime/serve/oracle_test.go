package serve

// The decoder serve used before the streaming one (decode.go): it parsed
// the whole body into a tree of values, then flattened the inputs. It is
// kept as an independent oracle: FuzzDecodeRequest checks that the
// streaming decoder accepts exactly the requests this one accepts, with
// the same values.

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A small JSON parser for request bodies. Requests are mostly long arrays
// of numbers; encoding/json would box each number into an interface, which
// dominates the cost of serving a small model. This parser keeps an array
// of numbers as one []float64.

// kind is the type of a JSON value.
type kind uint8

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

// value is a parsed JSON value.
type value struct {
	kind kind
	b    bool    // kindBool
	num  float64 // kindNumber
	str  string  // kindString
	// An array is nums when every element is a number (an empty array too),
	// else elems.
	nums  []float64
	elems []value
	keys  []string // kindObject, in order; a repeated key keeps its last value
	vals  []value
}

// describe names a value's type for messages.
func (v *value) describe() string {
	switch v.kind {
	case kindNull:
		return "null"
	case kindBool:
		return "a boolean"
	case kindNumber:
		return "a number"
	case kindString:
		return "a string"
	case kindArray:
		return "an array"
	}
	return "an object"
}

// field returns the value of key in an object.
func (v *value) field(key string) (*value, bool) {
	for i := len(v.keys) - 1; i >= 0; i-- {
		if v.keys[i] == key {
			return &v.vals[i], true
		}
	}
	return nil, false
}

// arrayLen returns the number of elements of an array.
func (v *value) arrayLen() int {
	if v.elems != nil {
		return len(v.elems)
	}
	return len(v.nums)
}

// maxDepth bounds the nesting of arrays and objects, as encoding/json does.
const maxDepth = 10000

// maxJSONValues bounds the JSON values of one request other than the numbers
// of arrays of numbers (which are stored compactly): each takes about 128
// bytes once parsed, so a body of small values such as "[],[],…" would
// otherwise grow about 170-fold in memory. A million is far more than any
// request of a model's examples needs (64 images of 28×28×1 given as
// nested arrays are about 50,000).
const maxJSONValues = 1 << 20

// parseJSON parses data, which must hold exactly one JSON value.
func parseJSON(data []byte) (value, error) {
	p := parser{data: data}
	p.skipSpace()
	if p.pos == len(p.data) {
		return value{}, errEmpty
	}
	v, err := p.value()
	if err != nil {
		return value{}, err
	}
	p.skipSpace()
	if p.pos != len(p.data) {
		return value{}, errTrailing
	}
	return v, nil
}

type parser struct {
	data   []byte
	pos    int
	depth  int
	values int // values parsed outside arrays of numbers; see maxJSONValues
}

func (p *parser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// syntaxError reports an unexpected byte (or the end) at p.pos.
func (p *parser) syntaxError(want string) error {
	if p.pos >= len(p.data) {
		return fmt.Errorf("invalid JSON request: unexpected end of input, want %s", want)
	}
	r, _ := utf8.DecodeRune(p.data[p.pos:])
	return fmt.Errorf("invalid JSON request: unexpected %q at byte %d, want %s", r, p.pos, want)
}

func (p *parser) value() (value, error) {
	if p.pos >= len(p.data) {
		return value{}, p.syntaxError("a value")
	}
	if p.values++; p.values > maxJSONValues {
		return value{}, fmt.Errorf("invalid JSON request: more than %d values outside arrays of numbers", maxJSONValues)
	}
	switch c := p.data[p.pos]; {
	case c == '[':
		return p.array()
	case c == '{':
		return p.object()
	case c == '"':
		s, err := p.string()
		return value{kind: kindString, str: s}, err
	case c == '-' || '0' <= c && c <= '9':
		x, err := p.number()
		return value{kind: kindNumber, num: x}, err
	case p.literal("true"):
		return value{kind: kindBool, b: true}, nil
	case p.literal("false"):
		return value{kind: kindBool}, nil
	case p.literal("null"):
		return value{kind: kindNull}, nil
	}
	return value{}, p.syntaxError("a value")
}

// literal consumes word if it is next.
func (p *parser) literal(word string) bool {
	if len(p.data)-p.pos >= len(word) && string(p.data[p.pos:p.pos+len(word)]) == word {
		p.pos += len(word)
		return true
	}
	return false
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return fmt.Errorf("invalid JSON request: nested more than %d deep", maxDepth)
	}
	return nil
}

func (p *parser) array() (value, error) {
	if err := p.enter(); err != nil {
		return value{}, err
	}
	defer func() { p.depth-- }()
	p.pos++ // [
	v := value{kind: kindArray, nums: []float64{}}
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return v, nil
	}
	for {
		p.skipSpace()
		if v.elems == nil && p.pos < len(p.data) && (p.data[p.pos] == '-' || '0' <= p.data[p.pos] && p.data[p.pos] <= '9') {
			x, err := p.number()
			if err != nil {
				return value{}, err
			}
			v.nums = append(v.nums, x)
		} else {
			e, err := p.value()
			if err != nil {
				return value{}, err
			}
			if v.elems == nil { // the first element that is not a number
				v.elems = make([]value, len(v.nums), len(v.nums)+1)
				for i, x := range v.nums {
					v.elems[i] = value{kind: kindNumber, num: x}
				}
				v.nums = nil
			}
			v.elems = append(v.elems, e)
		}
		p.skipSpace()
		if p.pos >= len(p.data) {
			return value{}, p.syntaxError("',' or ']'")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return v, nil
		default:
			return value{}, p.syntaxError("',' or ']'")
		}
	}
}

func (p *parser) object() (value, error) {
	if err := p.enter(); err != nil {
		return value{}, err
	}
	defer func() { p.depth-- }()
	p.pos++ // {
	v := value{kind: kindObject}
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return v, nil
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return value{}, p.syntaxError("a string key")
		}
		key, err := p.string()
		if err != nil {
			return value{}, err
		}
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return value{}, p.syntaxError("':'")
		}
		p.pos++
		p.skipSpace()
		val, err := p.value()
		if err != nil {
			return value{}, err
		}
		v.keys = append(v.keys, key)
		v.vals = append(v.vals, val)
		p.skipSpace()
		if p.pos >= len(p.data) {
			return value{}, p.syntaxError("',' or '}'")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return v, nil
		default:
			return value{}, p.syntaxError("',' or '}'")
		}
	}
}

// string parses a string at p.pos (an opening quote).
func (p *parser) string() (string, error) {
	start := p.pos
	p.pos++
	escaped := false
	for p.pos < len(p.data) {
		switch c := p.data[p.pos]; {
		case c == '"':
			p.pos++
			raw := p.data[start:p.pos]
			if !escaped && utf8.Valid(raw) {
				return string(raw[1 : len(raw)-1]), nil
			}
			var s string // escapes and invalid UTF-8: as encoding/json does
			if err := json.Unmarshal(raw, &s); err != nil {
				return "", fmt.Errorf("invalid JSON request: string at byte %d: %v", start, err)
			}
			return s, nil
		case c == '\\':
			escaped = true
			p.pos += 2
		case c < 0x20:
			return "", fmt.Errorf("invalid JSON request: control character %q in a string at byte %d", rune(c), p.pos)
		default:
			p.pos++
		}
	}
	p.pos = len(p.data)
	return "", p.syntaxError("'\"' closing the string")
}

// number parses a number at p.pos. A number beyond the float64 range is
// ±Inf, for the caller to reject.
func (p *parser) number() (float64, error) {
	start := p.pos
	digits := func() int {
		n := 0
		for p.pos < len(p.data) && '0' <= p.data[p.pos] && p.data[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.data[p.pos] == '-' {
		p.pos++
	}
	if p.pos < len(p.data) && p.data[p.pos] == '0' {
		p.pos++
	} else if digits() == 0 {
		return 0, p.syntaxError("a digit")
	}
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return 0, p.syntaxError("a digit after '.'")
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return 0, p.syntaxError("a digit in the exponent")
		}
	}
	x, _ := strconv.ParseFloat(string(p.data[start:p.pos]), 64) // only a range error is possible
	return x, nil
}

// treeRequest is a decoded predict treeRequest.
type treeRequest struct {
	n        int         // examples
	in       [][]float32 // per predict input, n·per values
	columnar bool        // "inputs" rather than "instances"
	topK     int         // the treeRequest's top_k, or -1
}

// decodeTree parses and checks a predict treeRequest body.
func decodeTree(body []byte, info *modelInfo) (*treeRequest, error) {
	top, err := parseJSON(body)
	if err != nil {
		return nil, err
	}
	if top.kind != kindObject {
		return nil, fmt.Errorf(`the treeRequest is %s; want a JSON object {"instances": [...]} or {"inputs": ...}`, top.describe())
	}
	req := &treeRequest{topK: -1}
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
			return nil, fmt.Errorf(`invalid treeRequest: unknown field %q; want "instances" or "inputs", and optionally "signature_name" and "top_k"`, key)
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
		return nil, errors.New(`the treeRequest has neither "instances" (row format) nor "inputs" (columnar format)`)
	case instances != nil:
		err = treeInstances(req, instances, info, maxValues(body))
	default:
		req.columnar = true
		err = treeInputs(req, inputs, info, maxValues(body))
	}
	if err != nil {
		return nil, err
	}
	return req, nil
}

// maxValues bounds the number of values a treeRequest body can hold: each
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

// treeInstances reads the row format: one instance per example, the
// tensor itself for a single-input model or an object keyed by input name.
func treeInstances(req *treeRequest, v *value, info *modelInfo, limit int) error {
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
			if req.in[i], err = treeExample(req.in[i], val, t); err != nil {
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

// treeInputs reads the columnar format: for each input a tensor whose
// first dimension is the batch; an object keyed by input name, or the
// tensor itself for a single-input model.
func treeInputs(req *treeRequest, v *value, info *modelInfo, limit int) error {
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
			if req.in[i], err = treeExample(req.in[i], element(batch, k), t); err != nil {
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

// treeExample appends one example of input t to dst. The value is a
// nested array of t's per-example shape, or a flat array of all its
// values; a per-example scalar may also be a bare number.
func treeExample(dst []float32, v *value, t *tensor) ([]float32, error) {
	start := len(dst)
	f := treeFlattener{dtype: t.spec.DType, leafDepth: -1, dst: dst, limit: start + t.per}
	if err := f.flatten(v, 0); err != nil {
		return dst[:start], fmt.Errorf("input %q: %v", t.spec.Name, err)
	}
	if f.count != t.per {
		return dst[:start], fmt.Errorf("input %q has %d values, want %d (%s per example)", t.spec.Name, f.count, t.per, exampleType(t, t.dims))
	}
	if len(f.shape) > 1 && !slices.Equal(f.shape, t.dims) {
		return dst[:start], fmt.Errorf("input %q has shape %s, want %s or %d flat values", t.spec.Name, shapeString(f.shape), shapeString(t.dims), t.per)
	}
	return f.dst, nil
}

// treeFlattener collects the numbers of a nested JSON array, checking that it
// is regular (every array at one depth has the same length, every number
// at the same depth) and that each element fits the dtype.
type treeFlattener struct {
	dtype     string
	shape     []int // lengths of the arrays at each depth
	leafDepth int   // depth of the numbers, -1 before the first
	count     int   // numbers seen, including those past limit
	dst       []float32
	limit     int // dst grows no longer than this: the caller rejects more
}

func (f *treeFlattener) flatten(v *value, depth int) error {
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
func (f *treeFlattener) leaf(depth int) error {
	if f.leafDepth < 0 {
		f.leafDepth = depth
	} else if depth != f.leafDepth || depth < len(f.shape) {
		return fmt.Errorf("is not a regular array: element %d is a number where an array should be", f.count)
	}
	return nil
}

// number converts one element to a feed value of the tensor's dtype.
func (f *treeFlattener) number(x float64) (float32, error) {
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
