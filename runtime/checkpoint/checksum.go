package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
)

// This file holds the header's checksum (metadata HeaderChecksumKey): how
// Encode computes it and how Load finds and verifies it. The checksum
// lives in the metadata, the one place of a safetensors header that other
// readers ignore, so the file stays an ordinary safetensors file.

// zeroSum is what the header checksum's digits read as while it is
// computed.
const zeroSum = "00000000"

// headerSum returns the CRC-32C of the 8-byte header length and the
// header hdr, with the 8 bytes at hdr[at:] read as zeroSum.
func headerSum(hdr []byte, at int) uint32 {
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(hdr)))
	sum := crc32.Update(0, castagnoli, lenBuf[:])
	sum = crc32.Update(sum, castagnoli, hdr[:at])
	sum = crc32.Update(sum, castagnoli, []byte(zeroSum))
	return crc32.Update(sum, castagnoli, hdr[at+len(zeroSum):])
}

// verifyHeaderSum checks the header hdr against the checksum whose digits
// are at hdr[at:at+8] (sumDigits checked they are 8 hex digits).
func verifyHeaderSum(hdr []byte, at int) error {
	var want uint32
	fmt.Sscanf(string(hdr[at:at+len(zeroSum)]), "%08x", &want)
	if got := headerSum(hdr, at); got != want {
		return fmt.Errorf("the header is corrupted (its CRC-32C is %08x, metadata %s says %08x)", got, HeaderChecksumKey, want)
	}
	return nil
}

// sumDigits returns the offset in meta, the raw JSON of a header's
// metadata (a valid JSON object), of the 8 hex digits of the value of
// HeaderChecksumKey, or -1 if there is no such entry. The value must be
// written as exactly 8 lowercase hex digits, without escapes, so that
// the bytes checked are the bytes written; and no key may repeat, so that
// the entry found is the one a JSON reader sees.
func sumDigits(meta []byte) (int, error) {
	dec := json.NewDecoder(bytes.NewReader(meta))
	if _, err := dec.Token(); err != nil { // '{'
		return -1, err
	}
	at := -1
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return -1, err
		}
		key, _ := tok.(string)
		if seen[key] {
			return -1, fmt.Errorf("%s names %q twice", metadataKey, key)
		}
		seen[key] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return -1, err
		}
		if key != HeaderChecksumKey {
			continue
		}
		if !isSumLiteral(v) {
			return -1, fmt.Errorf("metadata %s is %s, want 8 lowercase hex digits: the header is corrupted", HeaderChecksumKey, v)
		}
		at = int(dec.InputOffset()) - len(v) + 1 // after the quote
	}
	return at, nil
}

// isSumLiteral reports whether v is a JSON string of exactly 8 lowercase
// hex digits, written without escapes.
func isSumLiteral(v []byte) bool {
	if len(v) != len(zeroSum)+2 || v[0] != '"' || v[len(v)-1] != '"' {
		return false
	}
	for _, c := range v[1 : len(v)-1] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
