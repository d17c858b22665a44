package codegen

// Emitters of the element-wise functions learning-rate schedules use
// (compiler/ir/ops_schedule.go).
func init() {
	registerEmitters(map[string]emitter{
		"floor": emitScalar("Floor"),
		"cos":   emitScalar("Cos"),
		"sin":   emitScalar("Sin"),
	})
}
