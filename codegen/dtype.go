package codegen

import (
	"fmt"
	"strconv"

	"github.com/dave/jennifer/jen"

	"github.com/flow-lang/flow/compiler/ir"
)

// Generated code stores each dtype in its own Go element type: f32 as
// float32, f64 as float64, i32 as int32, i64 as int64 and bool as bool.
// Every dtype with buffers gets its own arena.

// codeDTypes are the dtypes generated code supports, in arena order.
var codeDTypes = []ir.DType{ir.F32, ir.F64, ir.I32, ir.I64, ir.Bool}

// supportedDType reports whether generated code can hold dt.
func supportedDType(dt ir.DType) bool {
	switch dt {
	case ir.F32, ir.F64, ir.I32, ir.I64, ir.Bool:
		return true
	}
	return false
}

// goType returns the Go element type of dt.
func goType(dt ir.DType) *jen.Statement {
	switch dt {
	case ir.F64:
		return jen.Float64()
	case ir.I32:
		return jen.Int32()
	case ir.I64:
		return jen.Int64()
	case ir.Bool:
		return jen.Bool()
	}
	return jen.Float32()
}

// goTypeName is goType as text, for messages and comments.
func goTypeName(dt ir.DType) string {
	switch dt {
	case ir.F64:
		return "float64"
	case ir.I32:
		return "int32"
	case ir.I64:
		return "int64"
	case ir.Bool:
		return "bool"
	}
	return "float32"
}

// arenaField names the Model field of dt's arena; f32 keeps the plain
// name "arena".
func arenaField(dt ir.DType) string {
	switch dt {
	case ir.F64:
		return "arenaF64"
	case ir.I32:
		return "arenaI32"
	case ir.I64:
		return "arenaI64"
	case ir.Bool:
		return "arenaBool"
	}
	return "arena"
}

// typedLit renders v as a literal of dt: float32(0.5), float64(0.5),
// int32(3), true.
func typedLit(dt ir.DType, v float64) *jen.Statement {
	switch dt {
	case ir.F32:
		return f32Lit(v)
	case ir.F64:
		return jen.Id("float64").Call(jen.Id(strconv.FormatFloat(v, 'g', -1, 64)))
	case ir.I32:
		return jen.Id("int32").Call(jen.Id(strconv.FormatInt(int64(v), 10)))
	case ir.I64:
		return jen.Id("int64").Call(jen.Id(strconv.FormatInt(int64(v), 10)))
	case ir.Bool:
		return jen.Lit(v != 0)
	}
	panic(fmt.Sprintf("codegen: no literal of dtype %s", dt))
}

// elemText renders one element of a constant tensor of dt, untyped (the
// slice literal gives it its type).
func elemText(dt ir.DType, v float64) string {
	switch dt {
	case ir.F64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case ir.I32, ir.I64:
		return strconv.FormatInt(int64(v), 10)
	case ir.Bool:
		return strconv.FormatBool(v != 0)
	}
	return strconv.FormatFloat(float64(float32(v)), 'g', -1, 32)
}

// usedDTypes lists the dtypes that have buffers, in arena order.
func (c *gen) usedDTypes() []ir.DType {
	var out []ir.DType
	for _, dt := range codeDTypes {
		for _, n := range c.plan.bufs {
			if n.Type.DType == dt {
				out = append(out, dt)
				break
			}
		}
	}
	return out
}
