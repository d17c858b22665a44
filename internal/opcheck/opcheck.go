// Package opcheck checks the Go code generated for every op against the
// reference interpreter, on each op's registry examples
// (ir.OpDef.Examples: operand shapes, attributes, value domain) in every
// dtype generated code computes in (f32, f64, i32, i64, bool).
//
// An instance is an example in one dtype: the example's operands without
// a dtype of their own (ir.Example.Pinned) take it; an example whose
// operands all have one (or that has none, like fill's) has one instance.
// For every instance, either the checker refuses it — Infer's type rule,
// or the op's ir.OpDef.DTypes — with a positioned error at the call
// (Plan compiles it alone to see; a DTypes refusal must name the dtypes
// the op takes), or generated code computes it and agrees with the
// interpreter. The one exception is a dtype generated code cannot hold as
// a param (codegen.ErrParamDType): an instance that needs such a param,
// the state of an update op or the moving averages of batch_norm, is a
// skip that names it.
//
// For every op that is not Internal, Plan writes one .flow model holding
// all of the op's accepted instances and compiles it with
// compiler.Compile (checker, passes and training lowering) and
// codegen.Generate. For example e in dtype d the model computes
//
//   - y<e><s> = op(x<e>_0<s>, ...), whose operands are inputs, where the
//     suffix <s> is empty for f32 and "_<d>" for the other dtypes, and
//   - for differentiable ops in f32, z<e> = op(p<e>_0, ...), whose
//     operands are f32 params, with the loss term l<e> = sum(z<e> * w<e>)
//     for a fed weight w<e>; the model trains on the sum of the terms
//     with sgd, so that generated gradients and updates are exercised
//     too.
//
// Build writes every generated package and one driver main into a single
// temporary Go module (its go.mod replaces the flow module with the
// repository on disk) and builds it with one go build; Driver.Run feeds
// the driver a request file of float32 values (as bits, so NaN and Inf
// survive) and decodes the results it prints as JSON. Reference computes
// the same results with compiler.Interpreter — Predict, Loss, then Steps
// training steps — and Compare reports every tensor whose relative error,
// max|got-want| / max(max|want|, 1e-6), exceeds MaxRelErr.
//
// Operands with a dtype of their own are inputs drawn from {0, 1, 2}
// (integers) and {false, true} (bool); the others are drawn from the
// example's domain, rounded to integers for integer dtypes (NonZero from
// ±{1, 2}, Positive from {1, 2, 3}, else from -2..2). The train variant
// needs an f32 result and an f32 operand. A stateful op's first operand
// is a param in both variants (the state it updates, checked after each
// step). A public op without examples, and an example no dtype makes
// acceptable, are failures. This package is for tests.
package opcheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/format"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/flow-lang/flow/codegen"
	"github.com/flow-lang/flow/compiler"
	"github.com/flow-lang/flow/compiler/ir"
	"github.com/flow-lang/flow/lang"
)

// ModulePath is the import path of the flow module, which the temporary
// module replaces with the repository on disk.
const ModulePath = "github.com/flow-lang/flow"

// MaxRelErr is the largest relative error allowed between generated code
// (float32 arithmetic, runtime kernels) and the interpreter (float64
// arithmetic rounded to float32 after every op), per tensor.
const MaxRelErr = 1e-4

// LearningRate is the sgd learning rate of the models. It is small so
// that two steps keep params inside their example's value domain.
const LearningRate = 0.01

// Steps is the number of training steps each model with a train
// statement runs.
const Steps = 2

// tempModule is the module path of the temporary module.
const tempModule = "opcheck.test"

// Variant says how a part of a model applies its op.
type Variant uint8

// The variants: Predict feeds the operands as inputs (y<e>); Train makes
// them params (z<e>) and trains them on l<e> = sum(z<e> * w<e>).
const (
	Predict Variant = iota
	Train
)

// String names the variant in messages.
func (v Variant) String() string {
	if v == Train {
		return "train"
	}
	return "predict"
}

// Instance is an example of an op in one dtype: the example's operands
// that have no dtype of their own (ir.Example.Pinned) take DType. An
// example without such operands has the one instance of dtype f32.
type Instance struct {
	// Example is the index of the example in the op's Examples.
	Example int
	// DType is the dtype the example's free operands take.
	DType ir.DType
}

// suffix is what the instance appends to the names of its tensors:
// nothing for f32, "_f64" and so on for the other dtypes.
func (in Instance) suffix() string {
	if in.DType == ir.F32 {
		return ""
	}
	return "_" + in.DType.String()
}

// computeDTypes are the dtypes generated code computes in, the dtypes
// each example is tried in.
var computeDTypes = []ir.DType{ir.F32, ir.F64, ir.I32, ir.I64, ir.Bool}

// instanceDTypes are the dtypes example ex is tried in: every compute
// dtype when an operand takes the instance's dtype, f32 alone otherwise.
func instanceDTypes(ex ir.Example) []ir.DType {
	for i := range ex.Shapes {
		if !ex.Pinned(i) {
			return computeDTypes
		}
	}
	return computeDTypes[:1]
}

// Case is the model that checks one op: for each of the op's instances
// that it holds, the op applied to inputs (y<e><s>) and, when the op is
// differentiable and the instance f32, to trained params (z<e>, with the
// loss term l<e> = sum(z<e> * w<e>)). One model per op keeps the number
// of generated packages, and so the build time, small.
type Case struct {
	// Op is the op under test.
	Op *ir.OpDef
	// Instances are the instances the model holds, by example, then in
	// the order of the compute dtypes.
	Instances []Instance
	// Name is the model's name, which is also its Go package name.
	Name string
	// Source is the model's .flow text.
	Source string
	// Graph is the compiled (checked and lowered) model.
	Graph *ir.Module
	// Code is the generated Go package.
	Code []byte

	// tensors maps each input, param and output name to its role.
	tensors map[string]tensorRole
}

// tensorRole says what a named tensor of a Case is.
type tensorRole struct {
	instance Instance
	variant  Variant
	weight   bool // the loss weight w<e>
	free     bool // an operand of the instance's dtype (not Pinned)
	what     string
}

// String names the case's op and instances.
func (c *Case) String() string {
	return fmt.Sprintf("op %s, instances %s", c.Op.Name, instancesString(c.Instances))
}

// instancesString renders instances as "0 1/f64 2", f32 instances by
// their example index alone.
func instancesString(ins []Instance) string {
	parts := make([]string, len(ins))
	for i, in := range ins {
		parts[i] = strconv.Itoa(in.Example) + strings.ReplaceAll(in.suffix(), "_", "/")
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// describeTensor names the instance and variant a tensor belongs to, for
// messages: op, example index, shapes, attributes, dtype, variant.
func (c *Case) describeTensor(name string) string {
	r, ok := c.tensors[name]
	if !ok {
		return c.String()
	}
	return describeInstance(c.Op, r.instance) + ", " + r.variant.String()
}

// describeInstance names an instance: its example, and its dtype when
// the example has operands that take it.
func describeInstance(def *ir.OpDef, in Instance) string {
	ex := def.Examples[in.Example]
	s := describeExample(def.Name, in.Example, ex)
	if len(instanceDTypes(ex)) > 1 {
		s += " in " + in.DType.String()
	}
	return s
}

// describeExample names an example: op, index, operand shapes, attributes.
func describeExample(op string, i int, ex ir.Example) string {
	s := fmt.Sprintf("op %s, example %d (shapes %s", op, i, shapesString(ex.Shapes))
	if len(ex.Attrs) > 0 {
		s += ", attrs " + ex.Attrs.Format()
	}
	return s + ")"
}

func shapesString(shapes [][]int) string {
	parts := make([]string, len(shapes))
	for i, s := range shapes {
		parts[i] = ir.Shp(s...).String()
	}
	return strings.Join(parts, " ")
}

// Skip is an instance the checker refuses, or one that needs a param of
// a dtype generated code cannot hold yet.
type Skip struct {
	// Op is the op's name.
	Op string
	// Instance is the instance skipped.
	Instance Instance
	// ParamDType marks a skip for codegen.ErrParamDType; the others are
	// the checker's refusals, checked to be positioned.
	ParamDType bool
	// Reason is the checker's or the code generator's error.
	Reason string
}

// String describes the skip.
func (s Skip) String() string {
	return fmt.Sprintf("op %s, example %d in %s: %s", s.Op, s.Instance.Example, s.Instance.DType, s.Reason)
}

// Failure is an op, example or instance the check could not build or
// run.
type Failure struct {
	// Op is the op's name.
	Op string
	// Example is the index of the failing example, -1 when the failure is
	// about the op as a whole.
	Example int
	// DType is the dtype of the failing instance, Invalid when the
	// failure is about the whole example or op.
	DType ir.DType
	// Case describes the op, example or instance.
	Case string
	// Err is what went wrong.
	Err error
}

// Error renders the failure.
func (f Failure) Error() string {
	if f.Case == "" {
		return fmt.Sprintf("op %s: %v", f.Op, f.Err)
	}
	return fmt.Sprintf("%s: %v", f.Case, f.Err)
}

// errStorageDType marks a lowered graph that holds a value of a storage
// dtype (f16, bf16, i8), which generated code does not hold; the
// instances involved are skips.
var errStorageDType = errors.New("a storage dtype")

// Plan builds one case per op of defs (normally ir.Ops()) that is not
// Internal. It returns the cases, the skips (instances the checker
// refuses with a positioned error, and instances that need params of a
// dtype generated code cannot hold), and the ops, examples and instances
// that failed: a public op without examples or without a Go emitter, an
// example whose operand count, attributes or value domain are wrong or
// that no dtype makes acceptable, a refusal without position (or, from
// DTypes, without the dtypes the op takes), an instance the checker
// accepts but the compiler or code generator rejects. A failing instance
// is left out of its op's case, so the op's other instances are still
// checked.
func Plan(defs []*ir.OpDef) (cases []*Case, skips []Skip, fails []Failure) {
	for _, def := range defs {
		if def.Internal {
			continue
		}
		c, s, f := planOp(def)
		if c != nil {
			cases = append(cases, c)
		}
		skips = append(skips, s...)
		fails = append(fails, f...)
	}
	return cases, skips, fails
}

// planOp builds the case of one op.
func planOp(def *ir.OpDef) (*Case, []Skip, []Failure) {
	var skips []Skip
	var fails []Failure
	if len(def.Examples) == 0 {
		return nil, nil, []Failure{{Op: def.Name, Example: -1, Err: errors.New("a public op has no registry Examples, so generated code is not checked against the interpreter; add Examples to its ir.Register entry")}}
	}
	results := map[Instance]ir.Type{}
	var good []Instance
	for i, ex := range def.Examples {
		failed := func(dt ir.DType, err error) {
			what := describeExample(def.Name, i, ex)
			if dt != ir.Invalid {
				what = describeInstance(def, Instance{i, dt})
			}
			fails = append(fails, Failure{Op: def.Name, Example: i, DType: dt, Case: what, Err: err})
		}
		if _, err := domainDraw(ex.Domain); err != nil {
			failed(ir.Invalid, err)
			continue
		}
		if _, err := attrArgs(def, ex.Attrs); err != nil {
			failed(ir.Invalid, err)
			continue
		}
		switch {
		case def.Variadic && len(ex.Shapes) == 0:
			failed(ir.Invalid, errors.New("the example has no operand shapes; the variadic op takes one or more operands"))
			continue
		case !def.Variadic && len(ex.Shapes) != len(def.Inputs):
			failed(ir.Invalid, fmt.Errorf("the example has %d operand shapes, the op takes %d operands (%s)", len(ex.Shapes), len(def.Inputs), strings.Join(def.Inputs, ", ")))
			continue
		}
		var refusals []string
		for _, dt := range instanceDTypes(ex) {
			in := Instance{i, dt}
			y, refusal, err := probe(def, ex, dt)
			switch {
			case err != nil:
				failed(dt, err)
			case refusal != nil:
				refusals = append(refusals, fmt.Sprintf("%s: %v", dt, refusal))
				if err := checkRefusal(def, in, refusal); err != nil {
					failed(dt, err)
					continue
				}
				skips = append(skips, Skip{Op: def.Name, Instance: in, Reason: "the checker refuses it: " + refusal.Error()})
			default:
				results[in] = y
				good = append(good, in)
			}
		}
		if len(refusals) == len(instanceDTypes(ex)) {
			failed(ir.Invalid, fmt.Errorf("the op accepts the example in no dtype (%s)", strings.Join(refusals, "; ")))
		}
	}
	if len(good) == 0 {
		return nil, skips, fails
	}
	// Tests plan copies of registered ops with other examples; generated
	// code calls the registered op's emitter.
	if reg, ok := ir.Lookup(def.Name); !ok || !codegen.HasEmitter(reg) {
		fails = append(fails, Failure{Op: def.Name, Example: -1, Err: errors.New("codegen has no Go emitter for the op, so its examples cannot be checked")})
		return nil, skips, fails
	}
	c, err := buildCase(def, good, results)
	if err == nil {
		return c, skips, fails
	}
	// Find the instances at fault by building each alone, then build the
	// case from the others.
	var ok []Instance
	for _, in := range good {
		_, err := buildCase(def, []Instance{in}, results)
		switch {
		case errors.Is(err, codegen.ErrParamDType):
			skips = append(skips, Skip{Op: def.Name, Instance: in, ParamDType: true, Reason: err.Error()})
		case errors.Is(err, errStorageDType):
			skips = append(skips, Skip{Op: def.Name, Instance: in, Reason: err.Error()})
		case err != nil:
			fails = append(fails, Failure{Op: def.Name, Example: in.Example, DType: in.DType, Case: describeInstance(def, in), Err: err})
		default:
			ok = append(ok, in)
		}
	}
	if len(ok) == 0 {
		return nil, skips, fails
	}
	if len(ok) == len(good) {
		// Every instance builds alone but not together.
		fails = append(fails, Failure{Op: def.Name, Example: -1, Err: fmt.Errorf("the instances build one by one but not in one model: %v", err)})
		return nil, skips, fails
	}
	c, err = buildCase(def, ok, results)
	if err != nil {
		fails = append(fails, Failure{Op: def.Name, Example: -1, Err: err})
		return nil, skips, fails
	}
	return c, skips, fails
}

// probe applies the op to operands of the example's shapes in dtype dt
// (operands with a dtype of their own keep it) in a scratch graph, as
// the checker would. It returns the result type, or the checker's
// refusal: Infer's error, or the op's ir.OpDef.CheckDType's. An error
// means the example is malformed in a way unrelated to dtypes.
func probe(def *ir.OpDef, ex ir.Example, dt ir.DType) (ir.Type, error, error) {
	g := ir.NewModule("probe", "opcheck")
	var xs []*ir.Node
	for i, s := range ex.Shapes {
		x, err := g.Apply(ir.MustLookup(leafOp(def, i, "input")), nil, ir.Attrs{"dtype": ex.OperandDType(i, dt), "shape": ir.Shp(s...)})
		if err != nil {
			return ir.Type{}, nil, fmt.Errorf("operand %d: %v", i, err)
		}
		x.Name = fmt.Sprintf("x%d", i)
		xs = append(xs, x)
	}
	y, err := g.Apply(def, xs, ex.Attrs.Clone())
	if err == nil {
		err = def.CheckDType(y)
	}
	if err != nil {
		return ir.Type{}, err, nil
	}
	if !y.Type.Shape.IsStatic() {
		return ir.Type{}, nil, fmt.Errorf("the result type %s is not static", y.Type)
	}
	return y.Type, nil, nil
}

// checkRefusal compiles the instance alone, which the checker must
// refuse as probe did: with errors at the op's call in the model's file,
// and, when DTypes is what refuses it, with a message that names the
// dtypes the op takes.
func checkRefusal(def *ir.OpDef, in Instance, refusal error) error {
	c := &Case{Op: def, Instances: []Instance{in}, Name: "op_" + def.Name, tensors: map[string]tensorRole{}}
	src, err := c.source(nil)
	if err != nil {
		return err
	}
	file := c.Name + ".flow"
	_, err = compiler.Compile(file, []byte(src), compiler.Options{})
	if err == nil {
		return fmt.Errorf("Infer or DTypes refuses the instance (%v), but the checker accepts\n%s", refusal, src)
	}
	var list lang.ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		return fmt.Errorf("the checker refuses the instance without a position: %v", err)
	}
	call := fmt.Sprintf("    y%d%s = %s(", in.Example, in.suffix(), def.Name)
	line := 1 + strings.Count(src[:strings.Index(src, call)], "\n")
	for _, e := range list {
		if e.Pos.File != file || e.Pos.Line != line || e.Pos.Col < 1 {
			return fmt.Errorf("the checker refuses the instance at %s, not at the call (%s:%d): %v\n%s", e.Pos, file, line, e, src)
		}
	}
	var dtErr *ir.DTypeError
	if want := ir.DTypeList(def.DTypes); errors.As(refusal, &dtErr) && !strings.Contains(list.Error(), "takes "+want) {
		return fmt.Errorf("the checker refuses the instance without naming the dtypes %s takes (%s): %v", def.Name, want, list)
	}
	return nil
}

// buildCase writes the model of an op's instances, compiles it and
// generates its Go. results holds each instance's result type. The error
// wraps errStorageDType when the lowered graph holds a value of a storage
// dtype, and codegen.ErrParamDType when it holds a param generated code
// cannot.
func buildCase(def *ir.OpDef, instances []Instance, results map[Instance]ir.Type) (*Case, error) {
	c := &Case{Op: def, Instances: instances, Name: "op_" + def.Name, tensors: map[string]tensorRole{}}
	src, err := c.source(results)
	if err != nil {
		return nil, err
	}
	c.Source = src
	file := c.Name + ".flow"
	g, err := compiler.Compile(file, []byte(src), compiler.Options{})
	if err != nil {
		return nil, fmt.Errorf("compiling\n%s\n%v", src, err)
	}
	for _, n := range g.Body.Nodes {
		if n.Type.DType.IsStorage() {
			return nil, fmt.Errorf("%w: the lowered graph holds %s %s; generated code supports f32, f64, i32, i64 and bool", errStorageDType, n.Label(), n.Type)
		}
	}
	code, err := codegen.Generate(g, codegen.Options{Package: c.Name, Source: "opcheck/" + file})
	if err != nil {
		return nil, fmt.Errorf("generating Go for\n%s\n%w", src, err)
	}
	c.Graph, c.Code = g, code
	return c, nil
}

// trains reports whether an instance of a differentiable op gets the
// train variant: that needs the f32 instance, an f32 result (the loss)
// and an f32 operand to make a param; operands of other dtypes stay
// inputs.
func trains(in Instance, ex ir.Example, result ir.Type) bool {
	return in.DType == ir.F32 && result.DType == ir.F32 && firstFloat(ex) >= 0
}

// firstFloat is the index of the example's first f32 operand, -1 if none.
func firstFloat(ex ir.Example) int {
	for i := range ex.Shapes {
		if ex.OperandDType(i, ir.F32) == ir.F32 {
			return i
		}
	}
	return -1
}

// source renders the case's model; results, nil for a model of the
// predict variants alone, holds each instance's result type.
func (c *Case) source(results map[Instance]ir.Type) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "// The examples of op %s: y<e> applies it to inputs; z<e> to params,\n// trained on l<e> = sum(z<e> * w<e>).\nmodel %s {\n", c.Op.Name, c.Name)
	var outputs, losses []string
	train := c.Op.Grad != nil && results != nil
	for _, in := range c.Instances {
		e := in.Example
		ex := c.Op.Examples[e]
		attrs, err := attrArgs(c.Op, ex.Attrs)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "\n    // %s\n", describeInstance(c.Op, in))
		variants := []Variant{Predict}
		if train && trains(in, ex, results[in]) {
			variants = append(variants, Train)
		}
		for _, v := range variants {
			kind, operand, result := "input", "x", "y"
			if v == Train {
				kind, operand, result = "param", "p", "z"
			}
			args := make([]string, 0, len(ex.Shapes)+len(attrs))
			for i, s := range ex.Shapes {
				name := fmt.Sprintf("%s%d_%d%s", operand, e, i, in.suffix())
				dt, k := ex.OperandDType(i, in.DType), leafOp(c.Op, i, kind)
				if dt != ir.F32 && k == "param" && !c.Op.Stateful {
					k = "input"
				}
				c.tensors[name] = tensorRole{instance: in, variant: v, free: !ex.Pinned(i), what: k}
				fmt.Fprintf(&b, "    %s %s: %s\n", k, name, ir.Type{DType: dt, Shape: ir.Shp(s...)})
				args = append(args, name)
			}
			args = append(args, attrs...)
			y := fmt.Sprintf("%s%d%s", result, e, in.suffix())
			c.tensors[y] = tensorRole{instance: in, variant: v, what: "output"}
			fmt.Fprintf(&b, "    %s = %s(%s)\n", y, c.Op.Name, strings.Join(args, ", "))
			outputs = append(outputs, y)
			if v == Train {
				w, l := fmt.Sprintf("w%d", e), fmt.Sprintf("l%d", e)
				c.tensors[w] = tensorRole{instance: in, variant: v, weight: true, what: "input"}
				c.tensors[l] = tensorRole{instance: in, variant: v, what: "loss term"}
				fmt.Fprintf(&b, "    input %s: %s\n", w, results[in])
				fmt.Fprintf(&b, "    %s = sum(%s * %s)\n", l, y, w)
				outputs = append(outputs, l)
				losses = append(losses, l)
			}
		}
	}
	if c.Op.Stateful && len(losses) == 0 {
		// Updates run only in training steps: a model with one trains,
		// here a param of its own.
		fmt.Fprintf(&b, "\n    param anchor: f32[] = zeros\n")
		losses = append(losses, "anchor * anchor")
	}
	fmt.Fprintf(&b, "\n    output %s\n", strings.Join(outputs, ", "))
	if len(losses) > 0 {
		fmt.Fprintf(&b, "    train %s with sgd(lr = %s)\n", strings.Join(losses, " + "), strconv.FormatFloat(LearningRate, 'g', -1, 64))
	}
	b.WriteString("}\n")
	return b.String(), nil
}

// leafOp is the declaration of operand i of op def in a variant that
// declares its operands with kind ("input" or "param"): the target of a
// stateful op (assign_add's p) is always a param, which the op updates
// in every training step and the checker keeps out of training.
func leafOp(def *ir.OpDef, i int, kind string) string {
	if def.Stateful && i == 0 {
		return "param"
	}
	return kind
}

// attrArgs renders an example's attributes as keyword arguments, in the
// order the op declares them.
func attrArgs(def *ir.OpDef, attrs ir.Attrs) ([]string, error) {
	var out []string
	seen := 0
	for _, spec := range def.Attrs {
		v, ok := attrs[spec.Name]
		if !ok {
			continue
		}
		seen++
		lit, err := attrLiteral(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %v", spec.Name, err)
		}
		out = append(out, spec.Name+" = "+lit)
	}
	if seen != len(attrs) {
		var unknown []string
		for k := range attrs {
			if def.Attr(k) == nil {
				unknown = append(unknown, k)
			}
		}
		sort.Strings(unknown)
		return nil, fmt.Errorf("the example sets attributes the op does not declare: %s", strings.Join(unknown, ", "))
	}
	return out, nil
}

// attrLiteral renders one attribute value as flow source.
func attrLiteral(v any) (string, error) {
	switch v := v.(type) {
	case int:
		return strconv.Itoa(v), nil
	case []int:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = strconv.Itoa(x)
		}
		return "[" + strings.Join(parts, ", ") + "]", nil
	case [][]int:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i], _ = attrLiteral(x)
		}
		return "[" + strings.Join(parts, ", ") + "]", nil
	case bool:
		return strconv.FormatBool(v), nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "", fmt.Errorf("%v has no literal in the language", v)
		}
		s := strconv.FormatFloat(v, 'g', -1, 64)
		if !strings.ContainsAny(s, ".e") {
			s += ".0"
		}
		return s, nil
	case string:
		return strconv.Quote(v), nil
	}
	return "", fmt.Errorf("a value of type %T (%v) cannot be written in source", v, v)
}

// domainDraw returns the generator of operand values for a domain.
func domainDraw(d ir.Domain) (func(r *rand.Rand) float32, error) {
	switch d {
	case ir.NonZero:
		// Away from zero: relu's kink, a divisor.
		return func(r *rand.Rand) float32 {
			v := 0.2 + 1.8*r.Float64()
			if r.IntN(2) == 0 {
				v = -v
			}
			return float32(v)
		}, nil
	case ir.Positive:
		return func(r *rand.Rand) float32 { return float32(0.5 + 2*r.Float64()) }, nil
	case ir.WellConditioned:
		// NonZero values, which NewFeed maps with ir.WellConditionedValue.
		return domainDraw(ir.NonZero)
	}
	return nil, fmt.Errorf("value domain %d is unknown to internal/opcheck; teach domainDraw to draw it", d)
}

// intDraw returns the generator of integer values of an operand that
// takes an integer instance's dtype in domain d: NonZero from ±{1, 2},
// Positive from {1, 2, 3}, any other from -2..2.
func intDraw(d ir.Domain) func(r *rand.Rand) float32 {
	switch d {
	case ir.NonZero:
		return func(r *rand.Rand) float32 { return float32((1 + r.IntN(2)) * (1 - 2*r.IntN(2))) }
	case ir.Positive:
		return func(r *rand.Rand) float32 { return float32(1 + r.IntN(3)) }
	}
	return func(r *rand.Rand) float32 { return float32(r.IntN(5) - 2) }
}

// Feed holds the values one case runs on: its params' initial values and
// its inputs, by name. The values are float32 so that the generated code
// and the interpreter see identical numbers.
type Feed struct {
	Params map[string][]float32
	Inputs map[string][]float32
}

// NewFeed draws the case's values deterministically: each tensor from its
// op and name, in its example's domain (loss weights from (-1, 1)), so
// that adding ops or examples does not change the values of others.
func NewFeed(c *Case) *Feed {
	f := &Feed{Params: map[string][]float32{}, Inputs: map[string][]float32{}}
	fill := func(n *ir.Node) []float32 {
		h := fnv.New64a()
		h.Write([]byte(c.Name + "/" + n.Name))
		r := rand.New(rand.NewPCG(h.Sum64(), 0x0dd5eed))
		role := c.tensors[n.Name]
		draw := func(r *rand.Rand) float32 { return float32(2*r.Float64() - 1) }
		wellConditioned := false
		d := c.Op.Examples[role.instance.Example].Domain
		if !role.weight {
			var err error
			if draw, err = domainDraw(d); err != nil {
				panic("opcheck: " + err.Error()) // Plan rejects unknown domains
			}
			wellConditioned = d == ir.WellConditioned
		}
		switch {
		case n.Type.DType == ir.Bool:
			draw, wellConditioned = func(r *rand.Rand) float32 { return float32(r.IntN(2)) }, false
		case n.Type.DType.IsInt() && role.free:
			draw, wellConditioned = intDraw(d), false
		case n.Type.DType.IsInt():
			draw, wellConditioned = func(r *rand.Rand) float32 { return float32(r.IntN(3)) }, false
		}
		vs := make([]float32, n.Type.Shape.NumElements(nil))
		for i := range vs {
			vs[i] = draw(r)
			if wellConditioned {
				vs[i] = float32(ir.WellConditionedValue(n.Type.Shape.Eval(nil), i, float64(vs[i])))
			}
		}
		return vs
	}
	for _, p := range c.Graph.Params {
		f.Params[p.Name] = fill(p)
	}
	for _, in := range c.Graph.Inputs {
		f.Inputs[in.Name] = fill(in)
	}
	return f
}

// Result is what running a case produced, in float64.
type Result struct {
	// Outputs are the model's outputs from Predict, in output order.
	Outputs [][]float64
	// HasLoss says whether the model trains; the fields below are set
	// only then.
	HasLoss bool
	// Loss is the loss before any training step.
	Loss float64
	// StepLosses are the losses TrainStep returned, one per step.
	StepLosses []float64
	// Params holds, per step, every param's value after that step.
	Params []map[string][]float64
}

// Reference runs a case with the reference interpreter: Predict, Loss,
// then Steps training steps.
func Reference(c *Case, f *Feed) (*Result, error) {
	it, err := compiler.NewInterpreter(c.Graph)
	if err != nil {
		return nil, err
	}
	for _, p := range c.Graph.Params {
		vs, ok := f.Params[p.Name]
		if !ok || len(vs) != len(it.State[p].Data) {
			return nil, fmt.Errorf("the feed has no values for param %s", p.Name)
		}
		for i, v := range vs {
			it.State[p].Data[i] = float64(v)
		}
	}
	feeds := map[string]*ir.Tensor{}
	for _, in := range c.Graph.Inputs {
		t := ir.NewTensor(in.Type.DType, in.Type.Shape.Eval(nil))
		for i, v := range f.Inputs[in.Name] {
			t.Data[i] = float64(v)
		}
		feeds[in.Name] = t
	}
	res := &Result{}
	if len(c.Graph.Outputs()) > 0 {
		outs, err := it.Predict(feeds)
		if err != nil {
			return nil, fmt.Errorf("interpreter Predict: %v", err)
		}
		for _, o := range outs {
			res.Outputs = append(res.Outputs, slices.Clone(o.Data))
		}
	}
	if c.Graph.Loss() == nil {
		return res, nil
	}
	res.HasLoss = true
	if res.Loss, err = it.Loss(feeds); err != nil {
		return nil, fmt.Errorf("interpreter Loss: %v", err)
	}
	for range Steps {
		l, err := it.TrainStep(feeds)
		if err != nil {
			return nil, fmt.Errorf("interpreter TrainStep: %v", err)
		}
		res.StepLosses = append(res.StepLosses, l)
		ps := map[string][]float64{}
		for _, p := range c.Graph.Params {
			ps[p.Name] = slices.Clone(it.State[p].Data)
		}
		res.Params = append(res.Params, ps)
	}
	return res, nil
}

// RelErr is max|got-want| / max(max|want|, 1e-6); NaN when got holds a
// NaN or the lengths differ.
func RelErr(got, want []float64) float64 {
	if len(got) != len(want) {
		return math.NaN()
	}
	var diff, scale float64
	for i := range want {
		if math.IsNaN(got[i]) || math.IsInf(got[i], 0) != math.IsInf(want[i], 0) {
			return math.NaN()
		}
		diff = math.Max(diff, math.Abs(got[i]-want[i]))
		scale = math.Max(scale, math.Abs(want[i]))
	}
	return diff / math.Max(scale, 1e-6)
}

// Compare checks a result of the generated code against the
// interpreter's and returns one message per tensor that disagrees,
// naming the op, the example (index, shapes, attributes), the variant,
// the tensor and the error. Besides outputs (which include each example's
// loss term), the loss (whose error is relative to the sum of the terms'
// magnitudes, as the terms may cancel) and params after each step, it
// checks each step's
// update of every param (new - old, which is -lr times the gradient) with
// a tolerance of MaxRelErr of the update plus two float32 ulps of the
// param, the rounding of storing it.
func Compare(c *Case, f *Feed, got, want *Result) []string {
	var msgs []string
	var checkScaled func(tensor, what string, g, w []float64, scale float64)
	bad := func(tensor, format string, args ...any) {
		msgs = append(msgs, c.describeTensor(tensor)+": "+fmt.Sprintf(format, args...))
	}
	check := func(tensor, what string, g, w []float64) {
		checkScaled(tensor, what, g, w, 0)
	}
	checkScaled = func(tensor, what string, g, w []float64, scale float64) {
		for _, v := range w {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				bad(tensor, "%s: the interpreter computed %v; the example's values are outside the op's domain", what, v)
				return
			}
		}
		if len(g) != len(w) {
			bad(tensor, "%s: generated code returned %d values, the interpreter %d", what, len(g), len(w))
			return
		}
		e := RelErr(g, w)
		if scale > 0 {
			e = RelErr(append(slices.Clone(g), scale), append(slices.Clone(w), scale))
		}
		if !(e <= MaxRelErr) {
			i, gv, wv := worst(g, w)
			bad(tensor, "%s: relative error %.3g exceeds %g (worst element %d: generated %g, interpreter %g)", what, e, MaxRelErr, i, gv, wv)
		}
	}
	if len(got.Outputs) != len(want.Outputs) {
		bad("", "generated code returned %d outputs, the interpreter %d", len(got.Outputs), len(want.Outputs))
	} else {
		for i := range want.Outputs {
			name := c.Graph.OutputNames()[i]
			what := fmt.Sprintf("%s %s %s", c.tensors[name].what, name, c.Graph.Outputs()[i].Type)
			check(name, what, got.Outputs[i], want.Outputs[i])
		}
	}
	if !want.HasLoss {
		return msgs
	}
	if !got.HasLoss || len(got.StepLosses) != len(want.StepLosses) || len(got.Params) != len(want.Params) {
		bad("", "generated code ran %d training steps, the interpreter %d", len(got.StepLosses), len(want.StepLosses))
		return msgs
	}
	// The loss sums the examples' terms, which may cancel: its error is
	// measured against the sum of the terms' magnitudes.
	var terms float64
	for i, name := range c.Graph.OutputNames() {
		if c.tensors[name].what == "loss term" && i < len(want.Outputs) && len(want.Outputs[i]) == 1 {
			terms += math.Abs(want.Outputs[i][0])
		}
	}
	checkScaled("", "loss", []float64{got.Loss}, []float64{want.Loss}, terms)
	prev := map[string][]float64{}
	for name, vs := range f.Params {
		prev[name] = toFloat64(vs)
	}
	for s := range want.StepLosses {
		checkScaled("", fmt.Sprintf("step %d loss", s+1), []float64{got.StepLosses[s]}, []float64{want.StepLosses[s]}, terms)
		for _, p := range c.Graph.Params {
			what := fmt.Sprintf("param %s %s after step %d", p.Name, p.Type, s+1)
			g, w := got.Params[s][p.Name], want.Params[s][p.Name]
			check(p.Name, what, g, w)
			if len(g) != len(w) || len(prev[p.Name]) != len(w) {
				continue
			}
			// The update, from the interpreter's previous value on both
			// sides so that earlier steps' differences do not count.
			old := prev[p.Name]
			var diff, scale, mag float64
			for i := range w {
				diff = math.Max(diff, math.Abs((g[i]-old[i])-(w[i]-old[i])))
				scale = math.Max(scale, math.Abs(w[i]-old[i]))
				mag = math.Max(mag, math.Max(math.Abs(w[i]), math.Abs(old[i])))
			}
			tol := MaxRelErr*scale + 2*ulp32(mag)
			if !(diff <= tol) {
				bad(p.Name, "update of param %s %s at step %d (-lr * gradient): max error %.3g exceeds %.3g (largest update %.3g)", p.Name, p.Type, s+1, diff, tol, scale)
			}
			prev[p.Name] = w
		}
	}
	return msgs
}

// worst returns the index and values of the largest difference.
func worst(g, w []float64) (int, float64, float64) {
	best, at := -1.0, 0
	for i := range w {
		d := math.Abs(g[i] - w[i])
		if math.IsNaN(d) {
			return i, g[i], w[i]
		}
		if d > best {
			best, at = d, i
		}
	}
	if len(w) == 0 {
		return 0, 0, 0
	}
	return at, g[at], w[at]
}

// ulp32 is the spacing of float32 values at magnitude x.
func ulp32(x float64) float64 {
	f := float32(math.Abs(x))
	return float64(math.Nextafter32(f, float32(math.Inf(1))) - f)
}

func toFloat64(vs []float32) []float64 {
	out := make([]float64, len(vs))
	for i, v := range vs {
		out[i] = float64(v)
	}
	return out
}

// ModuleRoot walks up from dir to the directory whose go.mod declares the
// flow module.
func ModuleRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && modulePath(data) == ModulePath {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod of module %s in %s or above", ModulePath, dir)
		}
	}
}

// modulePath returns the module path a go.mod declares.
func modulePath(gomod []byte) string {
	return goModDirective(gomod, "module")
}

// goModDirective returns the argument of a one-line go.mod directive.
func goModDirective(gomod []byte, name string) string {
	for _, line := range strings.Split(string(gomod), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == name {
			return strings.Trim(f[1], `"`)
		}
	}
	return ""
}

// Driver is a built driver binary and the cases it runs.
type Driver struct {
	// Path is the driver binary.
	Path string
	// Cases are the cases the driver was built with.
	Cases []*Case
}

// Build writes the cases' packages and a driver main into a new Go module
// in dir, whose go.mod replaces the flow module with root, and builds the
// driver with one `go build`. Packages that fail to compile are left out
// and returned as failures, so that one broken emitter does not hide the
// results of every other op; the error is for a build that fails for any
// other reason.
func Build(ctx context.Context, dir, root string, cases []*Case) (*Driver, []Failure, error) {
	if err := WriteModule(dir, root, tempModule); err != nil {
		return nil, nil, err
	}
	for _, c := range cases {
		pkg := filepath.Join(dir, c.Name)
		if err := os.MkdirAll(pkg, 0o755); err != nil {
			return nil, nil, err
		}
		if err := os.WriteFile(filepath.Join(pkg, c.Name+".go"), c.Code, 0o644); err != nil {
			return nil, nil, err
		}
	}
	var fails []Failure
	live := slices.Clone(cases)
	bin := filepath.Join(dir, "opcheck-driver")
	// A failing package is reported and dropped, then the driver is built
	// again without it; a second round covers packages whose errors the
	// go command reported only after the first were fixed.
	for attempt := 0; ; attempt++ {
		main, err := driverSource(live)
		if err != nil {
			return nil, nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, "main.go"), main, 0o644); err != nil {
			return nil, nil, err
		}
		out, err := GoCommand(ctx, dir, "build", "-o", bin, ".")
		if err == nil {
			return &Driver{Path: bin, Cases: live}, fails, nil
		}
		broken := brokenPackages(out, live, main)
		if len(broken) == 0 || attempt == 2 {
			return nil, fails, fmt.Errorf("go build of the generated packages: %v\n%s", err, out)
		}
		var keep []*Case
		for _, c := range live {
			if msg, ok := broken[c.Name]; ok {
				fails = append(fails, Failure{Op: c.Op.Name, Example: -1, Case: c.String(), Err: fmt.Errorf("the generated Go does not compile:\n%s\nfrom\n%s", msg, c.Source)})
				continue
			}
			keep = append(keep, c)
		}
		live = keep
	}
}

// WriteModule makes dir the root of a new Go module called name, whose
// go.mod requires the flow module and replaces it with root (the
// repository on disk), with root's go version and go.sum, so that
// GoCommand builds code there that imports the flow module offline.
func WriteModule(dir, root, name string) error {
	rootMod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return err
	}
	goVersion := goModDirective(rootMod, "go")
	if goVersion == "" {
		return fmt.Errorf("%s/go.mod has no go directive", root)
	}
	gomod := fmt.Sprintf("module %s\n\ngo %s\n\nrequire %s v0.0.0\n\nreplace %s => %s\n", name, goVersion, ModulePath, ModulePath, root)
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		return err
	}
	if sum, err := os.ReadFile(filepath.Join(root, "go.sum")); err == nil {
		return os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644)
	}
	return nil
}

// GoCommand runs the go command in dir, offline and outside any
// workspace, and returns its combined output.
func GoCommand(ctx context.Context, dir string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOPROXY=off", "GOTOOLCHAIN=local",
		"GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -mod=mod"))
	return cmd.CombinedOutput()
}

var (
	pkgHeader = regexp.MustCompile(`^# ` + regexp.QuoteMeta(tempModule) + `/(\S+)$`)
	mainError = regexp.MustCompile(`^(?:\./)?main\.go:(\d+):`)
	mainEntry = regexp.MustCompile(`^\s*"([^"]+)":\s+func\(\) runtime\.Model`)
)

// brokenPackages maps the cases the go command reported errors for to
// their error text: errors in a case's package, and errors on its line
// of the driver's model table (a package whose Model does not implement
// runtime.Model).
func brokenPackages(out []byte, cases []*Case, main []byte) map[string]string {
	known := map[string]bool{}
	for _, c := range cases {
		known[c.Name] = true
	}
	mainLines := strings.Split(string(main), "\n")
	broken := map[string]string{}
	cur := ""
	for _, line := range strings.Split(string(out), "\n") {
		if m := pkgHeader.FindStringSubmatch(line); m != nil && known[m[1]] {
			cur = m[1]
			broken[cur] += ""
			continue
		}
		if strings.HasPrefix(line, "#") {
			cur = ""
			continue
		}
		if m := mainError.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			if n >= 1 && n <= len(mainLines) {
				if e := mainEntry.FindStringSubmatch(mainLines[n-1]); e != nil && known[e[1]] {
					broken[e[1]] += line + "\n"
				}
			}
			continue
		}
		if cur != "" && line != "" {
			broken[cur] += line + "\n"
		}
	}
	return broken
}

// driverSource renders the driver's main package.
func driverSource(cases []*Case) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("// Code generated by internal/opcheck. DO NOT EDIT.\n\n")
	b.WriteString("// Command opcheck-driver runs generated op models on the values of a\n// request file and prints their results as JSON.\npackage main\n\n")
	b.WriteString("import (\n\t\"encoding/json\"\n\t\"fmt\"\n\t\"math\"\n\t\"os\"\n\n")
	fmt.Fprintf(&b, "\t%q\n", ModulePath+"/runtime")
	for i, c := range cases {
		fmt.Fprintf(&b, "\tm%d %q\n", i, tempModule+"/"+c.Name)
	}
	b.WriteString(")\n\nvar models = map[string]func() runtime.Model{\n")
	for i, c := range cases {
		fmt.Fprintf(&b, "\t%q: func() runtime.Model { return m%d.New() },\n", c.Name, i)
	}
	b.WriteString("}\n")
	b.WriteString(driverBody)
	return format.Source(b.Bytes())
}

// driverBody is the driver's code after its model table. Its request and
// result types are the JSON of wireRequest and wireResult.
const driverBody = `
type request struct {
	Name   string              ` + "`json:\"name\"`" + `
	Params map[string][]uint32 ` + "`json:\"params\"`" + `
	Inputs map[string][]uint32 ` + "`json:\"inputs\"`" + `
	Steps  int                 ` + "`json:\"steps\"`" + `
}

type result struct {
	Name       string                ` + "`json:\"name\"`" + `
	Panic      string                ` + "`json:\"panic,omitempty\"`" + `
	Outputs    [][]uint32            ` + "`json:\"outputs\"`" + `
	HasLoss    bool                  ` + "`json:\"has_loss\"`" + `
	Loss       uint32                ` + "`json:\"loss\"`" + `
	StepLosses []uint32              ` + "`json:\"step_losses\"`" + `
	Params     []map[string][]uint32 ` + "`json:\"params\"`" + `
}

func main() {
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var reqs []request
	if err := json.Unmarshal(data, &reqs); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	results := make([]result, len(reqs))
	for i, r := range reqs {
		fmt.Fprintf(os.Stderr, "opcheck-driver: running %s\n", r.Name)
		results[i] = run(r)
	}
	out, err := json.Marshal(results)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Stdout.Write(out)
}

func decode(bits []uint32) []float32 {
	out := make([]float32, len(bits))
	for i, b := range bits {
		out[i] = math.Float32frombits(b)
	}
	return out
}

func encode(vs []float32) []uint32 {
	out := make([]uint32, len(vs))
	for i, v := range vs {
		out[i] = math.Float32bits(v)
	}
	return out
}

func run(r request) (res result) {
	res.Name = r.Name
	defer func() {
		if e := recover(); e != nil {
			res = result{Name: r.Name, Panic: fmt.Sprint(e)}
		}
	}()
	newModel, ok := models[r.Name]
	if !ok {
		panic("no model " + r.Name)
	}
	m := newModel()
	sig := m.Signature()
	for _, p := range m.Params() {
		vs, ok := r.Params[p.Name]
		if !ok || len(vs) != len(p.Data) {
			panic(fmt.Sprintf("param %s: %d values for %d elements", p.Name, len(vs), len(p.Data)))
		}
		copy(p.Data, decode(vs))
	}
	feed := func(names []string) [][]float32 {
		in := make([][]float32, len(names))
		for i, name := range names {
			in[i] = decode(r.Inputs[name])
		}
		return in
	}
	if len(sig.Outputs) > 0 {
		for _, o := range m.PredictFeed(1, feed(sig.PredictInputs)) {
			res.Outputs = append(res.Outputs, encode(o))
		}
	}
	if sig.Loss == "" {
		return res
	}
	res.HasLoss = true
	res.Loss = math.Float32bits(m.LossFeed(1, feed(sig.TrainInputs)))
	for range r.Steps {
		res.StepLosses = append(res.StepLosses, math.Float32bits(m.TrainFeed(1, feed(sig.TrainInputs))))
		ps := map[string][]uint32{}
		for _, p := range m.Params() {
			ps[p.Name] = encode(p.Data)
		}
		res.Params = append(res.Params, ps)
	}
	return res
}
`

// wireRequest is one entry of the driver's request file.
type wireRequest struct {
	Name   string              `json:"name"`
	Params map[string][]uint32 `json:"params"`
	Inputs map[string][]uint32 `json:"inputs"`
	Steps  int                 `json:"steps"`
}

// wireResult is one entry of the driver's output.
type wireResult struct {
	Name       string                `json:"name"`
	Panic      string                `json:"panic,omitempty"`
	Outputs    [][]uint32            `json:"outputs"`
	HasLoss    bool                  `json:"has_loss"`
	Loss       uint32                `json:"loss"`
	StepLosses []uint32              `json:"step_losses"`
	Params     []map[string][]uint32 `json:"params"`
}

func bits(vs []float32) []uint32 {
	out := make([]uint32, len(vs))
	for i, v := range vs {
		out[i] = math.Float32bits(v)
	}
	return out
}

func fromBits(bs []uint32) []float64 {
	out := make([]float64, len(bs))
	for i, b := range bs {
		out[i] = float64(math.Float32frombits(b))
	}
	return out
}

func bitsMap(m map[string][]float32) map[string][]uint32 {
	out := make(map[string][]uint32, len(m))
	for k, v := range m {
		out[k] = bits(v)
	}
	return out
}

// Run runs every case of the driver on its feed (by case name) in one
// process and returns the generated code's results by case name. A case
// whose generated code panicked, or crashed the driver, has no result; it
// is returned as a failure with the panic or the crash.
func (d *Driver) Run(ctx context.Context, feeds map[string]*Feed) (map[string]*Result, []Failure, error) {
	reqs := make([]wireRequest, 0, len(d.Cases))
	byName := map[string]*Case{}
	for _, c := range d.Cases {
		f, ok := feeds[c.Name]
		if !ok {
			return nil, nil, fmt.Errorf("no feed for case %s", c.Name)
		}
		byName[c.Name] = c
		reqs = append(reqs, wireRequest{Name: c.Name, Params: bitsMap(f.Params), Inputs: bitsMap(f.Inputs), Steps: Steps})
	}
	var fails []Failure
	var wire []wireResult
	// A case that crashes the driver (a panic in a worker goroutine, a
	// fatal runtime error) is reported, named by the driver's progress
	// lines, and the driver runs again without it.
	for {
		out, stderr, err := d.exec(ctx, reqs)
		if err == nil {
			if err := json.Unmarshal(out, &wire); err != nil {
				return nil, nil, fmt.Errorf("decoding the driver's output: %v", err)
			}
			break
		}
		last := lastStarted(stderr)
		at := slices.IndexFunc(reqs, func(r wireRequest) bool { return r.Name == last })
		if at < 0 {
			return nil, nil, fmt.Errorf("running the driver: %v\n%s", err, stderr)
		}
		c := byName[last]
		fails = append(fails, Failure{Op: c.Op.Name, Example: -1, Case: c.String(), Err: fmt.Errorf("the generated code crashed the driver: %v\n%s", err, tail(stderr, 40))})
		reqs = slices.Delete(reqs, at, at+1)
	}
	results := map[string]*Result{}
	for _, w := range wire {
		c, ok := byName[w.Name]
		if !ok {
			return nil, nil, fmt.Errorf("the driver returned an unknown case %q", w.Name)
		}
		if w.Panic != "" {
			fails = append(fails, Failure{Op: c.Op.Name, Example: -1, Case: c.String(), Err: fmt.Errorf("the generated code panicked: %s", w.Panic)})
			continue
		}
		r := &Result{HasLoss: w.HasLoss, Loss: float64(math.Float32frombits(w.Loss))}
		for _, o := range w.Outputs {
			r.Outputs = append(r.Outputs, fromBits(o))
		}
		for _, l := range w.StepLosses {
			r.StepLosses = append(r.StepLosses, float64(math.Float32frombits(l)))
		}
		for _, ps := range w.Params {
			m := map[string][]float64{}
			for k, v := range ps {
				m[k] = fromBits(v)
			}
			r.Params = append(r.Params, m)
		}
		results[w.Name] = r
	}
	return results, fails, nil
}

// exec runs the driver on a request file and returns its standard output
// and standard error.
func (d *Driver) exec(ctx context.Context, reqs []wireRequest) ([]byte, []byte, error) {
	data, err := json.Marshal(reqs)
	if err != nil {
		return nil, nil, err
	}
	reqFile := d.Path + ".request.json"
	if err := os.WriteFile(reqFile, data, 0o644); err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, d.Path, reqFile)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	return stdout.Bytes(), stderr.Bytes(), err
}

// startedPrefix begins the driver's progress line for each case.
const startedPrefix = "opcheck-driver: running "

// lastStarted returns the case the driver's progress lines name last.
func lastStarted(stderr []byte) string {
	last := ""
	for _, line := range strings.Split(string(stderr), "\n") {
		if name, ok := strings.CutPrefix(line, startedPrefix); ok {
			last = name
		}
	}
	return last
}

// tail returns the last n lines of text.
func tail(text []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(text), "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"..."}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}
