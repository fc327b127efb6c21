package mp

import (
	"fmt"
	"os"
	"sync"

	"github.com/go-mp/mp/internal/wire"
)

// Connections and queues cross into a child as inherited files. Start
// encodes the arguments with the value codec (internal/wire), which gives
// an encoder no context, so Start opens a collection under passing's write
// lock, the MarshalBinary methods of Conn and Queue add their files to it
// and encode only indices, and Start passes the files to the child (as fds
// 5, 6, ... on Unix, as inherited handles on Windows). The child installs
// them before it decodes its arguments, and UnmarshalBinary maps the
// indices back.
// Send and Put hold passing's read lock while they encode, so that a
// value they carry can never land in a collection.
var passing struct {
	sync.RWMutex
	active bool
	files  []*os.File
	index  map[*os.File]int
}

// collectFiles runs encode with a collection open and returns the files
// it collected.
func collectFiles(encode func() error) ([]*os.File, error) {
	passing.Lock()
	defer passing.Unlock()
	passing.active, passing.files, passing.index = true, nil, map[*os.File]int{}
	err := encode()
	files := passing.files
	passing.active, passing.files, passing.index = false, nil, nil
	return files, err
}

// passFile adds f to the open collection and returns its index. Only
// MarshalBinary methods call it, on the goroutine that runs collectFiles.
func passFile(f *os.File) (int, error) {
	if !passing.active {
		return 0, fmt.Errorf("%w: connections and queues can only be carried to a child, as an argument of Process or a field of a Runner",
			ErrNotPassable)
	}
	if i, ok := passing.index[f]; ok {
		return i, nil
	}
	passing.files = append(passing.files, f)
	passing.index[f] = len(passing.files) - 1
	return len(passing.files) - 1, nil
}

// inherited holds the files a child was given, by index.
var inherited struct {
	sync.Mutex
	files []*os.File
}

// inheritFiles installs the files named in the bootstrap.
func inheritFiles(hs []uint64) {
	inherited.Lock()
	defer inherited.Unlock()
	for _, h := range hs {
		inherited.files = append(inherited.files, newInheritedFile(uintptr(h)))
	}
}

// inheritedFile returns the i-th inherited file.
func inheritedFile(i int) (*os.File, error) {
	inherited.Lock()
	defer inherited.Unlock()
	if i < 0 || i >= len(inherited.files) || inherited.files[i] == nil {
		return nil, fmt.Errorf("%w: file %d was not passed to this process", ErrNotPassable, i)
	}
	return inherited.files[i], nil
}

// appendFiles hands files to the child being started and writes their
// indices in its inherited files (-1 for nil) to w: how a Conn or a queue
// encodes its pipes. It returns what w holds.
func appendFiles(w *wire.Writer, files ...*os.File) ([]byte, error) {
	for _, f := range files {
		i := -1
		if f != nil {
			var err error
			if i, err = passFile(f); err != nil {
				return nil, err
			}
		}
		w.Int(int64(i))
	}
	return w.B, nil
}

// readFile reads an index that appendFiles wrote and returns the
// inherited file; nil for -1.
func readFile(d *wire.Reader) *os.File {
	i := d.Int()
	if d.Err != nil || i == -1 {
		return nil
	}
	if i < 0 || i > 1<<20 {
		d.Fail("file index")
		return nil
	}
	f, err := inheritedFile(int(i))
	if err != nil && d.Err == nil {
		d.Err = err
	}
	return f
}
