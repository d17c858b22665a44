package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"

	"github.com/flow-lang/flow/runtime"
	"github.com/flow-lang/flow/runtime/serve"
)

// maxPredictInput bounds how much JSON predict reads.
const maxPredictInput = 1 << 30

func runPredict(e *env, args []string) error {
	fs := e.newFlags("predict", "[--checkpoint DIR|FILE] [--input FILE|-] | [--top K] IMAGE...",
		"Predict reads examples as JSON and writes the model's outputs as JSON.\n\n"+
			"The input is an array of examples, or an object {\"instances\": [...]}.\n"+
			"For a model with one predict input, an example is an array of numbers,\n"+
			"flat or nested (e.g. 784 numbers or 28 arrays of 28); for any model it\n"+
			"may be an object mapping each predict input's name to such an array.\n\n"+
			"The output is an array with one object per example, mapping each output's\n"+
			"name to its values, nested like its shape (null where a value is not\n"+
			"finite) — the objects serve answers with — and, for a model with a 10-value\n"+
			"output, \"label\" to the index of its largest value (unless the model has\n"+
			"an output named label).\n\n"+
			"Given image files (PNG, JPEG or GIF) instead, predict preprocesses each\n"+
			"like MNIST (grayscale, ink bright on dark, the digit scaled into a 20×20\n"+
			"box and centered by mass in 28×28) and prints, per image, one line of JSON\n"+
			"naming the file and its top labels:\n"+
			"{\"file\": \"a.png\", \"top\": [{\"label\": \"7\", \"score\": 0.98}, ...]}.\n\n"+
			"The model predicts with its initial parameters unless --checkpoint names\n"+
			"a checkpoint that train --checkpoint DIR saved.")
	input := fs.String("input", "-", "JSON `file` to read, or - for standard input")
	top := fs.Int("top", 3, "with image files: how many labels to print, best first")
	ckpt := checkpointFlag(fs)
	files, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if *top < 1 {
		return &usageError{msg: fmt.Sprintf("predict: --top must be at least 1, got %d", *top), usage: fs.Usage}
	}
	if len(files) > 0 && isSet(fs, "input") {
		return &usageError{msg: "predict: give image files or --input, not both", usage: fs.Usage}
	}
	sig := e.model.Signature()
	feeds, err := predictFeeds(sig)
	if err != nil {
		return err
	}
	if *ckpt != "" {
		if _, err := restoreCheckpoint(e.model, *ckpt); err != nil {
			return err
		}
	} else if len(e.model.Params()) > 0 {
		fmt.Fprintln(e.stderr, "warning: no --checkpoint given: predicting with the initial, untrained parameters")
	}
	if len(files) > 0 {
		return predictImages(e, sig, feeds, files, *top)
	}

	var r io.Reader = stdin
	name := "standard input"
	if *input != "-" {
		f, err := os.Open(*input)
		if err != nil {
			return err
		}
		defer f.Close()
		r, name = f, *input
	}
	examples, err := readExamples(io.LimitReader(r, maxPredictInput), name, sig, feeds)
	if err != nil {
		return err
	}
	return predict(e, sig, feeds, examples)
}

// predictFeeds describes the model's predict inputs.
func predictFeeds(sig *runtime.Signature) ([]feedShape, error) {
	if len(sig.PredictInputs) == 0 {
		return nil, fmt.Errorf("model %s has no predict inputs", sig.Model)
	}
	feeds := make([]feedShape, len(sig.PredictInputs))
	for i, name := range sig.PredictInputs {
		spec, ok := sig.Input(name)
		if !ok {
			return nil, fmt.Errorf("model %s: predict input %q is not among its inputs", sig.Model, name)
		}
		f, err := sequenceShape(spec)
		if err != nil {
			return nil, fmt.Errorf("model %s: predict input %v", sig.Model, err)
		}
		if i > 0 && f.fixed != feeds[0].fixed {
			return nil, fmt.Errorf("model %s: predict inputs %s and %s disagree on the batch size", sig.Model, sig.PredictInputs[0], name)
		}
		feeds[i] = f
	}
	return feeds, nil
}

// readExamples parses the JSON input into one value slice per predict
// input per example.
func readExamples(r io.Reader, name string, sig *runtime.Signature, feeds []feedShape) ([][][]float32, error) {
	dec := json.NewDecoder(bufio.NewReader(r))
	dec.UseNumber()
	var top json.RawMessage
	if err := dec.Decode(&top); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: no input; want a JSON array of examples or {\"instances\": [...]}", name)
		}
		return nil, fmt.Errorf("%s: invalid JSON: %v", name, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: unexpected data after the JSON value", name)
	}
	var items []json.RawMessage
	switch trimmed := bytes.TrimSpace(top); {
	case len(trimmed) > 0 && trimmed[0] == '[':
		if err := json.Unmarshal(trimmed, &items); err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
	case len(trimmed) > 0 && trimmed[0] == '{':
		var obj struct {
			Instances *[]json.RawMessage `json:"instances"`
		}
		if err := json.Unmarshal(trimmed, &obj); err != nil {
			return nil, fmt.Errorf("%s: \"instances\" must be an array of examples: %v", name, err)
		}
		if obj.Instances == nil {
			return nil, fmt.Errorf("%s: the JSON object has no \"instances\" array", name)
		}
		items = *obj.Instances
	default:
		return nil, fmt.Errorf("%s: want a JSON array of examples or {\"instances\": [...]}", name)
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("%s: no examples", name)
	}
	examples := make([][][]float32, len(items))
	var first map[string]int
	for i, item := range items {
		ex, dims, err := parseExample(item, sig, feeds)
		if err != nil {
			return nil, fmt.Errorf("%s: example %d: %v", name, i, err)
		}
		if i == 0 {
			first = dims
		}
		for _, s := range sortedKeys(dims) {
			if dims[s] != first[s] {
				return nil, fmt.Errorf("%s: example %d has %s = %d, example 0 %s = %d: the examples of one input share the size of every symbolic dimension but the batch", name, i, s, dims[s], s, first[s])
			}
		}
		examples[i] = ex
	}
	return examples, nil
}

// sortedKeys returns the keys of m in order.
func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// exampleDims returns the sizes of the symbolic dimensions after the batch
// that one example of f with count values has, given those dims already
// knows (from the example's inputs before), adding them to dims: a
// dimension not yet known is the count divided by the size of the rest.
// One unknown dimension at most, appearing once, can be found this way.
func exampleDims(f feedShape, count int, dims map[string]int) error {
	if len(f.syms) == 0 {
		if count != f.per {
			return fmt.Errorf("input %s has %d numbers, want %d (%s)", f.spec.Name, count, f.per, f.spec)
		}
		return nil
	}
	known, unknown := f.per, ""
	for _, s := range f.syms {
		switch v, ok := dims[s]; {
		case ok:
			known *= v
		case unknown != "":
			return fmt.Errorf("input %s is %s: its sizes of %s and %s cannot be told from its length alone", f.spec.Name, f.spec, unknown, s)
		default:
			unknown = s
		}
	}
	if unknown == "" {
		if count != known {
			return fmt.Errorf("input %s has %d numbers, want %d (%s)", f.spec.Name, count, known, f.spec)
		}
		return nil
	}
	if count == 0 || count%known != 0 {
		return fmt.Errorf("input %s has %d numbers, not a positive multiple of %d, its numbers per unit of %s (%s)", f.spec.Name, count, known, unknown, f.spec)
	}
	dims[unknown] = count / known
	return nil
}

// examplePer returns the values per example of f when the symbolic
// dimensions after the batch have the sizes dims.
func examplePer(f feedShape, dims map[string]int) int {
	per := f.per
	for _, s := range f.syms {
		per *= dims[s]
	}
	return per
}

// parseExample reads one example: an array for a single-input model, or an
// object keyed by input name. It returns the example's values and the
// sizes of the symbolic dimensions after the batch they have (a sequence
// length, say).
func parseExample(raw json.RawMessage, sig *runtime.Signature, feeds []feedShape) (_ [][]float32, dims map[string]int, _ error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, nil, err
	}
	values := make([]any, len(feeds))
	switch v := v.(type) {
	case []any:
		if len(feeds) != 1 {
			return nil, nil, fmt.Errorf("the model has %d predict inputs, so each example must be an object mapping their names to values", len(feeds))
		}
		values[0] = v
	case map[string]any:
		for i, name := range sig.PredictInputs {
			val, ok := v[name]
			if !ok {
				return nil, nil, fmt.Errorf("missing input %q", name)
			}
			values[i] = val
		}
		if len(v) > len(feeds) {
			for k := range v {
				if !slices.Contains(sig.PredictInputs, k) {
					return nil, nil, fmt.Errorf("unknown input %q", k)
				}
			}
		}
	default:
		return nil, nil, fmt.Errorf("is %s, want an array of numbers", jsonKind(v))
	}
	ex := make([][]float32, len(feeds))
	dims = map[string]int{}
	for i, f := range feeds {
		flat, err := flatten(values[i], make([]float32, 0, f.per))
		if err != nil {
			return nil, nil, fmt.Errorf("input %s: %v", f.spec.Name, err)
		}
		if err := exampleDims(f, len(flat), dims); err != nil {
			return nil, nil, err
		}
		ex[i] = flat
	}
	return ex, dims, nil
}

// flatten appends the numbers of a (possibly nested) JSON array to out.
func flatten(v any, out []float32) ([]float32, error) {
	switch v := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil || math.Abs(f) > math.MaxFloat32 {
			return nil, fmt.Errorf("element %d (%s) is out of the float32 range", len(out), v)
		}
		return append(out, float32(f)), nil
	case []any:
		for _, x := range v {
			var err error
			if out, err = flatten(x, out); err != nil {
				return nil, err
			}
		}
		return out, nil
	default:
		return nil, fmt.Errorf("element %d is %s, want a number", len(out), jsonKind(v))
	}
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	default:
		return "a number"
	}
}

// predict feeds the examples in batches and writes the JSON result: an
// array with one object per example, written by the writer of serve's
// answers (serve.Outputs), one line each.
func predict(e *env, sig *runtime.Signature, feeds []feedShape, examples [][][]float32) error {
	outs := serve.NewOutputs(sig, feeds[0].fixed)
	// The first output with 10 values per example gives the "label".
	label := -1
	for i := range outs.Len() {
		if outs.PerExample(i) == mnistClasses {
			label = i
			break
		}
	}

	// The sizes of the symbolic dimensions after the batch (a sequence
	// length, say), which every example shares (readExamples).
	dims := map[string]int{}
	for i, f := range feeds {
		if err := exampleDims(f, len(examples[0][i]), dims); err != nil {
			return err
		}
	}
	var more []int
	for _, s := range sig.SymbolicDims()[min(1, len(sig.SymbolicDims())):] {
		more = append(more, max(dims[s], 1))
	}
	chunk, err := feedChunk(feeds[0], len(examples), len(examples), sig, more...)
	if err != nil {
		return err
	}
	buffers := make([][]float32, len(feeds))
	pers := make([]int, len(feeds))
	for i, f := range feeds {
		pers[i] = examplePer(f, dims)
		buffers[i] = make([]float32, chunk*pers[i])
	}
	in := make([][]float32, len(feeds))
	out := make([][]float32, outs.Len())
	w := bufio.NewWriter(e.stdout)
	w.WriteString("[")
	var line []byte
	for lo := 0; lo < len(examples); lo += chunk {
		count := min(chunk, len(examples)-lo)
		feedN := count
		if feeds[0].fixed > 0 {
			feedN = feeds[0].fixed
		}
		for i := range feeds {
			buf := buffers[i]
			clear(buf)
			for k := 0; k < count; k++ {
				copy(buf[k*pers[i]:], examples[lo+k][i])
			}
			in[i] = buf[:feedN*pers[i]]
		}
		results := e.model.PredictFeed(feedN, in)
		for i := range out {
			var err error
			if out[i], err = outputAt(sig, results, outs.Index(i), feedN, dims); err != nil {
				return err
			}
		}
		for k := 0; k < count; k++ {
			line = line[:0]
			if lo+k > 0 {
				line = append(line, ',')
			}
			line = append(line, "\n  "...)
			line = outs.AppendExample(line, out, k, label)
			w.Write(line)
		}
	}
	w.WriteString("\n]\n")
	return w.Flush()
}
