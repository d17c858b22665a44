package csvdata

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Names returns the column names in file order.
func (t *Table) Names() []string { return append([]string(nil), t.names...) }

// Len returns the number of data records (rows), not counting a header.
func (t *Table) Len() int { return len(t.lines) }

// Line returns the 1-based physical line record row starts on.
func (t *Table) Line(row int) int { return t.lines[row] }

// fieldLine returns the physical line of column j of record i.
func (t *Table) fieldLine(i, j int) int {
	if fl, ok := t.multi[i]; ok {
		return fl[j]
	}
	return t.lines[i]
}

// Index returns the index of column col: the column of that name, or else,
// when col is a decimal integer in range, the column at that 0-based index.
// The error lists the available columns.
func (t *Table) Index(col string) (int, error) {
	for j, n := range t.names {
		if n == col {
			return j, nil
		}
	}
	if j, err := strconv.Atoi(col); err == nil && j >= 0 && j < len(t.names) {
		return j, nil
	}
	return 0, errorf(t.File, 0, "no column %q (columns: %s)", col, t.available())
}

// available lists the columns for an error message, abbreviated when long.
func (t *Table) available() string {
	const most = 20
	if len(t.names) <= most {
		return strings.Join(t.names, ", ")
	}
	return fmt.Sprintf("%s, ... %d more, %s", strings.Join(t.names[:most-1], ", "), len(t.names)-most, t.names[len(t.names)-1])
}

// Column returns the raw strings of column col (by name or index, as for
// Index), one per record.
func (t *Table) Column(col string) ([]string, error) {
	j, err := t.Index(col)
	if err != nil {
		return nil, err
	}
	return append([]string(nil), t.cols[j]...), nil
}

// describe names column j in an error message.
func (t *Table) describe(j int) string { return fmt.Sprintf("column %d %q", j, t.names[j]) }

// Float32s returns the columns cols (by name or index) as a row-major
// Len()×len(cols) matrix, each field parsed as a float32 after trimming
// spaces. A missing (empty) field, text that is not a number, NaN, an
// infinity, or a value outside the float32 range is an error naming the
// file, line and column.
func (t *Table) Float32s(cols []string) ([]float32, error) {
	if len(cols) == 0 {
		return nil, errorf(t.File, 0, "no columns selected (columns: %s)", t.available())
	}
	idx := make([]int, len(cols))
	for k, c := range cols {
		j, err := t.Index(c)
		if err != nil {
			return nil, err
		}
		idx[k] = j
	}
	n, d := t.Len(), len(idx)
	out := make([]float32, n*d)
	for k, j := range idx {
		for i, s := range t.cols[j] {
			v, err := parseFloat32(s)
			if err != "" {
				return nil, errorf(t.File, t.fieldLine(i, j), "%s: %s", t.describe(j), err)
			}
			out[i*d+k] = v
		}
	}
	return out, nil
}

// parseFloat32 parses s as a finite float32, or says what is wrong with it.
func parseFloat32(s string) (float32, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, "missing value"
	}
	v, err := strconv.ParseFloat(s, 32)
	switch {
	case err != nil && math.IsInf(v, 0) && !isInfText(s):
		return 0, fmt.Sprintf("%q is out of float32 range", s)
	case err != nil:
		return 0, fmt.Sprintf("%q is not a number", s)
	case math.IsNaN(v) || math.IsInf(v, 0):
		return 0, fmt.Sprintf("%q is not a finite number", s)
	}
	return float32(v), ""
}

// isInfText reports whether s spells an infinity rather than overflowing.
func isInfText(s string) bool {
	s = strings.TrimLeft(strings.ToLower(s), "+-")
	return s == "inf" || s == "infinity"
}

// maxIntClasses bounds the identity mapping of integer labels, so that a
// label such as 1000000 cannot ask for a million classes.
const maxIntClasses = 1 << 16

// Categorical maps the labels of column col (by name or index), trimmed of
// spaces, to class indices, and returns the indices (one per record) and the
// classes (classes[k] is the label of index k).
//
// The order does not depend on the order of the rows, so the same data set
// always gives the same mapping:
//   - when every label is a non-negative decimal integer without leading
//     zeros, below 65536, each maps to itself and classes is "0", "1", ...
//     up to the largest label (so a label absent from this file still has
//     its index);
//   - otherwise classes are the distinct labels sorted by byte order.
//
// An empty label is an error naming the file and line.
func (t *Table) Categorical(col string) (indices []int32, classes []string, err error) {
	j, err := t.Index(col)
	if err != nil {
		return nil, nil, err
	}
	seen := make(map[string]bool)
	allInt, maxInt := true, -1
	for i, s := range t.cols[j] {
		s = strings.TrimSpace(s)
		if s == "" {
			return nil, nil, errorf(t.File, t.fieldLine(i, j), "%s: missing label", t.describe(j))
		}
		if seen[s] {
			continue
		}
		seen[s] = true
		if allInt {
			v, ok := smallInt(s)
			allInt = ok
			maxInt = max(maxInt, v)
		}
	}
	if allInt {
		classes = make([]string, maxInt+1)
		for k := range classes {
			classes[k] = strconv.Itoa(k)
		}
	} else {
		for s := range seen {
			classes = append(classes, s)
		}
		slices.Sort(classes)
	}
	m := &Mapping{Column: t.names[j], Classes: classes}
	indices, err = t.apply(j, m)
	return indices, classes, err
}

// smallInt parses s as a canonical decimal integer in [0, maxIntClasses).
func smallInt(s string) (int, bool) {
	if len(s) > 1 && s[0] == '0' {
		return 0, false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	v, err := strconv.Atoi(s)
	if err != nil || v >= maxIntClasses {
		return 0, false
	}
	return v, true
}

// CategoricalWith maps the labels of column col (by name or index), trimmed
// of spaces, to indices with a mapping saved earlier (for eval and predict).
// A label the mapping does not hold, or an empty one, is an error naming the
// file and line.
func (t *Table) CategoricalWith(col string, m *Mapping) ([]int32, error) {
	j, err := t.Index(col)
	if err != nil {
		return nil, err
	}
	return t.apply(j, m)
}

// apply maps column j with m.
func (t *Table) apply(j int, m *Mapping) ([]int32, error) {
	index := m.index()
	out := make([]int32, t.Len())
	for i, s := range t.cols[j] {
		s = strings.TrimSpace(s)
		if s == "" {
			return nil, errorf(t.File, t.fieldLine(i, j), "%s: missing label", t.describe(j))
		}
		k, ok := index[s]
		if !ok {
			return nil, errorf(t.File, t.fieldLine(i, j), "%s: unknown label %q (the mapping has %d classes: %s)", t.describe(j), s, len(m.Classes), m.summary())
		}
		out[i] = k
	}
	return out, nil
}
