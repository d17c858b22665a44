package tfrecord

import "hash/crc32"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maskDelta is the constant TensorFlow adds when masking a CRC.
const maskDelta = 0xa282ead8

// MaskedCRC returns the masked CRC-32C (Castagnoli) of b, as stored in a
// TFRecord frame.
func MaskedCRC(b []byte) uint32 {
	return mask(crc32.Checksum(b, castagnoli))
}

func mask(crc uint32) uint32 {
	return ((crc >> 15) | (crc << 17)) + maskDelta
}
