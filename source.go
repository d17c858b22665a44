// Package flow is the root of the flow module: a compiler from .flow
// dataflow models to Go. The work happens in lang, compiler, codegen and
// runtime; this package only embeds the runtime's source, so that flowc
// can build model binaries from any directory, offline, without the
// module being published.
package flow

import "embed"

// RuntimeSource holds the runtime/ tree as it was when flowc was built.
// flowc copies its non-test Go and assembly files into each model's build
// directory.
//
//go:embed runtime
var RuntimeSource embed.FS
