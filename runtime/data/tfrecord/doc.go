// Package tfrecord reads and writes TensorFlow's TFRecord files and decodes
// and encodes the tf.train.Example records they usually hold.
//
// A TFRecord file is a sequence of records, each framed as
//
//	uint64 length (little-endian)
//	uint32 masked CRC-32C of the 8 length bytes
//	[length]byte data
//	uint32 masked CRC-32C of the data
//
// where a masked CRC is ((crc >> 15) | (crc << 17)) + 0xa282ead8. A whole file
// may be GZIP-compressed (TFRecordOptions compression "GZIP"). Reader checks
// both CRCs, bounds every allocation by a maximum record size, and reports a
// truncated or corrupt record with the file name, record index and byte
// offset; Writer produces files TensorFlow reads.
//
// Example and Feature mirror tensorflow/core/example/example.proto and
// feature.proto. DecodeExample and Example.Unmarshal parse the protobuf wire
// format by hand (packed and unpacked repeated scalars, unknown fields
// skipped, malformed input rejected with an error, never a panic), and
// Example.Marshal writes the canonical encoding with features sorted by name.
//
// The package is not a general protobuf library: it knows only Example. It
// does not read SequenceExample feature lists (their context features decode
// as an Example's), ZLIB-compressed files, or the group wire types.
package tfrecord
