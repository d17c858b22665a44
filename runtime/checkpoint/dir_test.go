package checkpoint

import (
	"encoding/binary"
	"os"
	"path/filepath"
	goruntime "runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFileNames(t *testing.T) {
	require.Equal(t, "ckpt-0.safetensors", FileName(0))
	require.Equal(t, "ckpt-1200.safetensors", FileName(1200))
	for _, tt := range []struct {
		name string
		step int
		ok   bool
	}{
		{"ckpt-0.safetensors", 0, true},
		{"ckpt-1200.safetensors", 1200, true},
		{"ckpt-007.safetensors", 0, false},
		{"ckpt-.safetensors", 0, false},
		{"ckpt--1.safetensors", 0, false},
		{"ckpt-+1.safetensors", 0, false},
		{"ckpt-1.safetensors.tmp-0123456789abcdef", 0, false},
		{".ckpt-1.safetensors.tmp-0123456789abcdef", 0, false},
		{"ckpt-99999999999999999999999.safetensors", 0, false},
		{"model.safetensors", 0, false},
		{"ckpt-12.json", 0, false},
	} {
		step, ok := ParseFileName(tt.name)
		require.Equal(t, tt.ok, ok, tt.name)
		require.Equal(t, tt.step, step, tt.name)
	}
	target, ok := tempTarget(".ckpt-5.safetensors.tmp-0123456789abcdef")
	require.True(t, ok)
	require.Equal(t, "ckpt-5.safetensors", target)
	for _, bad := range []string{"ckpt-5.safetensors.tmp-0123456789abcdef", ".ckpt-5.safetensors.tmp-0123", ".x.tmp-0123456789abcdeg"} {
		_, ok := tempTarget(bad)
		require.False(t, ok, bad)
	}
}

func TestListPruneRemoveTemps(t *testing.T) {
	dir := t.TempDir()
	list, err := List(filepath.Join(dir, "absent"))
	require.NoError(t, err)
	require.Empty(t, list)
	_, ok, err := Latest(dir)
	require.NoError(t, err)
	require.False(t, ok)

	for _, step := range []int{100, 9, 20, 3} {
		require.NoError(t, Save(filepath.Join(dir, FileName(step)), tinyParams(), nil))
	}
	// A real temporary file of an interrupted save and other files are
	// left alone by List.
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".ckpt-200.safetensors.tmp-00000000deadbeef"), []byte("partial"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".notes.tmp-00000000deadbeef"), nil, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "model.safetensors"), nil, 0o644))

	list, err = List(dir)
	require.NoError(t, err)
	require.Equal(t, []Entry{
		{3, filepath.Join(dir, "ckpt-3.safetensors")},
		{9, filepath.Join(dir, "ckpt-9.safetensors")},
		{20, filepath.Join(dir, "ckpt-20.safetensors")},
		{100, filepath.Join(dir, "ckpt-100.safetensors")},
	}, list, "ordered by step, not by name")
	latest, ok, err := Latest(dir)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, 100, latest.Step)

	removed, err := Prune(dir, 2)
	require.NoError(t, err)
	require.Equal(t, []string{filepath.Join(dir, "ckpt-3.safetensors"), filepath.Join(dir, "ckpt-9.safetensors")}, removed)
	removed, err = Prune(dir, 2)
	require.NoError(t, err)
	require.Empty(t, removed)
	_, err = Prune(dir, 0)
	require.Error(t, err)

	removed, err = RemoveTemps(dir)
	require.NoError(t, err)
	require.Equal(t, []string{filepath.Join(dir, ".ckpt-200.safetensors.tmp-00000000deadbeef")}, removed)
	var names []string
	des, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, de := range des {
		names = append(names, de.Name())
	}
	require.ElementsMatch(t, []string{".notes.tmp-00000000deadbeef", "model.safetensors", "ckpt-20.safetensors", "ckpt-100.safetensors"}, names)
}

// TestListLinks checks that List follows a symbolic link to a checkpoint
// as Load does, and that an entry with a checkpoint's name that cannot be
// read as one (a dangling link, a link loop, a directory) is an error
// naming it, not skipped.
func TestListLinks(t *testing.T) {
	elsewhere := t.TempDir()
	target := filepath.Join(elsewhere, FileName(400))
	require.NoError(t, Save(target, tinyParams(), nil))

	dir := t.TempDir()
	require.NoError(t, Save(filepath.Join(dir, FileName(100)), tinyParams(), nil))
	link := filepath.Join(dir, FileName(400))
	require.NoError(t, os.Symlink(target, link))
	list, err := List(dir)
	require.NoError(t, err)
	require.Equal(t, []Entry{{100, filepath.Join(dir, FileName(100))}, {400, link}}, list)
	latest, ok, err := Latest(dir)
	require.NoError(t, err)
	require.True(t, ok)
	_, err = Load(latest.Path)
	require.NoError(t, err, "the listed path loads")
	// Pruning removes the link, not the file it points to.
	removed, err := Prune(dir, 1)
	require.NoError(t, err)
	require.Equal(t, []string{filepath.Join(dir, FileName(100))}, removed)
	removed, err = Prune(dir, 1)
	require.NoError(t, err)
	require.Empty(t, removed)

	for _, tt := range []struct {
		name string
		make func(path string) error
		want string
	}{
		{"dangling", func(path string) error { return os.Symlink(filepath.Join(elsewhere, "gone.safetensors"), path) },
			" is a symbolic link to " + filepath.Join(elsewhere, "gone.safetensors") + ", which does not exist"},
		{"loop", func(path string) error { return os.Symlink(path, path) }, " is a symbolic link that cannot be followed: "},
		{"directory", func(path string) error { return os.Mkdir(path, 0o755) }, " is a directory, not a checkpoint file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, Save(filepath.Join(dir, FileName(100)), tinyParams(), nil))
			bad := filepath.Join(dir, FileName(500))
			require.NoError(t, tt.make(bad))
			_, err := List(dir)
			require.ErrorContains(t, err, bad+tt.want)
			_, _, err = Latest(dir)
			require.ErrorContains(t, err, bad+tt.want)
			_, err = Prune(dir, 1)
			require.ErrorContains(t, err, bad+tt.want)
		})
	}
}

func TestStrays(t *testing.T) {
	dir := t.TempDir()
	strays, err := Strays(filepath.Join(dir, "absent"))
	require.NoError(t, err)
	require.Empty(t, strays)
	for _, name := range []string{FileName(3), "model.safetensors", "ckpt-0400.safetensors", ".ckpt-5.safetensors.tmp-0123456789abcdef", "notes.txt"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), nil, 0o644))
	}
	strays, err = Strays(dir)
	require.NoError(t, err)
	require.Equal(t, []string{filepath.Join(dir, "ckpt-0400.safetensors"), filepath.Join(dir, "model.safetensors")}, strays)
}

// TestHostileHeaderLengthAllocatesLittle checks that a file claiming a
// huge header is rejected before anything of that size is allocated.
func TestHostileHeaderLengthAllocatesLittle(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []uint64{1 << 62, MaxHeader, MaxHeader - 8, 1 << 30} {
		path := filepath.Join(dir, "hostile.safetensors")
		b := binary.LittleEndian.AppendUint64(nil, n)
		b = append(b, `{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`...)
		require.NoError(t, os.WriteFile(path, b, 0o644))
		var before, after goruntime.MemStats
		goruntime.ReadMemStats(&before)
		_, err := Load(path)
		goruntime.ReadMemStats(&after)
		require.Error(t, err)
		require.Contains(t, err.Error(), path+": ")
		require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20), "header length %d", n)
	}
}
