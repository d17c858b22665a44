package mnist

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// writeDir writes a synthetic data set in the standard layout.
func writeDir(t *testing.T, nTrain, nTrainLabels, nTest int, rows, cols uint32) string {
	t.Helper()
	dir := t.TempDir()
	size := int(rows * cols)
	write := func(name string, data []byte) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), gz(t, data), 0o644))
	}
	labels := func(n int) []byte {
		l := make([]byte, n)
		for i := range l {
			l[i] = byte(i % 10)
		}
		return l
	}
	write(TrainImagesFile, imageBytes(ImageMagic, uint32(nTrain), rows, cols, seq(nTrain*size)))
	write(TrainLabelsFile, labelBytes(LabelMagic, uint32(nTrainLabels), labels(nTrainLabels)))
	write(TestImagesFile, imageBytes(ImageMagic, uint32(nTest), rows, cols, seq(nTest*size)))
	write(TestLabelsFile, labelBytes(LabelMagic, uint32(nTest), labels(nTest)))
	return dir
}

func TestLoad(t *testing.T) {
	dir := writeDir(t, 20, 20, 5, 4, 3)
	ds, err := Load(dir)
	require.NoError(t, err)
	require.Equal(t, 20, ds.Train.Len())
	require.Equal(t, 5, ds.Test.Images.N)
	require.Equal(t, 4, ds.Test.Images.Rows)
	require.Equal(t, 3, ds.Test.Images.Cols)
	require.Equal(t, uint8(7), ds.Train.Labels[17])
}

func TestLoadCountMismatch(t *testing.T) {
	dir := writeDir(t, 20, 19, 5, 4, 3)
	_, err := Load(dir)
	require.EqualError(t, err, dir+": train-images-idx3-ubyte.gz holds 20 images but train-labels-idx1-ubyte.gz holds 19 labels")
}

func TestLoadMissingFile(t *testing.T) {
	dir := writeDir(t, 2, 2, 2, 2, 2)
	require.NoError(t, os.Remove(filepath.Join(dir, TestImagesFile)))
	_, err := Load(dir)
	require.ErrorIs(t, err, os.ErrNotExist)
	require.Contains(t, err.Error(), TestImagesFile)
}

func TestFindDir(t *testing.T) {
	dir := writeDir(t, 2, 2, 2, 2, 2)

	got, err := FindDir(dir)
	require.NoError(t, err)
	require.Equal(t, dir, got)

	t.Setenv(EnvVar, dir)
	got, err = FindDir("")
	require.NoError(t, err)
	require.Equal(t, dir, got)

	// An explicit directory wins over the environment.
	other := t.TempDir()
	_, err = FindDir(other)
	require.Error(t, err)
	require.Contains(t, err.Error(), "MNIST data directory "+other+" (from --data) is missing "+strings.Join(Files, ", "))
	for _, way := range []string{"--data DIR", "$FLOW_DATA", "go mod download " + GoMNISTModule + "@" + GoMNISTVersion} {
		require.Contains(t, err.Error(), way)
	}

	require.NoError(t, os.Remove(filepath.Join(dir, TrainLabelsFile)))
	_, err = FindDir("")
	require.Error(t, err)
	require.Contains(t, err.Error(), "(from $FLOW_DATA) is missing train-labels-idx1-ubyte.gz;")

	_, err = FindDir(filepath.Join(dir, TrainImagesFile))
	require.ErrorContains(t, err, "is not a directory")

	_, err = FindDir(filepath.Join(dir, "absent"))
	require.ErrorContains(t, err, "no such file or directory")
}

func TestParseDownload(t *testing.T) {
	dir, err := parseDownload([]byte(`{"Path":"m","Dir":"/cache/m@v"}`), "", nil)
	require.NoError(t, err)
	require.Equal(t, filepath.Join("/cache/m@v", "data"), dir)

	_, err = parseDownload([]byte(`{"Path":"m","Error":"m@v: reading https://proxy: 403 Forbidden\n\tserver response: gone"}`), "", os.ErrPermission)
	require.EqualError(t, err, "go mod download failed: m@v: reading https://proxy: 403 Forbidden server response: gone")

	_, err = parseDownload(nil, "go: cannot find main module\n", os.ErrInvalid)
	require.EqualError(t, err, "go mod download failed: go: cannot find main module")

	_, err = parseDownload([]byte("not json"), "", nil)
	require.ErrorContains(t, err, "go mod download printed unreadable output")

	_, err = parseDownload([]byte(`{}`), "", nil)
	require.EqualError(t, err, "go mod download did not report a module directory")
}

// TestRealData loads the real MNIST files when they can be found.
func TestRealData(t *testing.T) {
	if testing.Short() {
		t.Skip("loading 55 MB of MNIST data in -short mode")
	}
	t.Setenv(EnvVar, "")
	dir, err := FindDir("")
	if err != nil {
		t.Skipf("MNIST data not available: %v", err)
	}
	ds, err := Load(dir)
	require.NoError(t, err)
	require.Equal(t, 60000, ds.Train.Len())
	require.Equal(t, 60000, ds.Train.Images.N)
	require.Equal(t, 10000, ds.Test.Len())
	for _, im := range []*Images{ds.Train.Images, ds.Test.Images} {
		require.Equal(t, 28, im.Rows)
		require.Equal(t, 28, im.Cols)
	}
	// The first training digit of MNIST is a 5, the first test digit a 7.
	require.Equal(t, uint8(5), ds.Train.Labels[0])
	require.Equal(t, uint8(7), ds.Test.Labels[0])
}
