package csvdata

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

// mappingVersion is the Version WriteMapping writes and ReadMapping accepts.
const mappingVersion = 1

// Mapping is the class mapping of a categorical label column: Classes[k] is
// the label of class index k. It is saved beside a checkpoint as JSON so that
// eval and predict map labels as training did.
type Mapping struct {
	// Version is the file format's version, 1.
	Version int `json:"version"`
	// Column is the name of the label column the mapping was made from.
	Column string `json:"column"`
	// Classes are the labels in index order; distinct and non-empty.
	Classes []string `json:"classes"`
}

// index returns label → class index.
func (m *Mapping) index() map[string]int32 {
	idx := make(map[string]int32, len(m.Classes))
	for k, c := range m.Classes {
		idx[c] = int32(k)
	}
	return idx
}

// summary lists the classes for an error message, abbreviated when long.
func (m *Mapping) summary() string {
	const most = 10
	q := make([]string, 0, most+1)
	for k, c := range m.Classes {
		if k == most {
			q = append(q, fmt.Sprintf("... %d more", len(m.Classes)-most))
			break
		}
		q = append(q, fmt.Sprintf("%q", c))
	}
	return strings.Join(q, ", ")
}

// check reports whether m is a usable mapping.
func (m *Mapping) check() error {
	if m.Version != mappingVersion {
		return fmt.Errorf("csvdata: mapping version %d, want %d", m.Version, mappingVersion)
	}
	if len(m.Classes) == 0 {
		return fmt.Errorf("csvdata: mapping of column %q has no classes", m.Column)
	}
	seen := make(map[string]int, len(m.Classes))
	for k, c := range m.Classes {
		if c == "" || c != strings.TrimSpace(c) {
			return fmt.Errorf("csvdata: mapping of column %q: class %d %q is empty or has surrounding spaces", m.Column, k, c)
		}
		if p, dup := seen[c]; dup {
			return fmt.Errorf("csvdata: mapping of column %q: class %q is both %d and %d", m.Column, c, p, k)
		}
		seen[c] = k
	}
	return nil
}

// NewMapping returns the mapping of column to classes, as returned by
// Table.Categorical.
func NewMapping(column string, classes []string) *Mapping {
	return &Mapping{Version: mappingVersion, Column: column, Classes: slices.Clone(classes)}
}

// WriteMapping writes m to w as indented JSON, after checking that its
// classes are distinct and non-empty.
func WriteMapping(w io.Writer, m *Mapping) error {
	if err := m.check(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// ReadMapping reads a mapping written by WriteMapping, refusing unknown
// fields, another version, and empty or duplicate classes.
func ReadMapping(r io.Reader) (*Mapping, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var m Mapping
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("csvdata: reading mapping: %w", err)
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	return &m, nil
}
