package serve

import (
	"errors"
	"fmt"
	"io"
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
	dims  []int // the shape of one example: spec.Shape[1:], -1 where symbolic
	per   int   // values per example: the product of the fixed dims
	// syms holds, per entry of dims, the index in modelInfo.syms of its
	// symbolic dimension (a sequence length T, say), or -1 for a fixed
	// one; nil when every dimension of an example is fixed.
	syms []int
}

// maxDim bounds the sizes tensor.size computes, so that products of
// symbolic dimensions cannot overflow; what comes near it is far past
// any memory limit: 2^40 where int has 64 bits, 2^30 (and a little)
// where it has 32.
const maxDim = math.MaxInt>>23 | 1<<30

// satMul returns a·b for positive a and b, or maxDim when that is more.
func satMul(a, b int) int {
	if a > maxDim/b {
		return maxDim
	}
	return min(a*b, maxDim)
}

// symSize returns the size of symbolic dimension s in dims, 1 when it is
// not known (yet).
func symSize(dims []int, s int) int {
	if s < len(dims) && dims[s] > 0 {
		return dims[s]
	}
	return 1
}

// size returns the values of one example when the model's symbolic
// dimensions after the batch have the sizes dims (1 for those not
// known; dims is nil for a model without any).
func (t *tensor) size(dims []int) int {
	n := t.per
	for _, s := range t.syms {
		if s >= 0 {
			if n > 0 {
				n = satMul(n, symSize(dims, s))
			}
		}
	}
	return n
}

// shape returns the shape of one example when the symbolic dimensions
// have the sizes dims.
func (t *tensor) shape(dims []int) []int {
	if t.syms == nil {
		return t.dims
	}
	out := slices.Clone(t.dims)
	for j, s := range t.syms {
		if s >= 0 {
			out[j] = symSize(dims, s)
		}
	}
	return out
}

// modelInfo is what requests are checked against and responses built from.
type modelInfo struct {
	inputs  []tensor
	outputs []tensor // the outputs with one entry per example
	fixed   int      // the fixed batch size of every input, 0 when symbolic
	classes int      // number of classes when the model is a classifier, else 0
	sig     *runtime.Signature
	// syms names the symbolic dimensions of the predict inputs after the
	// batch (a sequence length T, say), in the order of
	// Signature.SymbolicDims: each request gives them one size, which its
	// first example decides. Empty for a model of fixed-size examples.
	syms []string
	// perValue bounds the bytes a request holds per value of its inputs
	// (their storage, the outputs and the answer those values make),
	// and perExample what it holds per example besides, for a model with
	// syms; perValue is 0 when an output grows faster with the syms than
	// every input (f32[N,T,T] from f32[N,T,5], say), which no such bound
	// covers.
	perValue, perExample float64
}

// batchTensor interprets spec as a batch of examples of fixed size.
func batchTensor(spec runtime.TensorSpec, index int) (tensor, int, error) {
	fixed, per, err := spec.Batched()
	if err != nil {
		return tensor{}, 0, err
	}
	return tensor{spec: spec, index: index, dims: spec.Shape[1:], per: per}, fixed, nil
}

// seqTensor interprets spec as a batch of examples whose dimensions
// after the batch may be symbolic, adding their names to syms when add
// is set; otherwise it fails for a name not among syms.
func seqTensor(spec runtime.TensorSpec, index int, syms *[]string, add bool) (tensor, int, error) {
	fixed, per, names, err := spec.Sequence()
	if err != nil {
		return tensor{}, 0, err
	}
	t := tensor{spec: spec, index: index, dims: spec.Shape[1:], per: per}
	if len(names) == 0 {
		return t, fixed, nil
	}
	t.syms = make([]int, len(t.dims))
	for j, d := range t.dims {
		t.syms[j] = -1
		if d >= 0 {
			continue
		}
		name := spec.Dims[j+1]
		s := slices.Index(*syms, name)
		if s < 0 {
			if !add {
				return tensor{}, 0, fmt.Errorf("%s is %s, and no predict input gives the size of %s", spec.Name, spec, name)
			}
			s = len(*syms)
			*syms = append(*syms, name)
		}
		t.syms[j] = s
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
		t, fixed, err := seqTensor(spec, i, &info.syms, true)
		if err != nil {
			return nil, fmt.Errorf("serve: model %s: predict input %v", sig.Model, err)
		}
		if i > 0 && fixed != info.fixed {
			return nil, fmt.Errorf("serve: model %s: predict inputs %s and %s disagree on the batch size", sig.Model, sig.PredictInputs[0], name)
		}
		info.fixed = fixed
		info.inputs = append(info.inputs, t)
	}
	if len(info.syms) == 0 {
		info.outputs = NewOutputs(sig, info.fixed).list
	} else {
		// Order the syms as the model does (the batch first).
		order := sig.SymbolicDims()
		pos := func(name string) int {
			if i := slices.Index(order, name); i >= 0 {
				return i
			}
			return len(order)
		}
		old := slices.Clone(info.syms)
		slices.SortStableFunc(info.syms, func(a, b string) int { return pos(a) - pos(b) })
		for i := range info.inputs {
			for j, s := range info.inputs[i].syms {
				if s >= 0 {
					info.inputs[i].syms[j] = slices.Index(info.syms, old[s])
				}
			}
		}
		for i, spec := range sig.Outputs {
			t, f, err := seqTensor(spec, i, &info.syms, false)
			if err != nil || f != info.fixed {
				continue // not one entry per example: cannot be split between requests
			}
			info.outputs = append(info.outputs, t)
		}
	}
	if len(info.outputs) == 0 {
		return nil, fmt.Errorf("serve: model %s has no output with one entry per example along the batch dimension of its inputs", sig.Model)
	}
	if len(info.outputs) == 1 && len(info.outputs[0].dims) == 1 && info.outputs[0].syms == nil && info.outputs[0].per > 1 && info.outputs[0].spec.DType != "bool" {
		info.classes = info.outputs[0].per
	}
	if len(info.syms) > 0 {
		info.bodyBounds()
	}
	return info, nil
}

// symShape renders the shape of one example of t with the names of its
// symbolic dimensions, e.g. "[T,5]".
func (d *decoder) symShape(t *tensor) string {
	parts := make([]string, len(t.dims))
	for j, dim := range t.dims {
		parts[j] = strconv.Itoa(dim)
		if t.syms != nil && t.syms[j] >= 0 {
			parts[j] = d.info.symName(t.syms[j])
		}
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// symName returns the name of symbolic dimension s.
func (info *modelInfo) symName(s int) string { return info.syms[s] }

// describeDims renders the sizes of the symbolic dimensions, e.g. "T = 7".
func (info *modelInfo) describeDims(dims []int) string {
	parts := make([]string, 0, len(dims))
	for s, v := range dims {
		if v > 0 {
			parts = append(parts, fmt.Sprintf("%s = %d", info.syms[s], v))
		}
	}
	return strings.Join(parts, ", ")
}

// describeOutputs lists the served outputs with their types.
func (info *modelInfo) describeOutputs() string {
	parts := make([]string, len(info.outputs))
	for i, t := range info.outputs {
		parts[i] = t.spec.Name + " " + t.spec.String()
	}
	return strings.Join(parts, ", ")
}

// inputIndex returns the position of the predict input named name, or -1.
func (info *modelInfo) inputIndex(name string) int {
	for i := range info.inputs {
		if info.inputs[i].spec.Name == name {
			return i
		}
	}
	return -1
}

// request is a decoded predict request.
type request struct {
	n        int      // examples
	in       []column // per predict input
	columnar bool     // "inputs" rather than "instances"
	topK     int      // the request's top_k, or -1
	// dims holds the sizes of the model's symbolic dimensions after the
	// batch (modelInfo.syms), which all the request's examples share;
	// nil for a model without any.
	dims []int
}

// bytes returns the memory the request's inputs take.
func (r *request) bytes() int64 {
	var n int64
	for i := range r.in {
		n += r.in[i].bytes()
	}
	return n
}

// sameDims reports whether two requests' examples have the same sizes,
// and so may be fed to the model together.
func sameDims(a, b []int) bool { return slices.Equal(a, b) }

// chunkBytes is the largest chunk a column allocates at once.
const chunkBytes = 256 << 10

// column holds one input's values for a request's examples. They are
// stored in chunks of whole examples, one example in the first, each
// next one twice as large up to chunkBytes, so that a column grows
// without copying and takes at most twice its values' 4 bytes each (a
// new chunk is no larger than the ones before it together, plus one).
type column struct {
	per    int // values per example; -1 until the request's first example decides it
	chunks [][]float32
	n      int   // examples stored
	alloc  int64 // bytes of the chunks' capacity
}

// room returns the free space after the stored examples, with capacity
// for one more, allocating a chunk when the last one is full.
func (c *column) room() []float32 {
	if k := len(c.chunks); k > 0 {
		last := c.chunks[k-1]
		if cap(last)-len(last) >= c.per {
			return last[len(last) : len(last) : len(last)+c.per]
		}
	}
	examples := 1
	if k := len(c.chunks); k > 0 {
		examples = max(1, min(2*cap(c.chunks[k-1])/max(c.per, 1), chunkBytes/4/max(c.per, 1)))
	}
	c.chunks = append(c.chunks, make([]float32, 0, examples*c.per))
	c.alloc += 4 * int64(examples*c.per)
	return c.chunks[len(c.chunks)-1][:0:c.per]
}

// commit stores the example just written into room.
func (c *column) commit() {
	if c.per > 0 {
		k := len(c.chunks) - 1
		c.chunks[k] = c.chunks[k][:len(c.chunks[k])+c.per]
	}
	c.n++
}

// bytes returns the memory the column's chunks take.
func (c *column) bytes() int64 { return c.alloc }

// contiguous returns the column's values when one chunk holds them all.
func (c *column) contiguous() ([]float32, bool) {
	switch len(c.chunks) {
	case 0:
		return nil, true
	case 1:
		return c.chunks[0], true
	}
	return nil, false
}

// copyTo copies examples [lo, hi) to dst.
func (c *column) copyTo(dst []float32, lo, hi int) {
	if c.per <= 0 {
		return
	}
	first := 0 // index of the chunk's first example
	for _, ch := range c.chunks {
		n := len(ch) / c.per
		if first+n > lo && first < hi {
			a, b := max(lo, first)-first, min(hi, first+n)-first
			dst = dst[copy(dst, ch[a*c.per:b*c.per]):]
		}
		first += n
	}
}

// Errors about the body as a whole.
var (
	errEmpty    = &syntaxError{fmt.Sprintf("empty request body; want a JSON object %s or %s", `{"instances": [...]}`, `{"inputs": ...}`)}
	errTrailing = &syntaxError{"unexpected data after the JSON value"}
)

// tooManyError is a request with more examples than the decoder may
// store.
type tooManyError struct{ max int }

func (e *tooManyError) Error() string {
	return fmt.Sprintf("the request holds more than %d examples", e.max)
}

// tooLargeError is a request whose examples, at the sizes of the
// symbolic dimensions its first example gives (a sequence length T,
// say), would take more memory than the decoder may hold.
type tooLargeError struct{ msg string }

func (e *tooLargeError) Error() string { return e.msg }

// decodeRequest reads a predict request body from r and checks it
// against the model's inputs as it goes. It never holds more of the body
// than buf, and writes the numbers of each example straight into the
// request's input columns, so that decoding takes the memory of the
// inputs (4 bytes a value) plus O(nesting depth): what cannot be a
// request for this model is rejected as soon as it is seen, and values
// past an example's size are counted but not stored. It stores at most
// maxExamples examples, failing with a *tooManyError past them. Read
// errors are *readError, malformed JSON *syntaxError.
func decodeRequest(r io.Reader, info *modelInfo, maxExamples int, buf []byte) (*request, error) {
	return decodeWithin(r, info, maxExamples, math.MaxInt64, buf)
}

// decodeWithin is decodeRequest for a model whose examples' size
// depends on the request (one with symbolic dimensions after the batch,
// modelInfo.syms): the request's examples hold at most budget bytes by
// modelInfo.exampleCostAt, at the sizes its first example gives. The
// first example of each input, whose size is not known before it is
// read, is read into a buffer that grows up to what the budget allows
// and no further: a larger one fails with a *tooLargeError as soon as
// its values pass that, as does a request whose examples pass the
// budget.
func decodeWithin(r io.Reader, info *modelInfo, maxExamples int, budget int64, buf []byte) (*request, error) {
	d := &decoder{
		s:      scanner{r: r, buf: buf},
		info:   info,
		max:    maxExamples,
		budget: budget,
		seen:   make([]bool, len(info.inputs)),
		req:    &request{topK: -1, n: -1},
	}
	if len(info.syms) > 0 {
		d.req.dims = make([]int, len(info.syms))
		d.dimFrom = make([]string, len(info.syms))
	}
	if err := d.request(); err != nil {
		return nil, err
	}
	return d.req, nil
}

// decoder is the state of decodeRequest.
type decoder struct {
	s     scanner
	info  *modelInfo
	max   int
	req   *request
	first string    // the input whose batch set req.n in the columnar format
	seen  []bool    // which inputs an object has named
	f     flattener // the example being read
	// For a model with symbolic dimensions after the batch: the bytes
	// the request's examples may take, and per symbolic dimension the
	// input whose first example gave its size.
	budget  int64
	dimFrom []string
}

// passed reports whether err is about the request as a whole (a read
// error, malformed JSON, too many examples) rather than about the part
// being read, whose errors are wrapped with where it is.
func passed(err error) bool {
	var (
		se *syntaxError
		re *readError
		te *tooManyError
	)
	var le *tooLargeError
	return errors.As(err, &se) || errors.As(err, &re) || errors.As(err, &te) || errors.As(err, &le)
}

// wrap prefixes an error about a part of the request with where it is.
func wrap(err error, format string, args ...any) error {
	if err == nil || passed(err) {
		return err
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

// describe names the type of the next value for messages, or returns a
// syntax error when there is no value.
func (d *decoder) describe() (string, error) {
	c, ok := d.s.peek()
	switch {
	case !ok:
	case c == '[':
		return "an array", nil
	case c == '{':
		return "an object", nil
	case c == '"':
		return "a string", nil
	case c == '-' || '0' <= c && c <= '9':
		return "a number", nil
	case c == 't' && d.s.literal("true"), c == 'f' && d.s.literal("false"):
		return "a boolean", nil
	case c == 'n' && d.s.literal("null"):
		return "null", nil
	}
	return "", d.s.syntaxError("a value")
}

// wrongType reports the next value as not what is wanted: msg makes the
// message from the value's type.
func (d *decoder) wrongType(msg func(what string) string) error {
	what, err := d.describe()
	if err != nil {
		return err
	}
	return errors.New(msg(what))
}

// null consumes a null if it is next.
func (d *decoder) null() bool {
	c, ok := d.s.peek()
	return ok && c == 'n' && d.s.literal("null")
}

// expect consumes c, the next byte, or fails with a syntax error that
// says what was wanted.
func (d *decoder) expect(c byte, want string) error {
	if b, ok := d.s.peek(); ok && b == c {
		d.s.pos++
		return nil
	}
	return d.s.syntaxError(want)
}

// next consumes the ',' between the elements of an array or object, or
// its closing byte; more reports which.
func (d *decoder) next(closing byte) (more bool, err error) {
	c, ok := d.s.peek()
	switch {
	case ok && c == ',':
		d.s.pos++
		return true, nil
	case ok && c == closing:
		d.s.pos++
		return false, nil
	}
	return false, d.s.syntaxError(fmt.Sprintf("',' or '%c'", closing))
}

// open consumes the opening byte of an array or object (checked by the
// caller) and reports whether it is empty, consuming its closing byte
// too then.
func (d *decoder) open(closing byte) bool {
	d.s.pos++
	if c, ok := d.s.peek(); ok && c == closing {
		d.s.pos++
		return true
	}
	return false
}

// key consumes an object's key and the ':' after it.
func (d *decoder) key() (string, error) {
	if c, ok := d.s.peek(); !ok || c != '"' {
		return "", d.s.syntaxError("a string key")
	}
	k, err := d.s.str()
	if err != nil {
		return "", err
	}
	return k, d.expect(':', "':'")
}

// request reads the whole body: one object, then nothing but space.
func (d *decoder) request() error {
	c, ok := d.s.peek()
	if !ok {
		if err := d.s.failed(); err != nil {
			return err
		}
		return errEmpty
	}
	if c != '{' {
		return d.wrongType(func(what string) string {
			return fmt.Sprintf(`the request is %s; want a JSON object {"instances": [...]} or {"inputs": ...}`, what)
		})
	}
	var fields [4]bool // signature_name, instances, inputs, top_k
	present := ""      // "instances" or "inputs", when not null
	if !d.open('}') {
		for more := true; more; {
			key, err := d.key()
			if err != nil {
				return err
			}
			field := slices.Index([]string{"signature_name", "instances", "inputs", "top_k"}, key)
			if field < 0 {
				return fmt.Errorf(`invalid request: unknown field %q; want "instances" or "inputs", and optionally "signature_name" and "top_k"`, key)
			}
			if fields[field] {
				return fmt.Errorf("invalid request: field %q appears twice", key)
			}
			fields[field] = true
			switch key {
			case "signature_name":
				if err := d.signatureName(); err != nil {
					return err
				}
			case "instances", "inputs":
				if d.null() {
					break
				}
				if present != "" {
					return errors.New(`give either "instances" (row format) or "inputs" (columnar format), not both`)
				}
				present = key
				if key == "instances" {
					err = d.instances()
				} else {
					err = d.inputs()
				}
				if err != nil {
					return err
				}
			case "top_k":
				if err := d.topK(); err != nil {
					return err
				}
			}
			if more, err = d.next('}'); err != nil {
				return err
			}
		}
	}
	if _, ok := d.s.peek(); ok {
		return errTrailing
	}
	if err := d.s.failed(); err != nil {
		return err
	}
	if present == "" {
		return errors.New(`the request has neither "instances" (row format) nor "inputs" (columnar format)`)
	}
	return nil
}

// signatureName reads the value of "signature_name".
func (d *decoder) signatureName() error {
	if c, ok := d.s.peek(); !ok || c != '"' {
		return d.wrongType(func(what string) string { return fmt.Sprintf(`"signature_name" is %s, want a string`, what) })
	}
	name, err := d.s.str()
	if err != nil {
		return err
	}
	if name != "" && name != "serving_default" {
		return fmt.Errorf("unknown signature_name %q; the only signature is \"serving_default\"", name)
	}
	return nil
}

// topK reads the value of "top_k": a non-negative integer, or null.
func (d *decoder) topK() error {
	if d.null() {
		d.req.topK = -1
		return nil
	}
	if c, ok := d.s.peek(); !ok || c != '-' && (c < '0' || c > '9') {
		return d.wrongType(func(what string) string { return "top_k must be a non-negative integer, got " + what })
	}
	x, err := d.s.number()
	if err != nil {
		return err
	}
	if x != math.Trunc(x) || x < 0 || x > math.MaxInt32 {
		return fmt.Errorf("top_k must be a non-negative integer, got %s", strconv.FormatFloat(x, 'g', -1, 64))
	}
	d.req.topK = int(x)
	return nil
}

// newColumns starts the request's input columns.
func (d *decoder) newColumns() {
	d.req.in = make([]column, len(d.info.inputs))
	for i := range d.info.inputs {
		d.req.in[i].per = d.info.inputs[i].per
		if d.info.inputs[i].syms != nil {
			d.req.in[i].per = -1
		}
	}
}

// instances reads the row format: one instance per example, the tensor
// itself for a single-input model or an object keyed by input name.
func (d *decoder) instances() error {
	if c, ok := d.s.peek(); !ok || c != '[' {
		return d.wrongType(func(what string) string {
			return fmt.Sprintf(`"instances" is %s; want an array with one instance per example`, what)
		})
	}
	if d.open(']') {
		return errors.New(`"instances" is empty`)
	}
	d.newColumns()
	for k, more := 0, true; more; k++ {
		if k == d.max {
			return &tooManyError{d.max}
		}
		if err := d.instance(k); err != nil {
			return err
		}
		var err error
		if more, err = d.next(']'); err != nil {
			return err
		}
		d.req.n = k + 1
	}
	return nil
}

// instance reads instance k.
func (d *decoder) instance(k int) error {
	c, ok := d.s.peek()
	switch {
	case ok && c == '{':
		return d.inputObject(func() string { return fmt.Sprintf("instance %d", k) }, func(i int) error {
			return wrap(d.example(i), "instance %d", k)
		})
	case len(d.info.inputs) > 1:
		return d.wrongType(func(what string) string {
			return fmt.Sprintf("instance %d is %s; the model has %d inputs (%s), so each instance must be an object mapping their names to values",
				k, what, len(d.info.inputs), strings.Join(d.info.sig.PredictInputs, ", "))
		})
	}
	return wrap(d.example(0), "instance %d", k)
}

// inputObject reads an object keyed by input name, each input once and
// every one of them, calling read for each input's value. where names
// the object in errors ("instance 3", `"inputs"`); it is called only for
// an error.
func (d *decoder) inputObject(where func() string, read func(i int) error) error {
	clear(d.seen)
	if !d.open('}') {
		for more := true; more; {
			key, err := d.key()
			if err != nil {
				return err
			}
			i := d.info.inputIndex(key)
			if i < 0 {
				return fmt.Errorf("%s: unknown input %q; the model's inputs are %s", where(), key, strings.Join(d.info.sig.PredictInputs, ", "))
			}
			if d.seen[i] {
				return fmt.Errorf("%s: input %q appears twice", where(), key)
			}
			d.seen[i] = true
			if err := read(i); err != nil {
				return err
			}
			if more, err = d.next('}'); err != nil {
				return err
			}
		}
	}
	for i, seen := range d.seen {
		if !seen {
			return fmt.Errorf("%s: missing input %q", where(), d.info.inputs[i].spec.Name)
		}
	}
	return nil
}

// inputs reads the columnar format: for each input a tensor whose first
// dimension is the batch; an object keyed by input name, or the tensor
// itself for a single-input model.
func (d *decoder) inputs() error {
	d.req.columnar = true
	d.newColumns()
	c, ok := d.s.peek()
	switch {
	case ok && c == '{':
		return d.inputObject(func() string { return `"inputs"` }, d.batch)
	case len(d.info.inputs) > 1:
		return d.wrongType(func(what string) string {
			return fmt.Sprintf(`"inputs" is %s; the model has %d inputs (%s), so it must be an object mapping their names to batches`,
				what, len(d.info.inputs), strings.Join(d.info.sig.PredictInputs, ", "))
		})
	}
	return d.batch(0)
}

// batch reads the columnar batch of input i: one entry per example.
func (d *decoder) batch(i int) error {
	name := d.info.inputs[i].spec.Name
	if c, ok := d.s.peek(); !ok || c != '[' {
		return d.wrongType(func(what string) string {
			return fmt.Sprintf("input %q is %s; want an array with one entry per example", name, what)
		})
	}
	if d.open(']') {
		return fmt.Errorf("input %q has no examples", name)
	}
	k := 0
	for more := true; more; k++ {
		switch {
		case d.req.n < 0 && k == d.max:
			return &tooManyError{d.max}
		case d.req.n >= 0 && k == d.req.n:
			return fmt.Errorf("input %q has more examples than input %q (%d)", name, d.first, d.req.n)
		}
		if err := d.example(i); err != nil {
			return wrap(err, "example %d", k)
		}
		var err error
		if more, err = d.next(']'); err != nil {
			return err
		}
	}
	if d.req.n < 0 {
		d.req.n, d.first = k, name
	} else if k != d.req.n {
		return fmt.Errorf("input %q has %d examples, but input %q has %d", name, k, d.first, d.req.n)
	}
	return nil
}

// example reads one example of input i and stores it in its column. The
// value is a nested array of the input's per-example shape, or a flat
// array of all its values; a per-example scalar may also be a bare
// number.
func (d *decoder) example(i int) error {
	t, col := &d.info.inputs[i], &d.req.in[i]
	f := &d.f
	f.dtype, f.dims, f.t = t.spec.DType, t.dims, t
	f.shape, f.leafDepth, f.count = f.shape[:0], -1, 0
	f.maxDepth = max(len(t.dims), 1) + 1
	f.open = false
	if col.per < 0 && !d.sized(t) {
		// The first example of a request gives the size of a symbolic
		// dimension: read it into a buffer growing up to the budget.
		f.dst, f.per, f.open = nil, int(min(d.budget/8, maxDim)), true
		f.name = t.spec.Name
	} else {
		if col.per < 0 {
			col.per = t.size(d.req.dims)
		}
		f.dst, f.per = col.room(), col.per
	}
	if err := d.value(0); err != nil {
		return wrap(err, "input %q", t.spec.Name)
	}
	if f.open {
		if err := d.firstExample(i); err != nil {
			return err
		}
		return d.checkBudget(col.n)
	}
	shape := t.shape(d.req.dims)
	if f.count != col.per || len(f.shape) > 1 && !slices.Equal(f.shape, shape) {
		if err := d.otherDims(t); err != nil {
			return err
		}
	}
	if f.count != col.per {
		return fmt.Errorf("input %q has %d values, want %d (%s per example)", t.spec.Name, f.count, col.per, exampleType(t, shape))
	}
	if len(f.shape) > 1 && !slices.Equal(f.shape, shape) {
		return fmt.Errorf("input %q has shape %s, want %s or %d flat values", t.spec.Name, shapeString(f.shape), shapeString(shape), col.per)
	}
	col.commit()
	if t.syms != nil {
		return d.checkBudget(col.n)
	}
	return nil
}

// sized reports whether the sizes of all of t's symbolic dimensions are
// known.
func (d *decoder) sized(t *tensor) bool {
	for _, s := range t.syms {
		if s >= 0 && d.req.dims[s] == 0 {
			return false
		}
	}
	return true
}

// firstExample stores the example of input i just read, the request's
// first, whose sizes of symbolic dimensions were not known: it takes
// them from the example's nested shape, or from its number of values
// when it is flat and that leaves one size unknown.
func (d *decoder) firstExample(i int) error {
	t, col, f := &d.info.inputs[i], &d.req.in[i], &d.f
	name := t.spec.Name
	wantShape := func() error {
		return fmt.Errorf("input %q has shape %s, want %s or its values flat", name, shapeString(f.shape), d.symShape(t))
	}
	set := func(s, v int) error {
		if v < 1 {
			return fmt.Errorf("input %q has %s = %d; want %s ≥ 1", name, d.info.symName(s), v, d.info.symName(s))
		}
		if old := d.req.dims[s]; old > 0 && old != v {
			return fmt.Errorf("input %q has %s = %d, but input %q %s = %d: the inputs of an example share the size of every symbolic dimension", name, d.info.symName(s), v, d.dimFrom[s], d.info.symName(s), old)
		}
		if m := d.info.sig.MaxBatch; m > 0 && v > m {
			return fmt.Errorf("input %q has %s = %d, more than the model's maximum of %d", name, d.info.symName(s), v, m)
		}
		if d.req.dims[s] == 0 {
			d.req.dims[s], d.dimFrom[s] = v, name
		}
		return nil
	}
	switch {
	case len(f.shape) == len(t.dims) && len(t.dims) > 1:
		for j, dim := range t.dims {
			if dim >= 0 {
				if f.shape[j] != dim {
					return wantShape()
				}
			} else if err := set(t.syms[j], f.shape[j]); err != nil {
				return err
			}
		}
	case len(f.shape) <= 1:
		known, unknown := t.per, -1
		for _, s := range t.syms {
			switch {
			case s < 0:
			case d.req.dims[s] > 0:
				if known > 0 {
					known = satMul(known, d.req.dims[s])
				}
			case unknown >= 0:
				return fmt.Errorf("input %q is %s: the sizes of %s and %s cannot be told from its number of values; give it as nested arrays", name, t.spec, d.info.symName(unknown), d.info.symName(s))
			default:
				unknown = s
			}
		}
		if known == 0 || f.count%known != 0 || f.count == 0 {
			return fmt.Errorf("input %q has %d values, not a positive multiple of %d, its values per unit of %s (%s)", name, f.count, known, d.info.symName(unknown), t.spec)
		}
		if err := set(unknown, f.count/known); err != nil {
			return err
		}
	default:
		return wantShape()
	}
	col.per = t.size(d.req.dims)
	if f.count != col.per {
		return fmt.Errorf("input %q has %d values, want %d (%s per example)", name, f.count, col.per, exampleType(t, t.shape(d.req.dims)))
	}
	col.chunks = append(col.chunks, f.dst[:col.per])
	col.alloc += 4 * int64(cap(f.dst))
	col.n++
	f.dst = nil
	return nil
}

// otherDims explains an example of input t whose size is not the one the
// request's first example gave, when it is another size of a symbolic
// dimension (a sequence of another length, say); else it returns nil.
func (d *decoder) otherDims(t *tensor) error {
	f := &d.f
	if t.syms == nil {
		return nil
	}
	name := t.spec.Name
	mismatch := func(s, v int) error {
		return fmt.Errorf("input %q has %s = %d, but example 0 has %s = %d: the examples of one request share the size of every symbolic dimension but the batch (send other sizes in other requests)",
			name, d.info.symName(s), v, d.info.symName(s), d.req.dims[s])
	}
	if len(f.shape) == len(t.dims) && len(t.dims) > 1 {
		for j, s := range t.syms {
			if s >= 0 && f.shape[j] != d.req.dims[s] {
				return mismatch(s, f.shape[j])
			}
		}
		return nil
	}
	if len(f.shape) > 1 {
		return nil
	}
	// Flat: when one symbolic dimension alone can explain the count.
	one := -1
	for _, s := range t.syms {
		if s >= 0 {
			if one >= 0 && one != s {
				return nil
			}
			one = s
		}
	}
	if one < 0 {
		return nil
	}
	unit := t.per
	reps := 0
	for _, s := range t.syms {
		if s == one {
			reps++
		}
	}
	if reps != 1 || unit == 0 || f.count == 0 || f.count%unit != 0 {
		return nil
	}
	return mismatch(one, f.count/unit)
}

// checkBudget fails with a *tooLargeError when n examples at the sizes
// of the symbolic dimensions known so far take more than the budget.
func (d *decoder) checkBudget(n int) error {
	cost := d.info.exampleCostAt(d.req.dims)
	if cost <= 0 || int64(n) <= d.budget/cost {
		return nil
	}
	if n == 1 {
		return &tooLargeError{fmt.Sprintf("request too large: at %s, one example takes %d bytes (its inputs, outputs and answer), more than the %d one request may hold within the server's memory limit (--request-memory)",
			d.info.describeDims(d.req.dims), cost, d.budget)}
	}
	return &tooLargeError{fmt.Sprintf("request too large: at %s, %d examples take %d bytes (their inputs, outputs and answer), more than the %d one request of its size may hold within the server's memory limit (--request-memory)",
		d.info.describeDims(d.req.dims), n, int64(n)*cost, d.budget)}
}

// flattener is the state of one example being read: it checks that its
// nested arrays are regular (every array at one depth has the same
// length, every number at the same depth) and that each element fits the
// dtype, and stores up to per values in dst.
type flattener struct {
	dtype     string
	dims      []int // the shape of an example
	shape     []int // lengths of the arrays at each depth; -1 until the first one closes
	leafDepth int   // depth of the numbers, -1 before the first
	count     int   // numbers seen, including those past per
	maxDepth  int   // arrays may nest this deep
	per       int
	dst       []float32
	// open is set while reading an example whose size is not known
	// (the first of a request, for a model with a sequence length, say):
	// dst then grows, and past per values (what the memory budget allows)
	// the example fails with a *tooLargeError. name is its input's.
	open bool
	name string
	t    *tensor // the input being read
}

// value reads the value at depth of the example.
func (d *decoder) value(depth int) error {
	f := &d.f
	c, ok := d.s.peek()
	if !ok {
		return d.s.syntaxError("a value")
	}
	var x float32
	switch {
	case c == '[':
		if f.leafDepth >= 0 && depth >= f.leafDepth {
			return fmt.Errorf("is not a regular array: an array where element %d should be a number", f.count)
		}
		if depth == f.maxDepth {
			if f.t != nil && f.t.syms != nil {
				return fmt.Errorf("is nested more than %d deep; want shape %s or its values flat", f.maxDepth, d.symShape(f.t))
			}
			return fmt.Errorf("is nested more than %d deep; want shape %s or %d flat values", f.maxDepth, shapeString(f.dims), f.per)
		}
		if depth == len(f.shape) {
			f.shape = append(f.shape, -1)
		}
		n := 0
		if !d.open(']') {
			for more := true; more; n++ {
				if err := d.value(depth + 1); err != nil {
					return err
				}
				var err error
				if more, err = d.next(']'); err != nil {
					return err
				}
			}
		}
		switch {
		case f.shape[depth] < 0:
			f.shape[depth] = n
		case f.shape[depth] != n:
			return fmt.Errorf("is a ragged array: arrays of lengths %d and %d at depth %d", f.shape[depth], n, depth)
		}
		return nil
	case c == '-' || '0' <= c && c <= '9':
		if err := f.leaf(depth); err != nil {
			return err
		}
		v, err := d.s.number()
		if err != nil {
			return err
		}
		if x, err = f.number(v); err != nil {
			return err
		}
	case c == 't' && d.s.literal("true"), c == 'f' && d.s.literal("false"):
		if err := f.leaf(depth); err != nil {
			return err
		}
		if f.dtype != "bool" {
			return fmt.Errorf("element %d is a boolean, want a number (%s)", f.count, f.dtype)
		}
		if c == 't' {
			x = 1
		}
	default:
		what, err := d.describe()
		if err != nil {
			return err
		}
		if err := f.leaf(depth); err != nil {
			return err
		}
		want := "a number"
		if f.dtype == "bool" {
			want = "a boolean or a number"
		}
		return fmt.Errorf("element %d is %s, want %s (%s)", f.count, what, want, f.dtype)
	}
	if f.count < f.per {
		f.dst = append(f.dst, x)
	}
	f.count++
	if f.open && f.count > f.per {
		return &tooLargeError{fmt.Sprintf("request too large: input %q of the first example has more than %d values, more than one request of its size may hold within the server's memory limit (--request-memory)", f.name, f.per)}
	}
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

// exampleType renders the type of one example of shape dims, e.g.
// "f32[28,28]".
func exampleType(t *tensor, dims []int) string {
	return t.spec.DType + shapeString(dims)
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
