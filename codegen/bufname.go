package codegen

import (
	"strconv"
	"strings"

	"github.com/flow-lang/flow/compiler/ir"
)

// bufNames names the buffers' Model fields and program locals, bufs in
// graph order: a node's source name as a Go identifier (goName: h1, and
// hs_z for hs/z) when it has one, that of the value it is the gradient
// of with _grad (hs_z_grad, ir.Node.GradOf) when it is one, else t and
// its ID. A source name that
// several buffers share (a loop body's h and its copies), or that could
// clash with a name generated code declares or refers to (reservedName,
// the inputs' and sizes' Go names), takes the node's ID as a
// suffix, h_35, with "_" appended while that is taken too. Names used
// once are given first, so that a suffixed name never takes one of
// them. The result depends only on bufs and the names taken.
func (nm *names) bufNames(bufs []*ir.Node) map[*ir.Node]string {
	taken := map[string]bool{"n": true, "m": true}
	for _, s := range nm.symIdent {
		taken[s] = true
	}
	for _, s := range nm.argNames {
		taken[s] = true
	}
	want := map[*ir.Node]string{}
	count := map[string]int{}
	for _, n := range bufs {
		if s := sourceName(n); s != "" {
			want[n] = s
			count[s]++
		}
	}
	out := map[*ir.Node]string{}
	var suffixed []*ir.Node
	for _, n := range bufs {
		s, ok := want[n]
		switch {
		case !ok:
			out[n] = "t" + strconv.Itoa(n.ID)
		case count[s] == 1 && !taken[s] && !reservedName(s):
			taken[s] = true
			out[n] = s
		default:
			suffixed = append(suffixed, n)
		}
	}
	for _, n := range suffixed {
		s := want[n] + "_" + strconv.Itoa(n.ID)
		for taken[s] {
			s += "_"
		}
		taken[s] = true
		out[n] = s
	}
	return out
}

// sourceName is the Go identifier n's buffer is named after: n's source
// name, or that of the value n is the gradient of with _grad; "" when n
// has neither.
func sourceName(n *ir.Node) string {
	switch {
	case n.Name != "":
		return goName(n.Name)
	case n.GradOf != nil && n.GradOf.Name != "":
		return goName(n.GradOf.Name) + "_grad"
	}
	return ""
}

// bufField is the Model field holding n's buffer, and the local that
// program functions read it through.
func (p *plan) bufField(n *ir.Node) string {
	if s, ok := p.bufName[n]; ok {
		return s
	}
	return "t" + strconv.Itoa(n.ID)
}

// reservedName reports whether a buffer may not be named s: a Go
// keyword, a local, package-level name, method or field generated code
// declares, or a name such as t12, p0, c3, i18, loop13 or gemmPlan4 that
// it generates.
func reservedName(s string) bool {
	return goKeywords[s] || generatedLocals[s] || generatedNames[s] || numbered(s)
}

// generatedNames are the identifiers generated code declares or refers
// to that generatedLocals does not list: the receiver m, the batch size
// n, the Model's methods and fields, package-level names, the programs'
// functions, imports, predeclared names, and the fields of the runtime's
// types that its literals set.
var generatedNames = map[string]bool{
	"m": true, "n": true, "Model": true, "Signature": true, "Run": true, "main": true, "graphJSON": true, "sym": true, "training": true,
	"layout": true, "shared": true, "forward": true, "predict": true, "loss": true, "train": true,
	"Predict": true, "PredictFeed": true, "Loss": true, "LossFeed": true, "TrainStep": true, "TrainFeed": true,
	"Save": true, "Restore": true, "Params": true, "os": true, "int8": true, "int16": true, "uint": true,
	"uint8": true, "uint16": true, "uint32": true, "uint64": true, "byte": true, "rune": true, "string": true,
	"error": true, "any": true, "complex64": true, "complex128": true, "uintptr": true, "iota": true,
	"real": true, "imag": true, "complex": true, "delete": true, "print": true, "println": true, "recover": true,
	"close": true, "arenaF64": true, "arenaI32": true, "arenaI64": true, "arenaBool": true,
	"ArenaBytes": true, "Batch": true, "Bytes": true, "C": true, "DType": true, "Data": true, "DilationH": true,
	"DilationW": true, "Dims": true, "Estimates": true, "FitsInt": true, "Graph": true, "InC": true, "InH": true,
	"InW": true, "Inputs": true, "KH": true, "KW": true, "Kernel": true, "LossReduction": true, "Memory": true,
	"Micros": true, "Name": true, "Optimizer": true, "OutC": true, "OutH": true, "OutW": true, "Outputs": true,
	"PadLeft": true, "PadTop": true, "ParamBytes": true, "ParamCount": true, "Pow": true, "PredictInputs": true,
	"Program": true, "Relu": true, "Shape": true, "Source": true, "StrideH": true, "StrideW": true, "Syms": true,
	"Terms": true, "Threads": true, "TrainInputs": true,
}

// numberedPrefixes start the generated names that end in a number: a
// buffer with no source name (t12), a param's local (p0), a constant
// (c3), a loop counter (i18), an output (o1), a parallel loop's field
// and type (l13, loop13), a kernel plan (gemmPlan4, convPlan9), the
// feeds' conversions (feedIn0, feedOut1).
var numberedPrefixes = []string{"t", "p", "c", "i", "o", "l", "loop", "task", "gemmPlan", "convPlan", "feedIn", "feedOut"}

// numbered reports whether s is one of numberedPrefixes followed by
// digits only.
func numbered(s string) bool {
	for _, p := range numberedPrefixes {
		if rest, ok := strings.CutPrefix(s, p); ok && rest != "" && strings.Trim(rest, "0123456789") == "" {
			return true
		}
	}
	return false
}
