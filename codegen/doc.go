// Package codegen emits Go source for a compiled flow model: a package
// with a typed API (New, Predict, TrainStep, Loss, Params) whose shapes
// are constants, whose buffers come from one arena allocated on first use,
// and whose heavy ops call package runtime's kernels. It also emits the
// main package of a model binary.
//
// codegen reads IR (package compiler/ir) and writes Go with jennifer; it
// does not check models, evaluate graphs or build binaries.
package codegen
