package npy

import (
	"archive/zip"
	"fmt"
	"io"
	"strings"
)

// ReadNPZ reads every array in the .npz archive at path, stored or deflated
// (np.savez or np.savez_compressed), keyed by entry name without ".npy":
// the entry "x.npy" is the array "x". At most DefaultLimit bytes of array
// data are read in total.
func ReadNPZ(path string) (map[string]*Array, error) {
	return ReadNPZLimit(path, DefaultLimit)
}

// ReadNPZLimit is ReadNPZ with the total array data bounded by limit bytes.
// The bound covers the archive's arrays together, so a small compressed
// file cannot expand past it.
func ReadNPZLimit(path string, limit int64) (map[string]*Array, error) {
	z, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer z.Close()
	out := map[string]*Array{}
	for _, f := range z.File {
		if strings.HasSuffix(f.Name, "/") {
			continue // a directory
		}
		key, ok := strings.CutSuffix(f.Name, ".npy")
		if !ok {
			return nil, fmt.Errorf("%s: entry %s: not a .npy entry", path, f.Name)
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("%s: entry %s: duplicate entry", path, f.Name)
		}
		a, err := readEntry(f, limit)
		if err != nil {
			return nil, fmt.Errorf("%s: entry %s: %w", path, f.Name, err)
		}
		limit -= int64(len(a.data))
		out[key] = a
	}
	return out, nil
}

// readEntry reads one archive entry, whose declared uncompressed size the
// array must fill exactly (archive/zip refuses to read past it).
func readEntry(f *zip.File, limit int64) (*Array, error) {
	if f.UncompressedSize64 > 1<<62 {
		return nil, fmt.Errorf("declared size %d is too large", f.UncompressedSize64)
	}
	r, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	a, err := read(r, limit, int64(f.UncompressedSize64))
	if err != nil {
		return nil, err
	}
	// Reading to the end makes archive/zip check the entry's CRC-32.
	if _, err := io.Copy(io.Discard, r); err != nil {
		return nil, err
	}
	return a, nil
}
