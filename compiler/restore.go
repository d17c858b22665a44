package compiler

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/flow-lang/flow/compiler/ir"
	"github.com/flow-lang/flow/lang"
)

// The restore initializer, param W: f32[784, 10] = restore("w.safetensors"),
// restores a named param from a safetensors checkpoint when the model is
// compiled: the compiler reads the file (relative to the .flow file that
// declares the param), checks the tensor's name, dtype and shape against
// the param, and the values become the param's initial value, built into
// the generated code, so the binary needs no file at run time. Restoring
// a checkpoint into a running model is the generated Restore method's job
// (the binary's --checkpoint flag).

// Restored returns the values a restore initializer read for param p, or
// nil if p is not restored. They are the param's "restored" attribute, a
// []float64 (an attribute type) holding float32 values exactly.
func Restored(p *ir.Node) []float32 {
	vs := p.Attrs.Floats("restored")
	if vs == nil {
		return nil
	}
	out := make([]float32, len(vs))
	for i, v := range vs {
		out[i] = float32(v)
	}
	return out
}

// restore reads the tensor a restore initializer names into attrs; call
// is the initializer's call, whose arguments are bound in attrs.
func (c *checker) restore(d *lang.ParamDecl, t ir.Type, attrs ir.Attrs) bool {
	pos := d.Init.Position()
	file := attrs.String("file", "")
	if file == "" {
		c.errorf(pos, "restore needs the checkpoint file: restore(\"weights.safetensors\")")
		return false
	}
	name := attrs.String("name", "")
	if name == "" {
		name = c.qualify(d.Name.Name)
		attrs["name"] = name
	}
	if t.DType != ir.F32 {
		c.errorf(pos, "restore reads f32 params, but %s is %s", d.Name.Name, t)
		return false
	}
	path := file
	if !filepath.IsAbs(path) && c.u != nil {
		path = filepath.Join(filepath.Dir(c.u.path), path)
	}
	f, err := c.loadCheckpoint(path)
	if err != nil {
		c.errorf(pos, "restore: %v", err)
		return false
	}
	tensor := f.Tensors[name]
	if tensor == nil {
		c.errorf(pos, "restore: %s has no tensor %s%s (it holds %s)", file, name, suggestFrom(name, f.Names), tensorList(f.Names))
		return false
	}
	if tensor.DType != "F32" || !slices.Equal(tensor.Shape, t.Shape.Eval(nil)) {
		c.errorf(pos, "restore: tensor %s in %s is %s%v, but param %s is %s", name, file, tensor.DType, tensor.Shape, d.Name.Name, t)
		return false
	}
	vs := tensor.float32s()
	restored := make([]float64, len(vs))
	for i, v := range vs {
		restored[i] = float64(v)
	}
	attrs["restored"] = restored
	return true
}

// loadCheckpoint reads and parses a checkpoint once per compilation.
func (c *checker) loadCheckpoint(path string) (*stFile, error) {
	if f, ok := c.checkpoints[path]; ok {
		return f, nil
	}
	data, err := c.read(path)
	if err != nil {
		return nil, err
	}
	f, err := parseSafetensors(path, data)
	if err != nil {
		return nil, err
	}
	if c.checkpoints == nil {
		c.checkpoints = map[string]*stFile{}
	}
	c.checkpoints[path] = f
	return f, nil
}

// tensorList names a checkpoint's tensors for a message, at most eight.
func tensorList(names []string) string {
	switch {
	case len(names) == 0:
		return "no tensors"
	case len(names) > 8:
		return strings.Join(names[:8], ", ") + fmt.Sprintf(" and %d more", len(names)-8)
	}
	return strings.Join(names, ", ")
}
