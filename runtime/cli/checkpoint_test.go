package cli

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/flow-lang/flow/runtime"
	"github.com/flow-lang/flow/runtime/checkpoint"
	"github.com/stretchr/testify/require"
)

// digitsJSON writes n synthetic digits as a predict input file.
func digitsJSON(t *testing.T, n int) string {
	t.Helper()
	im, _ := syntheticDigits(rand.New(rand.NewPCG(7, 8)), n)
	examples := make([][]float64, n)
	for i := range examples {
		for _, p := range im.Image(i) {
			examples[i] = append(examples[i], float64(p)/255)
		}
	}
	b, err := json.Marshal(examples)
	require.NoError(t, err)
	return writeFile(t, string(b))
}

// requireZeroParams checks that m still has its initial (zero) params.
func requireZeroParams(t *testing.T, m runtime.Model) {
	t.Helper()
	for _, p := range m.Params() {
		for _, v := range p.Data {
			require.Zero(t, v, "param %s changed", p.Name)
		}
	}
}

func TestCheckpointTrainThenPredict(t *testing.T) {
	data := writeData(t)
	ckDir := filepath.Join(t.TempDir(), "run", "ckpt") // created by train
	trained := newSoftmaxModel()
	code, stdout, stderr := run(trained, "train", "--data", data, "--steps", "30", "--batch", "20", "--seed", "4",
		"--checkpoint", ckDir, "--json", "--quiet")
	require.Equal(t, ExitOK, code, stderr)
	var res map[string]any
	require.NoError(t, json.Unmarshal([]byte(lastLine(stdout)), &res), stdout)
	path := filepath.Join(ckDir, "ckpt-30.safetensors")
	require.Equal(t, path, res["checkpoint"])

	// The file holds the trained params, bit for bit, and the run's figures.
	f, err := checkpoint.Load(path)
	require.NoError(t, err)
	require.Equal(t, "FakeSoftmax", f.Metadata["model"])
	require.Equal(t, "30", f.Metadata["step"])
	require.Equal(t, "20", f.Metadata["batch"])
	require.Equal(t, "4", f.Metadata["seed"])
	require.Equal(t, "sgd(lr=0.5)", f.Metadata["optimizer"])
	acc, err := strconv.ParseFloat(f.Metadata["test_accuracy"], 64)
	require.NoError(t, err)
	require.Equal(t, res["test_accuracy"], acc)
	loss, err := strconv.ParseFloat(f.Metadata["final_loss_per_example"], 64)
	require.NoError(t, err)
	require.Equal(t, res["final_loss_per_example"], loss)
	for _, p := range trained.Params() {
		tn := f.Tensor(p.Name)
		require.NotNil(t, tn, p.Name)
		vals, err := tn.Float32s()
		require.NoError(t, err)
		require.Equal(t, p.Data, vals, p.Name)
	}
	require.NotZero(t, trained.w[784*5+3], "training changed the params")

	// A fresh model restored from the checkpoint predicts what the trained one does.
	input := digitsJSON(t, 7)
	code, want, stderr := run(trained, "predict", "--input", input)
	require.Equal(t, ExitOK, code, stderr)
	for _, arg := range []string{ckDir, path} {
		fresh := newSoftmaxModel()
		code, got, stderr := run(fresh, "predict", "--checkpoint", arg, "--input", input)
		require.Equal(t, ExitOK, code, stderr)
		require.Equal(t, want, got)
	}
	code, untrained, _ := run(newSoftmaxModel(), "predict", "--input", input)
	require.Equal(t, ExitOK, code)
	require.NotEqual(t, want, untrained, "without --checkpoint the params are the initial ones")

	// Image files too.
	img := image.NewGray(image.Rect(0, 0, 28, 28))
	for x := 4; x < 24; x++ {
		img.SetGray(x, 9, color.Gray{255})
		img.SetGray(x, 10, color.Gray{255})
	}
	png := filepath.Join(t.TempDir(), "band.png")
	require.NoError(t, os.WriteFile(png, encode(t, img, "png"), 0o644))
	code, want, stderr = run(trained, "predict", png)
	require.Equal(t, ExitOK, code, stderr)
	code, got, stderr := run(newSoftmaxModel(), "predict", png, "--checkpoint", ckDir)
	require.Equal(t, ExitOK, code, stderr)
	require.Equal(t, want, got)

	// eval with the checkpoint reports the accuracy train reported.
	code, stdout, stderr = run(newSoftmaxModel(), "eval", "--data", data, "--checkpoint", ckDir, "--json")
	require.Equal(t, ExitOK, code, stderr)
	var ev map[string]any
	require.NoError(t, json.Unmarshal([]byte(lastLine(stdout)), &ev))
	require.Equal(t, res["test_accuracy"], ev["test_accuracy"])
	require.Equal(t, path, ev["checkpoint"])

	// Training afresh into the same directory is refused; resuming adds
	// the newer checkpoint, which eval then reads.
	code, stdout, stderr = run(newSoftmaxModel(), "train", "--data", data, "--steps", "35", "--batch", "20", "--checkpoint", ckDir)
	require.Equal(t, ExitError, code)
	require.Empty(t, stdout)
	require.Equal(t, "error: "+ckDir+" already holds checkpoints (the newest is "+path+"): add --resume to continue that run, or choose another directory\n", stderr)
	code, stdout, stderr = run(newSoftmaxModel(), "train", "--data", data, "--steps", "35", "--checkpoint", ckDir, "--resume")
	require.Equal(t, ExitOK, code, stderr)
	newer := filepath.Join(ckDir, "ckpt-35.safetensors")
	require.Contains(t, stdout, "resuming from "+path+" at step 30\n")
	require.Contains(t, stdout, "saved the checkpoint "+newer+"\n")
	f, err = checkpoint.Load(newer)
	require.NoError(t, err)
	require.Equal(t, "35", f.Metadata["step"])
	require.Equal(t, "20", f.Metadata["batch"], "the batch size is the resumed run's")
	entries, err := os.ReadDir(ckDir)
	require.NoError(t, err)
	require.Len(t, entries, 2, "no temporary files are left behind")
	code, stdout, stderr = run(newSoftmaxModel(), "eval", "--data", data, "--checkpoint", ckDir, "--json")
	require.Equal(t, ExitOK, code, stderr)
	require.NoError(t, json.Unmarshal([]byte(lastLine(stdout)), &ev))
	require.Equal(t, newer, ev["checkpoint"])
}

func TestCheckpointErrors(t *testing.T) {
	data := writeData(t)
	ckDir := t.TempDir()
	require.Equal(t, ExitOK, func() int {
		code, _, _ := run(newSoftmaxModel(), "train", "--data", data, "--steps", "3", "--batch", "10", "--quiet", "--checkpoint", ckDir)
		return code
	}())
	good, err := os.ReadFile(filepath.Join(ckDir, "ckpt-3.safetensors"))
	require.NoError(t, err)

	dir := t.TempDir()
	file := func(name string, b []byte) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, b, 0o644))
		return path
	}
	save := func(name string, params []runtime.Param, meta map[string]string) string {
		path := filepath.Join(dir, name)
		require.NoError(t, checkpoint.Save(path, params, meta))
		return path
	}
	param := func(name string, shape ...int) runtime.Param {
		n := 1
		for _, d := range shape {
			n *= d
		}
		return runtime.Param{Name: name, Shape: shape, Data: make([]float32, n)}
	}
	empty := t.TempDir()
	missing := filepath.Join(dir, "nope")

	truncated := file("truncated.safetensors", good[:len(good)-10])
	garbage := file("garbage.safetensors", []byte("this is not a checkpoint at all"))
	trailing := file("trailing.safetensors", append(append([]byte{}, good...), 0, 0, 0, 0))
	corrupt := append([]byte{}, good...)
	corrupt[8] = '[' // the header's opening brace
	corrupted := file("corrupted.safetensors", corrupt)
	// A W of F16 values, as another tool might write it: no checksums.
	hdr := `{"W":{"dtype":"F16","shape":[784,10],"data_offsets":[0,15680]},"b":{"dtype":"F32","shape":[10],"data_offsets":[15680,15720]}}`
	f16 := binary.LittleEndian.AppendUint64(nil, uint64(len(hdr)))
	f16 = append(append(f16, hdr...), make([]byte, 15720)...)
	unchecked := file("f16.safetensors", f16)
	wrongShape := save("shape.safetensors", []runtime.Param{param("W", 784, 20), param("b", 20)}, map[string]string{"model": "FakeSoftmax"})
	otherModel := save("mlp.safetensors", []runtime.Param{param("h1/W", 784, 32), param("h1/b", 32), param("out/W", 32, 10), param("out/b", 10)},
		map[string]string{"model": "MLP"})
	extra := save("extra.safetensors", []runtime.Param{param("W", 784, 10), param("b", 10), param("W/adam_m", 784, 10)}, nil)

	tests := []struct {
		name, arg, want string
	}{
		{"missing", missing, "error: checkpoint " + missing + " does not exist\n"},
		{"empty dir", empty, "error: " + empty + " holds no checkpoint: no ckpt-<step>.safetensors file (nor model.safetensors)\n"},
		{"truncated", truncated, "error: " + truncated + ": tensor b: data_offsets [31360, 31400] reach past the end of the data (31390 bytes): the file is truncated or corrupt\n"},
		{"garbage", garbage, "error: " + garbage + ": header length 2338328219631577204 exceeds the limit of 104857600 bytes; not a safetensors file, or corrupt\n"},
		{"trailing", trailing, "error: " + trailing + ": 4 bytes of trailing data after the last tensor\n"},
		{"corrupted", corrupted, "error: " + corrupted + ": the header does not start with '{'; not a safetensors file\n"},
		{"unchecked", unchecked, "error: " + unchecked + ": the header has no checksum (metadata crc32c_header): the file was not saved by flow, or its header is damaged; a checkpoint that cannot be verified is not loaded\n"},
		{"shape", wrongShape, "error: " + wrongShape + ": tensor W: shape [784 20] in file, model wants [784 10]\n"},
		{"other model", otherModel, "error: " + otherModel + ": the model's tensors W, b are not in the file (the checkpoint was saved by model MLP, this is model FakeSoftmax)\n"},
		{"extra tensor", extra, "error: " + extra + ": tensor W/adam_m in the file is not a parameter of the model\n"},
	}
	input := digitsJSON(t, 2)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, args := range [][]string{
				{"predict", "--checkpoint", tt.arg, "--input", input},
				{"eval", "--data", data, "--checkpoint", tt.arg},
			} {
				m := newSoftmaxModel()
				code, stdout, stderr := run(m, args...)
				require.Equal(t, ExitError, code, args)
				require.Empty(t, stdout)
				require.Equal(t, tt.want, stderr)
				requireZeroParams(t, m)
			}
		})
	}
}

// TestChangedCheckpointIsRefused changes a checkpoint the way a bad disk
// or a careless edit would: eval and predict refuse it, and so does a
// resumed run, naming the file; nothing is restored or trained.
func TestChangedCheckpointIsRefused(t *testing.T) {
	data := writeData(t)
	ckDir := t.TempDir()
	code, _, stderr := run(newSoftmaxModel(), "train", "--data", data, "--steps", "3", "--batch", "10", "--quiet", "--checkpoint", ckDir)
	require.Equal(t, ExitOK, code, stderr)
	good, err := os.ReadFile(filepath.Join(ckDir, "ckpt-3.safetensors"))
	require.NoError(t, err)
	n := int(binary.LittleEndian.Uint64(good))
	header := string(good[8 : 8+n])
	edit := func(b []byte, old, new string) {
		i := strings.Index(header, old)
		require.GreaterOrEqual(t, i, 0, old)
		copy(b[8+i:], new)
	}
	// The key of the tensor checksums renamed and the exponent of a bias
	// flipped: without the header's checksum this loaded as loss 1e35.
	keyAndBias := bytes.Clone(good)
	edit(keyAndBias, `"crc32c":`, `"crc32b":`)
	keyAndBias[len(keyAndBias)-1] ^= 0x40
	// A digit of the training state changed.
	loss := bytes.Clone(good)
	i := strings.Index(header, `"recent_loss":"`) + len(`"recent_loss":"`)
	loss[8+i] ^= 0x01 // '2' <-> '3', '0' <-> '1', ...
	for _, tt := range []struct {
		name string
		file []byte
	}{{"renamed key and bias", keyAndBias}, {"recent_loss digit", loss}} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "ckpt-3.safetensors")
			require.NoError(t, os.WriteFile(path, tt.file, 0o644))
			want := "error: " + path + ": the header is corrupted (its CRC-32C is "
			for _, args := range [][]string{
				{"eval", "--data", data, "--checkpoint", dir},
				{"predict", "--checkpoint", path, "--input", digitsJSON(t, 1)},
			} {
				m := newSoftmaxModel()
				code, stdout, stderr := run(m, args...)
				require.Equal(t, ExitError, code, args)
				require.Empty(t, stdout)
				require.True(t, strings.HasPrefix(stderr, want), stderr)
				requireZeroParams(t, m)
			}
			m := newSoftmaxModel()
			code, stdout, stderr := run(m, "train", "--data", data, "--steps", "6", "--quiet", "--checkpoint", dir, "--resume")
			require.Equal(t, ExitError, code)
			require.Empty(t, stdout)
			require.True(t, strings.HasPrefix(stderr, "error: cannot resume: "+path+": the header is corrupted (its CRC-32C is "), stderr)
			require.Zero(t, m.steps, "nothing trained")
		})
	}
}

func TestTrainCheckpointNotWritable(t *testing.T) {
	data := writeData(t)
	notDir := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(notDir, nil, 0o644))
	m := newSoftmaxModel()
	code, stdout, stderr := run(m, "train", "--data", data, "--steps", "3", "--batch", "10", "--checkpoint", notDir)
	require.Equal(t, ExitError, code)
	require.Equal(t, "error: --checkpoint: mkdir "+notDir+": not a directory\n", stderr)
	require.Empty(t, stdout, "it fails before training")
	require.Zero(t, m.steps)
}

func TestCheckpointLoadsElsewhere(t *testing.T) {
	// The saved file is standard safetensors: its header is JSON with the
	// tensors' dtype, shape and offsets, and the data is little-endian.
	data := writeData(t)
	ckDir := t.TempDir()
	m := newSoftmaxModel()
	code, _, stderr := run(m, "train", "--data", data, "--steps", "3", "--batch", "10", "--quiet", "--checkpoint", ckDir)
	require.Equal(t, ExitOK, code, stderr)
	raw, err := os.ReadFile(filepath.Join(ckDir, "ckpt-3.safetensors"))
	require.NoError(t, err)
	n := binary.LittleEndian.Uint64(raw)
	var hdr map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw[8:8+n], &hdr))
	var w struct {
		DType       string  `json:"dtype"`
		Shape       []int   `json:"shape"`
		DataOffsets []int64 `json:"data_offsets"`
	}
	require.NoError(t, json.Unmarshal(hdr["W"], &w))
	require.Equal(t, "F32", w.DType)
	require.Equal(t, []int{784, 10}, w.Shape)
	body := raw[8+n:]
	for i, v := range m.w {
		bits := binary.LittleEndian.Uint32(body[w.DataOffsets[0]+4*int64(i):])
		require.Equal(t, math.Float32bits(v), bits)
	}
}
