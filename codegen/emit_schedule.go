package codegen

// Emitters of the element-wise functions learning-rate schedules use
// (compiler/ir/ops_schedule.go).
func init() {
	registerEmitters(map[string]emitter{
		"floor": emitElementwise(runtimeCall("Floor")),
		"cos":   emitElementwise(runtimeCall("Cos")),
		"sin":   emitElementwise(runtimeCall("Sin")),
	})
}
