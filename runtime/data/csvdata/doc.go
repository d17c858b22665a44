// Package csvdata reads CSV and TSV tabular data for training, evaluation and
// prediction: a whole file into a Table of raw strings per column, from which
// a binding layer takes float32 feature matrices (Table.Float32s) and int32
// class indices (Table.Categorical, Table.CategoricalWith).
//
// Every error about the data names the file and the 1-based physical line in
// it ("iris.csv:7: column 2 "c2": missing value"), as *Error. Missing, empty,
// non-numeric, NaN and infinite values are refused, never imputed; ragged
// rows, duplicate header names, empty and header-only files are refused too.
//
// Class labels map to indices by a rule that does not depend on row order
// (see Table.Categorical), and the mapping is saved as JSON beside a
// checkpoint (WriteMapping, ReadMapping) so that eval and predict map labels
// the same way and refuse labels they have never seen.
//
// The scikit-learn CSVs (iris.csv, wine_data.csv, breast_cancer.csv) start with
// a line "n_samples,n_features,class names..." rather than column names:
// read them with Options{SkipLines: 1} and parse Table.Preamble[0] with
// ParseSklearnHeader.
//
// It is not a streaming reader: a Table holds the whole file, bounded by
// Options.MaxBytes and Options.MaxRecords. It does not shuffle or batch
// (package data does), nor decompress.
package csvdata
