// Package ir is flow's intermediate representation: a typed dataflow graph
// of ops over tensors, and the op registry that defines every op once —
// its language signature, dtype and shape rule, gradient rule, cost and
// reference evaluation.
//
// The graph is built by the checker (package compiler) from the AST, grown
// by autodiff and the training lowering, rewritten by passes, evaluated by
// the reference interpreter and emitted as Go by package codegen. It does
// not parse source, run kernels or know about Go code generation.
package ir
