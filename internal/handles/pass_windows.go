package handles

import (
	"encoding/binary"
	"fmt"
	"os"

	"golang.org/x/sys/windows"

	"github.com/go-mp/mp/internal/bootstrap"
)

// Send duplicates files into the child process and sends the child's
// handle values on ch, the boot pipe, as one KindHandles frame. withProc
// runs its function with the child's process handle (with
// PROCESS_DUP_HANDLE access) while that handle is valid. The duplicates
// are not inheritable: programs the child starts do not get them. If Send
// fails, the caller ends the child, and with it what was duplicated into
// it.
func Send(ch *os.File, withProc func(func(proc uintptr) error) error, files []*os.File) error {
	if len(files) == 0 {
		return nil
	}
	vals := make([]byte, 0, 4*len(files))
	err := withProc(func(proc uintptr) error {
		for _, f := range files {
			rc, err := f.SyscallConn()
			if err != nil {
				return fmt.Errorf("passing %s: %w", f.Name(), err)
			}
			var dup windows.Handle
			var derr error
			if err := rc.Control(func(h uintptr) {
				derr = windows.DuplicateHandle(windows.CurrentProcess(), windows.Handle(h), windows.Handle(proc),
					&dup, 0, false, windows.DUPLICATE_SAME_ACCESS)
			}); err != nil {
				return fmt.Errorf("passing %s: %w", f.Name(), err)
			}
			if derr != nil {
				return fmt.Errorf("passing %s: %w", f.Name(), os.NewSyscallError("DuplicateHandle", derr))
			}
			vals = binary.AppendUvarint(vals, uint64(dup))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return bootstrap.WriteFrame(ch, bootstrap.KindHandles, vals)
}

// Receive reads the handle values of the n files that Send passed, from
// the KindHandles frame on ch.
func Receive(ch *os.File, n int) ([]*os.File, error) {
	if n == 0 {
		return nil, nil
	}
	if n < 0 || n > MaxFiles {
		return nil, fmt.Errorf("mp: receiving %d passed files: too many", n)
	}
	kind, p, err := bootstrap.ReadFrame(ch, binary.MaxVarintLen64*n)
	if err == nil && kind != bootstrap.KindHandles {
		err = fmt.Errorf("%w: a %q frame, not the passed handles", bootstrap.ErrBadFrame, kind)
	}
	if err != nil {
		return nil, fmt.Errorf("mp: receiving passed files: %w", err)
	}
	files := make([]*os.File, 0, n)
	for len(p) > 0 && len(files) < n {
		h, k := binary.Uvarint(p)
		if k <= 0 {
			break
		}
		p = p[k:]
		files = append(files, os.NewFile(uintptr(h), "mp-passed"))
	}
	if len(files) != n || len(p) != 0 {
		return nil, fmt.Errorf("mp: receiving passed files: %w: %d handles for %d files", bootstrap.ErrBadFrame, len(files), n)
	}
	return files, nil
}
