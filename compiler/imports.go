package compiler

import (
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/flow-lang/flow/compiler/ir"
	"github.com/flow-lang/flow/lang"
)

// This file loads the files a .flow file imports and builds, for each
// file, the names visible at its file level: its own functions and
// constants and those of the files it imports directly.

// maxImportedFiles bounds how many files one compilation may load.
const maxImportedFiles = 256

// unit is one parsed file and the file-level names visible in it.
type unit struct {
	file   *lang.File
	path   string                  // the cleaned path imports are resolved against
	funcs  map[string]*fnDef       // visible functions: own and imported
	consts map[string]*globalConst // visible constants: own and imported
	own    map[string]lang.Pos     // names declared in this file
}

// fnDef is a function declaration and the file it belongs to.
type fnDef struct {
	decl *lang.FuncDecl
	u    *unit
	// params are the checked parameters; bad is set when the declaration
	// has errors (reported once, by checkFuncDecl).
	params []fnParam
	bad    bool
}

// Evaluation states of a file-level constant.
const (
	constPending = iota
	constEvaluating
	constDone
	constFailed
)

// globalConst is a file-level constant, evaluated on first use.
type globalConst struct {
	decl  *lang.ConstDecl
	u     *unit
	state int
	val   *constVal
}

// importer loads a file and, transitively, its imports.
type importer struct {
	read  func(path string) ([]byte, error)
	units map[string]*unit
	all   []*unit // in load order, the root first
	errs  lang.ErrorList
	// stack holds the files being loaded and the import each is
	// processing, to report cycles.
	stack []importFrame
}

type importFrame struct {
	path string
	imp  *lang.ImportDecl
}

// loadUnits builds the unit of the parsed root file f and loads its
// imports with read (os.ReadFile when nil).
func loadUnits(f *lang.File, read func(string) ([]byte, error)) (*importer, *unit) {
	if read == nil {
		read = os.ReadFile
	}
	im := &importer{read: read, units: map[string]*unit{}}
	root := im.load(filepath.Clean(f.Name), f)
	return im, root
}

// load builds the unit of f (read from path) and loads its imports.
func (im *importer) load(path string, f *lang.File) *unit {
	u := &unit{file: f, path: path, funcs: map[string]*fnDef{}, consts: map[string]*globalConst{}, own: map[string]lang.Pos{}}
	im.units[path] = u
	im.all = append(im.all, u)
	declared := func(id *lang.Ident) bool {
		if p, dup := u.own[id.Name]; dup {
			im.errs.Add(id.Pos, "%s redeclared in this file (first declared at %s)", id.Name, shortPos(p))
			return false
		}
		u.own[id.Name] = id.Pos
		return true
	}
	for _, d := range f.Consts {
		if declared(d.Name) {
			u.consts[d.Name.Name] = &globalConst{decl: d, u: u}
		}
	}
	for _, d := range f.Funcs {
		if def, ok := ir.Lookup(d.Name.Name); ok && !def.Internal {
			im.errs.Add(d.Name.Pos, "fn %s: %s is a built-in op; choose another name", d.Name.Name, d.Name.Name)
			continue
		}
		if declared(d.Name) {
			u.funcs[d.Name.Name] = &fnDef{decl: d, u: u}
		}
	}
	im.stack = append(im.stack, importFrame{path: path})
	seen := map[string]lang.Pos{}
	for _, imp := range f.Imports {
		im.stack[len(im.stack)-1].imp = imp
		target := imp.Path.Value
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(path), target)
		}
		target = filepath.Clean(target)
		if p, dup := seen[target]; dup {
			im.errs.Add(imp.Path.Pos, "%s imported twice (first at %s)", imp.Path.Value, shortPos(p))
			continue
		}
		seen[target] = imp.Path.Pos
		if im.cycle(target, imp) {
			continue
		}
		dep, ok := im.units[target]
		if !ok {
			dep = im.loadFile(target, imp)
			if dep == nil {
				continue
			}
		}
		im.merge(u, dep, imp)
	}
	im.stack = im.stack[:len(im.stack)-1]
	return u
}

// cycle reports an import of a file that is being loaded.
func (im *importer) cycle(target string, imp *lang.ImportDecl) bool {
	for i, fr := range im.stack {
		if fr.path != target {
			continue
		}
		if i == len(im.stack)-1 {
			im.errs.Add(imp.Path.Pos, "import cycle: %s imports itself", filepath.Base(target))
			return true
		}
		names := []string{}
		for _, f := range im.stack[i:] {
			names = append(names, filepath.Base(f.path))
		}
		names = append(names, filepath.Base(target))
		at := im.stack[i].imp
		im.errs.Add(at.Path.Pos, "import cycle: %s", strings.Join(names, " imports "))
		return true
	}
	return false
}

// loadFile reads and parses an imported file; it returns nil after
// reporting an error at the import.
func (im *importer) loadFile(path string, imp *lang.ImportDecl) *unit {
	if len(im.units) >= maxImportedFiles {
		im.errs.Add(imp.Path.Pos, "cannot import %q: more than %d files imported", imp.Path.Value, maxImportedFiles)
		return nil
	}
	src, err := im.read(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			im.errs.Add(imp.Path.Pos, "cannot import %q: file %s not found", imp.Path.Value, path)
		} else {
			im.errs.Add(imp.Path.Pos, "cannot import %q: %v", imp.Path.Value, err)
		}
		return nil
	}
	f, err := lang.ParseFile(path, src)
	if err != nil {
		var list lang.ErrorList
		if errors.As(err, &list) {
			im.errs = append(im.errs, list...)
		} else {
			im.errs.Add(imp.Path.Pos, "cannot import %q: %v", imp.Path.Value, err)
		}
		im.errs.Add(imp.Path.Pos, "cannot import %q: it has errors", imp.Path.Value)
		return nil
	}
	return im.load(path, f)
}

// merge makes the own functions and constants of dep visible in u.
func (im *importer) merge(u, dep *unit, imp *lang.ImportDecl) {
	conflict := func(name string) bool {
		if p, ok := u.own[name]; ok {
			im.errs.Add(imp.Path.Pos, "%s imported from %s is also declared in this file at %s", name, imp.Path.Value, shortPos(p))
			return true
		}
		if fd, ok := u.funcs[name]; ok && fd.u != dep {
			im.errs.Add(imp.Path.Pos, "%s imported from %s is also imported from %s", name, imp.Path.Value, fd.u.file.Name)
			return true
		}
		if gc, ok := u.consts[name]; ok && gc.u != dep {
			im.errs.Add(imp.Path.Pos, "%s imported from %s is also imported from %s", name, imp.Path.Value, gc.u.file.Name)
			return true
		}
		return false
	}
	for _, name := range slices.Sorted(maps.Keys(dep.funcs)) {
		if fd := dep.funcs[name]; fd.u == dep && !conflict(name) {
			u.funcs[name] = fd
		}
	}
	for _, name := range slices.Sorted(maps.Keys(dep.consts)) {
		if gc := dep.consts[name]; gc.u == dep && !conflict(name) {
			u.consts[name] = gc
		}
	}
}
