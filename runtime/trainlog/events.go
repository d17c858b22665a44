package trainlog

import (
	"encoding/binary"
	"hash/crc32"
	"math"

	"github.com/flow-lang/flow/runtime"
)

// This file encodes TensorBoard event files: a sequence of TFRecords, each
// holding one serialized tensorflow.Event protocol buffer. The field
// numbers below are those of the TensorFlow/TensorBoard protos
// (tensorboard/compat/proto/*.proto, mirrored from tensorflow/core):
//
//	event.proto:        message Event { double wall_time = 1; int64 step = 2;
//	                      oneof what { string file_version = 3; bytes graph_def = 4;
//	                      Summary summary = 5; ...; SessionLog session_log = 7; ... } }
//	                    message SessionLog { SessionStatus status = 1; ... }  // START = 1
//	summary.proto:      message Summary { repeated Value value = 1; }
//	                    message Summary.Value { string tag = 1;
//	                      oneof value { float simple_value = 2; ... } }
//	graph.proto:        message GraphDef { repeated NodeDef node = 1; ... }
//	node_def.proto:     message NodeDef { string name = 1; string op = 2;
//	                      repeated string input = 3; string device = 4;
//	                      map<string, AttrValue> attr = 5; }
//	attr_value.proto:   message AttrValue { oneof value { ListValue list = 1;
//	                      DataType type = 6; TensorShapeProto shape = 7; ... } }
//	                    message AttrValue.ListValue { repeated TensorShapeProto shape = 7; ... }
//	tensor_shape.proto: message TensorShapeProto { repeated Dim dim = 2; }
//	                    message TensorShapeProto.Dim { int64 size = 1; }
//	types.proto:        enum DataType { DT_FLOAT = 1; DT_DOUBLE = 2; DT_INT32 = 3;
//	                      DT_INT8 = 6; DT_INT64 = 9; DT_BOOL = 10; DT_BFLOAT16 = 14;
//	                      DT_HALF = 19; }
//
// A map field is encoded as a repeated message with key = 1 and value = 2.
const (
	eventWallTime    = 1
	eventStep        = 2
	eventFileVersion = 3
	eventGraphDef    = 4
	eventSummary     = 5
	eventSessionLog  = 7

	sessionLogStatus = 1
	sessionLogStart  = 1

	summaryValue      = 1
	valueTag          = 1
	valueSimpleValue  = 2
	graphDefNode      = 1
	nodeDefName       = 1
	nodeDefOp         = 2
	nodeDefInput      = 3
	nodeDefDevice     = 4
	nodeDefAttr       = 5
	mapKey            = 1
	mapValue          = 2
	attrValueList     = 1
	attrValueType     = 6
	listValueShape    = 7
	tensorShapeDim    = 2
	tensorShapeDimLen = 1
)

// FileVersion is the file_version string of the first record of every
// event file: the current version of the event file format.
const FileVersion = "brain.Event:2"

// dataTypes maps the language's dtypes to tensorflow.DataType values.
var dataTypes = map[string]int64{
	"f32":  1,  // DT_FLOAT
	"f64":  2,  // DT_DOUBLE
	"i32":  3,  // DT_INT32
	"i8":   6,  // DT_INT8
	"i64":  9,  // DT_INT64
	"bool": 10, // DT_BOOL
	"bf16": 14, // DT_BFLOAT16
	"f16":  19, // DT_HALF
}

// castagnoli is the CRC-32C table TFRecord checksums use.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maskedCRC returns the TFRecord checksum of b: the CRC-32C rotated right
// by 15 bits plus a constant, so that checksums of data holding checksums
// stay well distributed.
func maskedCRC(b []byte) uint32 {
	c := crc32.Checksum(b, castagnoli)
	return (c>>15 | c<<17) + 0xa282ead8
}

// appendRecord appends data to dst in TFRecord framing: the length as a
// little-endian uint64, the masked CRC-32C of those 8 bytes, the data, and
// the masked CRC-32C of the data.
func appendRecord(dst, data []byte) []byte {
	var hdr [8]byte
	binary.LittleEndian.PutUint64(hdr[:], uint64(len(data)))
	dst = append(dst, hdr[:]...)
	dst = binary.LittleEndian.AppendUint32(dst, maskedCRC(hdr[:]))
	dst = append(dst, data...)
	return binary.LittleEndian.AppendUint32(dst, maskedCRC(data))
}

// encodeFileVersionEvent encodes the first event of a file.
func encodeFileVersionEvent(p *pbuf, wall float64) {
	p.reset()
	p.doubleField(eventWallTime, wall)
	p.stringField(eventFileVersion, FileVersion)
}

// encodeSessionStartEvent encodes a SessionLog START event at step. When
// TensorBoard reads it, it discards the events of earlier files in the
// same directory with a step at or after this one: the steps a resumed run
// recomputes after the checkpoint it resumed from.
func encodeSessionStartEvent(p *pbuf, wall float64, step int64) {
	p.reset()
	p.doubleField(eventWallTime, wall)
	if step != 0 {
		p.int64Field(eventStep, step)
	}
	m := p.begin(eventSessionLog)
	p.int64Field(sessionLogStatus, sessionLogStart)
	p.end(m)
}

// encodeGraphEvent encodes an event holding graph as a serialized GraphDef.
func encodeGraphEvent(p *pbuf, wall float64, graph []runtime.GraphNode) {
	var g pbuf
	encodeGraphDef(&g, graph)
	p.reset()
	p.doubleField(eventWallTime, wall)
	p.bytesField(eventGraphDef, g.b)
}

// encodeGraphDef encodes graph as a tensorflow.GraphDef: one NodeDef per
// node with its name, op, inputs and device, and the attrs "dtype" (when
// the dtype has a TensorFlow equivalent) and "_output_shapes" (which
// TensorBoard shows on the graph's edges; -1 is an unknown dimension).
func encodeGraphDef(p *pbuf, graph []runtime.GraphNode) {
	for _, n := range graph {
		nd := p.begin(graphDefNode)
		p.stringField(nodeDefName, n.Name)
		p.stringField(nodeDefOp, n.Op)
		for _, in := range n.Inputs {
			p.stringField(nodeDefInput, in)
		}
		if n.Device != "" {
			p.stringField(nodeDefDevice, n.Device)
		}
		if dt, ok := dataTypes[n.DType]; ok {
			e := p.begin(nodeDefAttr)
			p.stringField(mapKey, "dtype")
			v := p.begin(mapValue)
			p.int64Field(attrValueType, dt)
			p.end(v)
			p.end(e)
		}
		if n.DType != "" || len(n.Shape) > 0 {
			e := p.begin(nodeDefAttr)
			p.stringField(mapKey, "_output_shapes")
			v := p.begin(mapValue)
			l := p.begin(attrValueList)
			s := p.begin(listValueShape)
			for _, d := range n.Shape {
				dim := p.begin(tensorShapeDim)
				if d < 0 {
					d = -1
				}
				if d != 0 {
					p.int64Field(tensorShapeDimLen, int64(d))
				}
				p.end(dim)
			}
			p.end(s)
			p.end(l)
			p.end(v)
			p.end(e)
		}
		p.end(nd)
	}
}

// scalarTags returns the summary tags Step writes for run, in Scalars
// field order. The loss's says its unit, so that TensorBoard never draws
// losses per batch and per example as one curve.
func scalarTags(run Run) [4]string {
	loss := "loss_per_batch"
	if run.LossPerExample {
		loss = "loss_per_example"
	}
	return [4]string{loss, "accuracy", "learning_rate", "examples_per_sec"}
}

// encodeScalarsEvent encodes an event with one simple_value, tagged with
// tags[i], per value vals[i] that is not NaN, and reports whether there
// was any.
func encodeScalarsEvent(p *pbuf, wall float64, step int64, vals *[4]float64, tags *[4]string) bool {
	p.reset()
	p.doubleField(eventWallTime, wall)
	if step != 0 {
		p.int64Field(eventStep, step)
	}
	s := p.begin(eventSummary)
	any := false
	for i, v := range vals {
		if math.IsNaN(v) {
			continue
		}
		any = true
		m := p.begin(summaryValue)
		p.stringField(valueTag, tags[i])
		p.floatField(valueSimpleValue, float32(v))
		p.end(m)
	}
	p.end(s)
	return any
}
