package checkpoint

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Prefix starts the name of every checkpoint of a training run:
// a run's directory holds ckpt-<step>.safetensors files.
const Prefix = "ckpt-"

// FileName returns the name of the checkpoint taken after step steps,
// e.g. "ckpt-100.safetensors".
func FileName(step int) string { return Prefix + strconv.Itoa(step) + Ext }

// ParseFileName returns the step of a checkpoint file name (a base name,
// not a path) and whether name is one: "ckpt-" followed by a decimal step
// without sign or leading zeros, then ".safetensors". Temporary files
// Save leaves when it is interrupted never match.
func ParseFileName(name string) (int, bool) {
	digits, ok := strings.CutPrefix(name, Prefix)
	if !ok {
		return 0, false
	}
	if digits, ok = strings.CutSuffix(digits, Ext); !ok || digits == "" {
		return 0, false
	}
	if len(digits) > 1 && digits[0] == '0' {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	step, err := strconv.Atoi(digits)
	if err != nil {
		return 0, false
	}
	return step, true
}

// Entry is one checkpoint of a run's directory.
type Entry struct {
	// Step is the number of training steps the checkpoint was taken after.
	Step int
	// Path is the file's path: the directory joined with FileName(Step).
	Path string
}

// List returns the checkpoints in dir, ordered by step, oldest first. It
// looks at names (see ParseFileName), not at contents: an entry with a
// checkpoint's name is one if it is a regular file or a symbolic link to
// one (followed as opening the file follows it). An entry with a
// checkpoint's name that is anything else (a directory, a dangling link,
// a link loop, a named pipe) is an error naming it: it stands where a
// checkpoint should be and cannot be read as one, and skipping it would
// make an older checkpoint, or none, look like the newest. A directory
// that does not exist holds no checkpoints.
func List(dir string) ([]Entry, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var out []Entry
	for _, de := range des {
		step, ok := ParseFileName(de.Name())
		if !ok {
			continue
		}
		path := filepath.Join(dir, de.Name())
		if err := checkRegular(path, de); err != nil {
			return nil, err
		}
		out = append(out, Entry{Step: step, Path: path})
	}
	slices.SortFunc(out, func(a, b Entry) int { return a.Step - b.Step })
	return out, nil
}

// checkRegular checks that the directory entry de at path is a regular
// file, or a symbolic link that leads to one.
func checkRegular(path string, de fs.DirEntry) error {
	if de.Type().IsRegular() {
		return nil
	}
	link := de.Type()&fs.ModeSymlink != 0
	st, err := os.Stat(path) // follows links
	switch {
	case err != nil && link && errors.Is(err, fs.ErrNotExist):
		target, _ := os.Readlink(path)
		return fmt.Errorf("%s is a symbolic link to %s, which does not exist", path, target)
	case err != nil && link:
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // e.g. "too many levels of symbolic links"
		}
		return fmt.Errorf("%s is a symbolic link that cannot be followed: %v", path, err)
	case err != nil:
		return err
	case !st.Mode().IsRegular():
		what := "not a regular file"
		if st.IsDir() {
			what = "a directory"
		}
		return fmt.Errorf("%s is %s, not a checkpoint file", path, what)
	}
	return nil
}

// Strays returns the paths of the entries of dir whose names end in Ext
// but are not checkpoint names (see ParseFileName), such as
// model.safetensors or ckpt-0400.safetensors: safetensors files List does
// not list. Temporary files of interrupted saves are not strays. A
// directory that does not exist holds none.
func Strays(dir string) ([]string, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var out []string
	for _, de := range des {
		if _, ok := ParseFileName(de.Name()); !ok && strings.HasSuffix(de.Name(), Ext) {
			out = append(out, filepath.Join(dir, de.Name()))
		}
	}
	return out, nil
}

// Latest returns the newest checkpoint (the highest step) in dir, and
// false if there is none.
func Latest(dir string) (Entry, bool, error) {
	list, err := List(dir)
	if err != nil || len(list) == 0 {
		return Entry{}, false, err
	}
	return list[len(list)-1], true, nil
}

// Prune deletes all but the keep newest checkpoints of dir (keep >= 1) and
// returns the paths it deleted (of a symbolic link, the link, not its
// target). Call it only after the newest checkpoint
// has been saved: Save makes it durable before returning, so a crash
// during Prune never leaves fewer than one complete checkpoint.
func Prune(dir string, keep int) ([]string, error) {
	if keep < 1 {
		return nil, fmt.Errorf("checkpoint.Prune: keep must be at least 1, got %d", keep)
	}
	list, err := List(dir)
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, e := range list[:max(0, len(list)-keep)] {
		if err := os.Remove(e.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, err
		}
		removed = append(removed, e.Path)
	}
	return removed, nil
}

// RemoveTemps deletes the temporary files that Saves of checkpoints
// (FileName names) interrupted by a crash left in dir, and returns their
// paths. Call it only when no other process is saving into dir.
func RemoveTemps(dir string) ([]string, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var removed []string
	for _, de := range des {
		target, ok := tempTarget(de.Name())
		if !ok || !de.Type().IsRegular() {
			continue
		}
		if _, isCkpt := ParseFileName(target); !isCkpt {
			continue
		}
		path := filepath.Join(dir, de.Name())
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, err
		}
		removed = append(removed, path)
	}
	return removed, nil
}

// tempTarget returns the file name a temporary file of writeAtomic was
// going to become: ".<name>.tmp-<16 hex digits>" → name.
func tempTarget(tmp string) (string, bool) {
	rest, ok := strings.CutPrefix(tmp, ".")
	if !ok {
		return "", false
	}
	i := strings.LastIndex(rest, tmpInfix)
	if i < 0 || len(rest)-i-len(tmpInfix) != 16 {
		return "", false
	}
	if _, err := strconv.ParseUint(rest[i+len(tmpInfix):], 16, 64); err != nil {
		return "", false
	}
	return rest[:i], true
}
