package codegen

import (
	"fmt"

	"github.com/dave/jennifer/jen"
)

// field is one key: value element of a keyed struct literal.
type field struct {
	key   string
	value jen.Code
}

// keyed renders the braces and elements of a keyed struct literal, fs in
// the order given, which is to be the order the struct declares its
// fields (a jen.Dict would sort them by name): on one line for a single
// field, else one a line.
func keyed(fs ...field) *jen.Statement {
	elems := make([]jen.Code, len(fs))
	for i, f := range fs {
		elems[i] = jen.Id(f.key).Op(":").Add(f.value)
	}
	return jen.Custom(jen.Options{Open: "{", Close: "}", Separator: ",", Multi: len(fs) > 1}, elems...)
}

// runtimeFields lists the fields of each runtime struct type that
// generated code writes keyed literals of, in the order the type's
// declaration in runtime/ gives them (TestRuntimeLiteralsInDeclarationOrder
// checks the lists against the types, and the generated goldens'
// literals against the lists).
var runtimeFields = map[string][]string{
	"Signature": {"Model", "Source", "Inputs", "Outputs", "Params", "PredictInputs", "TrainInputs", "Loss",
		"LossReduction", "Optimizer", "Syms", "ParamCount", "Memory", "MaxBatch", "Estimates", "Graph"},
	"TensorSpec": {"Name", "DType", "Shape", "Dims"},
	"Param":      {"Name", "Shape", "Data"},
	"Estimate":   {"Program", "Batch", "Micros"},
	"Memory":     {"ParamBytes", "ArenaBytes", "Syms", "Terms"},
	"MemoryTerm": {"Bytes", "Pow"},
	"ConvShape": {"Batch", "InH", "InW", "InC", "KH", "KW", "OutC", "OutH", "OutW",
		"StrideH", "StrideW", "DilationH", "DilationW", "PadTop", "PadLeft"},
	"PoolShape": {"Batch", "InH", "InW", "C", "KH", "KW", "StrideH", "StrideW", "OutH", "OutW", "PadTop", "PadLeft"},
	"GemmPlan":  {"Kernel", "Threads", "Relu"},
	"ConvPlan":  {"Kernel", "Threads", "Relu"},
}

// runtimeKeyed renders the braces and elements of a keyed literal of the
// runtime struct type typ setting the fields of vs, in typ's declaration
// order (runtimeFields). A field runtimeFields does not list for typ is
// an internal error, and panics.
func runtimeKeyed(typ string, vs map[string]jen.Code) *jen.Statement {
	order, ok := runtimeFields[typ]
	if !ok {
		panic(fmt.Sprintf("codegen: internal error: no field order for runtime.%s", typ))
	}
	fs := make([]field, 0, len(vs))
	for _, k := range order {
		if v, ok := vs[k]; ok {
			fs = append(fs, field{k, v})
		}
	}
	if len(fs) != len(vs) {
		panic(fmt.Sprintf("codegen: internal error: runtime.%s literal sets fields outside %v", typ, order))
	}
	return keyed(fs...)
}
