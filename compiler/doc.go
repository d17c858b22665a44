// Package compiler turns parsed .flow models into typed, differentiated IR
// graphs and evaluates them.
//
// It holds the checker (AST → ir.Module with dtype and shape inference,
// imports, named constants, and functions expanded at each call),
// reverse-mode autodiff, the lowering of train statements into parameter
// updates, graph passes, and the reference interpreter that serves as the
// oracle for generated code. It does not parse (package lang), define ops
// (package ir) or generate Go (package codegen).
package compiler
