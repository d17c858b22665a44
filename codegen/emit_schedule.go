package codegen

import "github.com/flow-lang/flow/compiler/ir"

// Emitters of the element-wise functions learning-rate schedules use
// (compiler/ir/ops_schedule.go).
func init() {
	registerEmitters(map[*ir.OpDef]emitter{
		ir.Floor: emitScalar("Floor"),
		ir.Cos:   emitScalar("Cos"),
		ir.Sin:   emitScalar("Sin"),
	})
}
