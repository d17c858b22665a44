// Package lang is the front end of the flow language: tokens, grammar, AST
// and parse errors for .flow files.
//
// ParseFile turns source text into a *File (see ast.go) in which every node
// carries its position; errors come back as an ErrorList of file:line:col
// diagnostics that say what was expected and what was found. Walk visits an
// AST. The grammar is in docs/grammar.md.
//
// Package lang checks syntax only: it does not check types, shapes, names
// or dtypes — that is the compiler's job.
package lang
