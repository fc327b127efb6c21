package mp

import (
	"os"

	"golang.org/x/sys/windows"
)

// pipeSize is the buffer of the pipes newPipe creates: os.Pipe's default
// is one page, which makes a Conn's large messages cost a context switch
// every 4 KiB.
const pipeSize = 64 << 10

// newPipe returns an anonymous pipe with a 64 KiB buffer.
func newPipe() (r, w *os.File, err error) {
	var rh, wh windows.Handle
	if err := windows.CreatePipe(&rh, &wh, nil, pipeSize); err != nil {
		return nil, nil, os.NewSyscallError("CreatePipe", err)
	}
	return os.NewFile(uintptr(rh), "|0"), os.NewFile(uintptr(wh), "|1"), nil
}
